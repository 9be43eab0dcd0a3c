"""Reading user images (uploads, camera snapshots, files) into BGR frames, whatever their form.

Pillow reads the formats and modes people actually have (CMYK JPEGs, 16-bit PNGs, palettes,
alpha, EXIF rotation); everything becomes 8-bit BGR of a bounded size, or an ImageError whose
message can be shown to the user as it is.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PIXELS = 120_000_000  # a 12000x9000 photo still opens; bigger images are refused
MAX_SIDE = 1920  # larger images are shrunk: detection cost grows with area, faces stay findable
MAX_BYTES = 50 * 1024 * 1024


class ImageError(ValueError):
    """An image that cannot be used, with a message fit to show to the user."""


def read_image(data: bytes, name: str = "image") -> np.ndarray:
    """Encoded image bytes as an upright 8-bit BGR array whose longer side is at most MAX_SIDE."""
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
            image = ImageOps.exif_transpose(image)
            image = _to_rgb(image)
    except Image.DecompressionBombError:
        raise ImageError(f"{name} has far too many pixels; the limit is {MAX_PIXELS // 1_000_000} megapixels") from None
    except UnidentifiedImageError:
        raise ImageError(f"{name} is not an image this app can read (JPEG, PNG, WebP, BMP, GIF or TIFF)") from None
    except (OSError, SyntaxError, ValueError) as error:
        if isinstance(error, ImageError):
            raise
        raise ImageError(f"{name} could not be decoded; the file may be damaged ({error})") from None
    if max(image.size) > MAX_SIDE:
        image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    rgb = np.asarray(image, dtype=np.uint8)
    return np.ascontiguousarray(rgb[:, :, ::-1])


def _to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB from any mode; transparent areas become white, as a viewer would show them."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        pixels = np.asarray(image, dtype=np.float64)
        top = 65535.0 if pixels.max() > 255 else 255.0
        image = Image.fromarray(np.clip(pixels / top * 255.0, 0, 255).astype(np.uint8), "L")
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image.convert("RGBA"))
    return image.convert("RGB")
