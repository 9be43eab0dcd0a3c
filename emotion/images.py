"""Reading user images (uploads, camera snapshots, files) into BGR frames, whatever their form.

Pillow reads the formats and modes people actually have (CMYK JPEGs, 16-bit PNGs, palettes,
alpha, EXIF rotation); everything becomes 8-bit BGR of a bounded size, or an ImageError whose
message can be shown to the user as it is.

Memory: the server runs on a 512 MB dyno, so no upload is ever decoded whole when that would be
large. JPEGs decode straight at a reduced scale (libjpeg's DCT scaling, Pillow's draft()); 8-bit PNGs,
the other common kind of large photo, are decoded a strip of rows at a time; any other image whose
full decode would take more than DECODE_BUDGET is refused, before decoding, with a message saying what to do.
"""

from __future__ import annotations

import io
import math
import struct
import warnings
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from PIL import ExifTags, Image, UnidentifiedImageError

MAX_PIXELS = 120_000_000  # a 12000x9000 photo still opens; bigger images are refused
MAX_SIDE = 1920  # larger images are shrunk: detection cost grows with area, faces stay findable
MAX_BYTES = 50 * 1024 * 1024
# The most one whole decode may take in Pillow (4 bytes a pixel for RGB and RGBA, 2 for 16-bit grey,
# 1 for grey and palettes): 32 MiB is 8.4 megapixels of RGB. The worst upload it lets through, an RGBA
# TIFF decoded at exactly this budget (a whole-size RGB copy follows) whose file is near the upload
# limit (Streamlit holds the file too), must keep a cold server within a 512 MB dyno: measured with
# `python bench/upload_memory.py --kind whole --real-server` (bench/README.md); at 64 MiB it went over.
# JPEGs and 8-bit PNGs, nearly every large photo, never decode whole, so only rarer kinds meet it.
DECODE_BUDGET = 32 * 2**20
# A large image is first shrunk by a whole factor (box averages) to no less than MAX_SIDE, then
# resampled (Lanczos) to MAX_SIDE. Pillow's thumbnail() keeps twice the target (reducing_gap 2.0), for
# sharper downscaling than faces need; a gap of 1 keeps the reduced copy small: 2000x1500 (12 MB in
# Pillow) for a 12000x9000 photo, 1991x1991 (16 MB) rather than a whole-size copy for a 3982x3982 one.
REDUCING_GAP = 1.0
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
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# PNG colour types decoded in strips at 8 bits, with their bytes a pixel: grey, RGB, palette, grey
# and alpha, RGBA. Pillow holds each of them, decoded, in the PNG's own bytes, so a strip's last row
# can start the next strip (PNG's row filters refer to the row above).
STRIP_PNG_BYTES = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
STRIP_PNG_CHUNKS = (b"PLTE", b"tRNS")  # what each strip needs besides its rows: the palette and transparency


class ImageError(ValueError):
    """An image that cannot be used, with a message fit to show to the user."""


