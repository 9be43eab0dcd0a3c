"""Reading user images (uploads, camera snapshots, files) into BGR frames, whatever their form.

Pillow reads the formats and modes people actually have (CMYK JPEGs, 16-bit PNGs, palettes,
alpha, EXIF rotation); everything becomes 8-bit BGR of a bounded size, or an ImageError whose
message can be shown to the user as it is.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import ExifTags, Image, UnidentifiedImageError

MAX_PIXELS = 120_000_000  # a 12000x9000 photo still opens; bigger images are refused
MAX_SIDE = 1920  # larger images are shrunk: detection cost grows with area, faces stay findable
MAX_BYTES = 50 * 1024 * 1024
# A large image is first shrunk by a whole factor (box averages) to at least this many times MAX_SIDE,
# then resampled (Lanczos) to MAX_SIDE: Pillow's thumbnail() does the same with 2.0; 1.5 keeps the
# reduced copy of a 12000x9000 photo at 3000x2250 (27 MB in Pillow), within the bound tests/test_inputs.py sets.
REDUCING_GAP = 1.5
STRIP_PIXELS = 250_000  # converted at full size at a time: 1 MB of RGBA
WIDE_GREY = ("I;16", "I;16B", "I;16L", "I")
EXIF_TRANSPOSE = {  # EXIF orientation: the turn that makes the image upright (as ImageOps.exif_transpose)
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


class ImageError(ValueError):
    """An image that cannot be used, with a message fit to show to the user."""


def read_image(data: bytes, name: str = "image") -> np.ndarray:
    """Encoded image bytes as an upright 8-bit BGR array whose longer side is at most MAX_SIDE.

    The image is decoded once; everything after that (mode conversion, alpha, the first reduction)
    works strip by strip onto a reduced copy, so one upload costs its decoded size and little more.
    """
    if not data:
        raise ImageError(f"{name} is empty")
    if len(data) > MAX_BYTES:
        raise ImageError(f"{name} is {len(data) / 2**20:.0f} MB; the limit is {MAX_BYTES // 2**20} MB")
    try:
        with warnings.catch_warnings():
            # The pixel count is checked below, against our own limit, before anything is decoded.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image: Image.Image = Image.open(io.BytesIO(data))
            if image.width * image.height > MAX_PIXELS:
                raise ImageError(
                    f"{name} is {image.width}x{image.height} pixels; the limit is {MAX_PIXELS // 1_000_000} megapixels"
                )
            image.draft("RGB", (MAX_SIDE, MAX_SIDE))  # JPEGs decode straight at a reduced size
            image.load()
            orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
            image = _reduced_rgb(image)
    except Image.DecompressionBombError:
        raise ImageError(f"{name} has far too many pixels; the limit is {MAX_PIXELS // 1_000_000} megapixels") from None
    except UnidentifiedImageError:
        raise ImageError(f"{name} is not an image this app can read (JPEG, PNG, WebP, BMP, GIF or TIFF)") from None
    except (OSError, SyntaxError, ValueError) as error:
        if isinstance(error, ImageError):
            raise
        raise ImageError(f"{name} could not be decoded; the file may be damaged ({error})") from None
    if orientation in EXIF_TRANSPOSE:
        image = image.transpose(EXIF_TRANSPOSE[orientation])
    if max(image.size) > MAX_SIDE:
        image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    rgb = np.asarray(image, dtype=np.uint8)
    return np.ascontiguousarray(rgb[:, :, ::-1])


def _reduced_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB, shrunk by a whole factor (box averages) where the image is far larger than MAX_SIDE.

    Strip by strip: only a strip is ever converted (alpha, palettes, 16 bits) at full size, where
    converting the whole image would copy it several times over.
    """
    width, height = image.size
    factor = max(1, int(max(width, height) / (MAX_SIDE * REDUCING_GAP)))
    levels = _levels(image)
    reduced = Image.new("RGB", (-(-width // factor), -(-height // factor)))
    rows = factor * max(1, STRIP_PIXELS // (width * factor))
    for top in range(0, height, rows):
        strip = _to_rgb(image.crop((0, top, width, min(height, top + rows))), levels)
        reduced.paste(strip.reduce(factor) if factor > 1 else strip, (0, top // factor))
    return reduced


def _levels(image: Image.Image) -> float:
    """The white level of a 16- or 32-bit grey image: 65535 where any value is over 255, else 255."""
    if image.mode not in WIDE_GREY:
        return 255.0
    extrema = image.getextrema()
    assert isinstance(extrema[1], (int, float))
    return 65535.0 if extrema[1] > 255 else 255.0


def _to_rgb(image: Image.Image, levels: float = 255.0) -> Image.Image:
    """8-bit RGB from any mode; transparent areas become white, as a viewer would show them."""
    if image.mode in WIDE_GREY:
        pixels = np.asarray(image, dtype=np.float32)
        image = Image.fromarray(np.clip(pixels / levels * 255.0, 0, 255).astype(np.uint8), "L")
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image.convert("RGBA"))
    return image.convert("RGB")