def read_image(data: bytes, name: str = "image") -> np.ndarray:
    """Encoded image bytes as an upright 8-bit BGR array whose longer side is at most MAX_SIDE.

    Nothing is decoded at full size that would take more than DECODE_BUDGET: a JPEG decodes at a
    reduced scale, an 8-bit PNG a strip at a time, anything else that large is refused with a message
    saying what to do. Mode conversion, alpha and the first reduction work strip by strip onto a reduced
    copy, so one upload costs little more than its largest decode.
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
            if image.format in ("JPEG", "MPO"):
                image.draft("RGB", _draft_size(image.size))  # decoded straight at 1/2, 1/4 or 1/8 of its size
            layout = png_layout(data) if image.format == "PNG" else None
            if decoded_bytes(image) <= DECODE_BUDGET:
                image.load()
                orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
                if image.mode != "RGB" or _factor(image.size) > 1:  # an RGB image kept at its size needs no copy
                    image = _reduced_rgb(image.size, _crops(image), _levels(image))
            elif layout is not None:
                orientation = layout.orientation()
                image = _reduced_rgb(image.size, _png_strips(layout, name))
            else:
                raise ImageError(_too_large(image, data, name))
    except Image.DecompressionBombError:
        raise ImageError(f"{name} has far too many pixels; the limit is {MAX_PIXELS // 1_000_000} megapixels") from None
    except UnidentifiedImageError:
        raise ImageError(f"{name} is not an image this app can read (JPEG, PNG, WebP, BMP, GIF or TIFF)") from None
    except (OSError, SyntaxError, ValueError, zlib.error) as error:
        if isinstance(error, ImageError):
            raise
        raise ImageError(f"{name} could not be decoded; the file may be damaged ({error})") from None
    if orientation in EXIF_TRANSPOSE:
        image = image.transpose(EXIF_TRANSPOSE[orientation])
    if max(image.size) > MAX_SIDE:
        image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    rgb = np.asarray(image, dtype=np.uint8)
    return np.ascontiguousarray(rgb[:, :, ::-1])


def decoded_bytes(image: Image.Image) -> int:
    """What decoding `image` whole would take in Pillow, from its header: the figure DECODE_BUDGET bounds."""
    if image.mode in ("1", "L", "P"):
        per_pixel = 1
    elif image.mode.startswith("I;16"):
        per_pixel = 2
    else:
        per_pixel = 4  # RGB is held as RGBX; LA, RGBA, CMYK, 32-bit grey
    return image.width * image.height * per_pixel


def _draft_size(size: tuple[int, int]) -> tuple[int, int]:
    """The size to ask draft() for: the image scaled to MAX_SIDE on its longer side, so that libjpeg
    decodes at the smallest scale still at least that large (a wide panorama shrinks as much as a square photo)."""
    scale = MAX_SIDE / max(size)
    return max(1, math.ceil(size[0] * scale)), max(1, math.ceil(size[1] * scale))


def _too_large(image: Image.Image, data: bytes, name: str) -> str:
    """Why a large image that could only be decoded whole is refused, and what to do about it."""
    kind = f"a {image.format} file" if image.format else "a file of this kind"
    header = png_header(data) if image.format == "PNG" else None
    if header is not None:
        depth, interlaced = header[2], header[4] != 0
        kind = "an interlaced PNG" if interlaced else f"a {depth}-bit PNG"
    megapixels = DECODE_BUDGET / (decoded_bytes(image) / (image.width * image.height)) / 1_000_000
    return (
        f"{name} is {image.width}x{image.height} pixels: too large for this server to open as {kind} "
        f"(at most {megapixels:.0f} megapixels). Save it as a JPEG, or smaller, and try again."
    )


def _reduced_rgb(size: tuple[int, int], strips: Iterator[tuple[int, Image.Image]], levels: float = 255.0) -> Image.Image:
    """8-bit RGB, shrunk by a whole factor (box averages) where the image is far larger than MAX_SIDE.

    Strip by strip (`strips` yields each strip's top row and the strip, reduce_rows(size) rows each):
    only a strip is ever converted (alpha, palettes, 16 bits) at full size, where converting the whole
    image would copy it several times over.
    """
    width, height = size
    factor = _factor(size)
    reduced = Image.new("RGB", (-(-width // factor), -(-height // factor)))
    for top, strip in strips:
        rgb = _to_rgb(strip, levels)
        reduced.paste(rgb.reduce(factor) if factor > 1 else rgb, (0, top // factor))
    return reduced


def _factor(size: tuple[int, int]) -> int:
    return max(1, int(max(size) / (MAX_SIDE * REDUCING_GAP)))


def reduce_rows(size: tuple[int, int]) -> int:
    """Rows per strip: about STRIP_PIXELS, and a whole number of the reduction's factor."""
    factor = _factor(size)
    return factor * max(1, STRIP_PIXELS // (size[0] * factor))


def _crops(image: Image.Image) -> Iterator[tuple[int, Image.Image]]:
    """A decoded image in strips of reduce_rows rows."""
    rows = reduce_rows(image.size)
    for top in range(0, image.height, rows):
        yield top, image.crop((0, top, image.width, min(image.height, top + rows)))


@dataclass(frozen=True)
class PngLayout:
    """What decoding an 8-bit, non-interlaced PNG in strips needs: its header and chunks, found without decoding."""

    width: int
    height: int
    colour: int  # the PNG colour type, a key of STRIP_PNG_BYTES
    chunks: bytes  # PLTE and tRNS, as they are in the file
    data: tuple[memoryview, ...]  # the IDAT chunks' contents: one zlib stream
    exif: bytes | None

    def orientation(self) -> int:
        """The EXIF orientation of its eXIf chunk (1, upright, without one)."""
        if self.exif is None:
            return 1
        exif = Image.Exif()
        exif.load(self.exif)
        return int(exif.get(ExifTags.Base.Orientation, 1))


def png_header(data: bytes) -> tuple[int, int, int, int, int] | None:
    """A PNG's width, height, bit depth, colour type and interlace method, from its IHDR chunk (None if not a PNG)."""
    if data[:8] != PNG_SIGNATURE or data[12:16] != b"IHDR" or len(data) < 29:
        return None
    width, height, depth, colour, _compression, _filter, interlace = struct.unpack(">IIBBBBB", data[16:29])
    return width, height, depth, colour, interlace


def png_layout(data: bytes) -> PngLayout | None:
    """The layout of a PNG that can be decoded in strips (8-bit, not interlaced), else None (decoded
    whole, within DECODE_BUDGET, or refused); chunks are walked, not decoded, and not checked: Pillow
    checks each strip as it decodes it."""
    header = png_header(data)
    if header is None:
        return None
    width, height, depth, colour, interlace = header
    if depth != 8 or interlace != 0 or colour not in STRIP_PNG_BYTES:
        return None
    view = memoryview(data)
    chunks, idat, exif, at = [], [], None, 8
    while at + 12 <= len(view):
        (length,) = struct.unpack(">I", view[at : at + 4])
        kind, end = bytes(view[at + 4 : at + 8]), at + 12 + length
        if kind in STRIP_PNG_CHUNKS:
            chunks.append(bytes(view[at:end]))
        elif kind == b"IDAT":
            idat.append(view[at + 8 : end - 4])
        elif kind == b"eXIf":
            exif = bytes(view[at + 8 : end - 4])
        elif kind == b"IEND":
            break
        at = end
    if not idat:
        return None
    return PngLayout(width, height, colour, b"".join(chunks), tuple(idat), exif)


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(body, zlib.crc32(kind)))


def _png_strips(layout: PngLayout, name: str) -> Iterator[tuple[int, Image.Image]]:
    """The PNG's rows, reduce_rows at a time, each strip decoded by Pillow as a small PNG of its own.

    The image data is inflated here, a strip's worth at a time; each strip's PNG holds its rows as they
    are filtered in the file, after the row above it unfiltered (filter type 0, stored), which its
    first row's filter refers to. Stored without compression: a strip's PNG is only ever read back.
    """
    size = (layout.width, layout.height)
    rows, row_bytes = reduce_rows(size), 1 + layout.width * STRIP_PNG_BYTES[layout.colour]
    inflate, pieces = zlib.decompressobj(), iter(layout.data)
    pending: bytes | memoryview = b""
    above: bytes | None = None  # the last row decoded, unfiltered
    for top in range(0, layout.height, rows):
        count = min(rows, layout.height - top)
        wanted, parts = count * row_bytes, []
        while wanted > 0 and not inflate.eof:
            if not pending:
                pending = next(pieces, b"")
                if not pending:
                    break
            part = inflate.decompress(pending, wanted)
            pending = inflate.unconsumed_tail
            parts.append(part)
            wanted -= len(part)
        if wanted > 0:
            raise ImageError(f"{name} could not be decoded; the file may be damaged (its image data ends after {top} rows)")
        first = above is None
        lead = b"" if above is None else b"\x00" + above
        header = struct.pack(">IIBBBBB", layout.width, count + (not first), 8, layout.colour, 0, 0, 0)
        rows_data = zlib.compress(lead + b"".join(parts), 0)
        strip_png = b"".join(
            (PNG_SIGNATURE, _png_chunk(b"IHDR", header), layout.chunks, _png_chunk(b"IDAT", rows_data), _png_chunk(b"IEND", b""))
        )
        strip = Image.open(io.BytesIO(strip_png))
        strip.load()
        above = strip.crop((0, strip.height - 1, strip.width, strip.height)).tobytes()
        yield top, strip if first else strip.crop((0, 1, strip.width, strip.height))


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
