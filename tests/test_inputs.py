"""Bad and odd input: every case gives a clear message or a correct result, never a traceback."""

from __future__ import annotations

import io
import warnings

import cv2
import numpy as np
import pytest
from PIL import Image

from emotion.classifier import EmotionClassifier, ModelError
from emotion.images import MAX_SIDE, ImageError, read_image
from tests.support.files import BUNDLED_TFLITE, TEST_DATA, run_probe, write_large_png

PEAK_PROBE = """
import re, sys
from pathlib import Path
from emotion.images import read_image

def status_bytes(key):
    return int(re.search(key + r":\\s+(\\d+) kB", Path("/proc/self/status").read_text()).group(1)) * 1024

data = Path(sys.argv[1]).read_bytes()
before = status_bytes("VmRSS")
image = read_image(data, "large.png")
print(image.shape[1], image.shape[0], status_bytes("VmHWM") - before)
"""


def encode(image: Image.Image, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def obama() -> Image.Image:
    return Image.open(TEST_DATA / "facerec_obama.jpg").convert("RGB")


def test_plain_jpeg_becomes_bgr(obama):
    image = read_image(encode(obama, "JPEG"))
    assert image.shape == (obama.height, obama.width, 3) and image.dtype == np.uint8
    r, _g, b = obama.getpixel((400, 300))
    assert abs(int(image[300, 400, 2]) - r) < 12 and abs(int(image[300, 400, 0]) - b) < 12  # channels are BGR


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "is empty"),
        (b"\xff\xd8\xff\xe0 truncated jpeg", "not an image this app can read|could not be decoded"),
        (b"%PDF-1.4 this is a pdf renamed to .jpg", "not an image this app can read"),
    ],
)
def test_unusable_bytes_give_a_message(data, message):
    with pytest.raises(ImageError, match=message):
        read_image(data, "upload.jpg")


def test_truncated_real_jpeg(obama):
    data = encode(obama, "JPEG")
    with pytest.raises(ImageError, match=r"upload\.jpg"):
        read_image(data[: len(data) // 3], "upload.jpg")


def test_png_with_alpha_is_composited_on_white(obama):
    rgba = obama.convert("RGBA")
    rgba.putalpha(Image.new("L", obama.size, 0))
    image = read_image(encode(rgba, "PNG"))
    assert image.shape[2] == 3 and image.min() == 255


def test_sixteen_bit_png_keeps_its_levels():
    ramp = (np.arange(256, dtype=np.uint16)[None, :].repeat(16, axis=0)) * 257
    image = read_image(encode(Image.fromarray(ramp), "PNG"))
    assert image.shape == (16, 256, 3)
    assert image[0, 0, 0] == 0 and image[0, 255, 0] == 255 and abs(int(image[0, 128, 0]) - 128) <= 1


def test_grey_and_cmyk_jpegs(obama):
    assert read_image(encode(obama.convert("L"), "JPEG")).shape[2] == 3
    cmyk = read_image(encode(obama.convert("CMYK"), "JPEG"))
    assert cmyk.shape == (obama.height, obama.width, 3)
    assert abs(float(cmyk.mean()) - float(np.asarray(obama).mean())) < 20


def test_exif_rotation_is_applied(obama):
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: the viewer turns it 90 degrees clockwise
    rotated = obama.transpose(Image.Transpose.ROTATE_90)
    image = read_image(encode(rotated, "JPEG", exif=exif.tobytes()))
    assert image.shape[:2] == (obama.height, obama.width)


def test_huge_image_is_shrunk_and_tiny_image_is_kept():
    big = Image.new("RGB", (12000, 9000), (120, 130, 140))
    image = read_image(encode(big, "JPEG", quality=50))
    assert max(image.shape[:2]) == MAX_SIDE and image.shape[1] / image.shape[0] == pytest.approx(4 / 3, abs=0.01)
    assert read_image(encode(Image.new("RGB", (1, 1)), "PNG")).shape == (1, 1, 3)


def test_decompression_bomb_is_refused():
    bomb = encode(Image.new("1", (20000, 20000)), "PNG")  # a few kB that would unpack to 400 megapixels
    with pytest.raises(ImageError, match="megapixels"):
        read_image(bomb, "bomb.png")


def test_pipeline_on_a_one_pixel_image(models):
    from emotion.pipeline import analyze_frame

    assert analyze_frame(read_image(encode(Image.new("RGB", (1, 1)), "PNG")), models).faces == []


def test_missing_model_file_says_how_to_fix_it(tmp_path):
    with pytest.raises(ModelError, match=r"not found.*python -m emotion.training.train"):
        EmotionClassifier(tmp_path / "missing.tflite")


def test_truncated_model_file(tmp_path):
    broken = tmp_path / "broken.tflite"
    broken.write_bytes(BUNDLED_TFLITE.read_bytes()[:5000])
    with pytest.raises(ModelError, match="not a valid LiteRT model"):
        EmotionClassifier(broken)


def test_wrong_shaped_model_file(tmp_path):
    keras = pytest.importorskip("keras")
    from emotion.training.export import export_tflite

    wrong = keras.Sequential([keras.Input((64, 64, 3)), keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(5)])
    path = export_tflite(wrong, tmp_path / "wrong.tflite")
    with pytest.raises(ModelError, match=r"takes \(64, 64, 3\).*needs \(48, 48, 1\)"):
        EmotionClassifier(path)


def test_classifier_batches_of_any_size():
    classifier = EmotionClassifier(BUNDLED_TFLITE)
    faces = np.random.default_rng(0).random((12, 48, 48, 1), dtype=np.float32)
    batched = classifier.predict(faces)
    one_by_one = np.concatenate([classifier.predict(faces[i : i + 1]) for i in range(12)])
    assert batched.shape == (12, 7) and np.allclose(batched, one_by_one, atol=1e-5)
    assert classifier.predict(np.empty((0, 48, 48, 1), np.float32)).shape == (0, 7)


def test_odd_image_shapes_are_refused_by_the_grey_conversion():
    from emotion.preprocess import to_gray

    with pytest.raises(ValueError, match="grey, BGR or BGRA"):
        to_gray(np.zeros((4, 4, 2), np.uint8))
    assert to_gray(cv2.cvtColor(np.zeros((4, 4, 3), np.uint8), cv2.COLOR_BGR2BGRA)).shape == (4, 4)


# A dyno's share for one upload (bench/README.md, "one large upload"): what reading may add to the process.
READ_PEAK_BOUND = 80 * 2**20


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L"])
def test_a_huge_png_is_read_in_strips_within_a_small_peak(tmp_path, mode):
    """Finding 9, then issue #25: a 12000x9000 PNG took the server from 265 MB to 1.12 GB, then (decoded
    whole) from 319 MB to 792 MB, over the 512 MB dyno. Now it is read a strip at a time; measured in a fresh process."""
    width, height = 12000, 9000
    path = write_large_png(tmp_path / "large.png", width, height, mode)
    out_width, out_height, peak_rise = (int(v) for v in run_probe(PEAK_PROBE, str(path)).split())
    assert (out_width, out_height) == (MAX_SIDE, MAX_SIDE * 3 // 4)
    whole = width * height * 4 / 2**20
    assert peak_rise <= READ_PEAK_BOUND, f"reading took {peak_rise / 2**20:.0f} MiB at its peak (a whole decode: {whole:.0f})"


def test_a_huge_jpeg_is_decoded_at_a_reduced_scale(tmp_path):
    """JPEGs decode at 1/2, 1/4 or 1/8 of their size (libjpeg's scaling, Pillow's draft) and never whole."""
    path = tmp_path / "large.jpg"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        Image.open(write_large_png(tmp_path / "large.png")).save(path, quality=90)
    out_width, out_height, peak_rise = (int(v) for v in run_probe(PEAK_PROBE, str(path)).split())
    assert (out_width, out_height) == (MAX_SIDE, MAX_SIDE * 3 // 4)
    assert peak_rise <= READ_PEAK_BOUND, f"reading took {peak_rise / 2**20:.0f} MiB at its peak"


def test_a_wide_jpeg_is_drafted_to_its_long_side():
    """A panorama shrinks by its long side, as a square photo does, not by its short one."""
    from emotion.images import _draft_size

    wide = Image.open(io.BytesIO(encode(Image.new("RGB", (16000, 1200), (90, 100, 110)), "JPEG", quality=50)))
    wide.draft("RGB", _draft_size(wide.size))
    assert wide.size == (2000, 150)
    assert read_image(encode(Image.new("RGB", (16000, 1200)), "JPEG")).shape == (144, MAX_SIDE, 3)


def odd_pngs() -> dict[str, bytes]:
    """8-bit PNGs of every colour type, with noise (so the encoder's row filters vary) and a gradient."""
    rng = np.random.default_rng(4)
    rows, columns = np.mgrid[0:300, 0:6100]
    pixels = rng.integers(0, 256, (300, 6100, 4), dtype=np.uint8)
    pixels[..., 0] = (columns // 24 + rows) % 256
    rgb, rgba = Image.fromarray(pixels[..., :3]), Image.fromarray(pixels, "RGBA")
    palette = rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=100)
    exif = Image.Exif()
    exif[0x0112] = 6
    return {
        "RGB": encode(rgb, "PNG"),
        "RGBA": encode(rgba, "PNG"),
        "L": encode(rgb.convert("L"), "PNG"),
        "LA": encode(rgba.convert("LA"), "PNG"),
        "P": encode(palette, "PNG"),
        "P with a transparent colour": encode(palette, "PNG", transparency=7),
        "RGB by OpenCV": cv2.imencode(".png", pixels[..., :3])[1].tobytes(),
        "RGB turned by EXIF": encode(rgb, "PNG", exif=exif.tobytes()),
        "narrow RGB": encode(rgb.crop((0, 0, 700, 300)), "PNG"),
    }


@pytest.mark.parametrize("kind", list(odd_pngs()))
def test_a_png_read_in_strips_has_the_pixels_of_a_whole_decode(monkeypatch, kind):
    """Every 8-bit colour type, read as a large PNG is (DECODE_BUDGET made tiny), gives exactly the
    pixels of the usual whole decode, at the same reduction (6100 px wide: by 2, then to MAX_SIDE)."""
    import emotion.images

    data = odd_pngs()[kind]
    whole = read_image(data)
    monkeypatch.setattr(emotion.images, "DECODE_BUDGET", 1000)
    assert emotion.images.png_layout(data) is not None
    strips = read_image(data)
    assert strips.shape == whole.shape and np.array_equal(strips, whole)
    if kind == "RGB turned by EXIF":
        assert strips.shape[0] > strips.shape[1]


def test_a_damaged_png_read_in_strips_gives_a_message(monkeypatch):
    import emotion.images

    data = odd_pngs()["RGB"]
    monkeypatch.setattr(emotion.images, "DECODE_BUDGET", 1000)
    with pytest.raises(ImageError, match=r"upload\.png could not be decoded; the file may be damaged"):
        read_image(data[: len(data) // 2], "upload.png")
    corrupt = bytearray(data)
    corrupt[len(data) // 2 : len(data) // 2 + 64] = bytes(64)
    with pytest.raises(ImageError, match=r"upload\.png could not be decoded"):
        read_image(bytes(corrupt), "upload.png")


@pytest.mark.parametrize(
    ("image", "fmt", "kind"),
    [
        (Image.new("I;16", (6000, 6000), 40000), "PNG", "a 16-bit PNG"),
        (Image.new("RGB", (5000, 4000), (20, 30, 40)), "TIFF", "a TIFF file"),
    ],
    ids=["16-bit-png", "tiff"],
)
def test_a_large_image_that_would_be_decoded_whole_is_refused_in_plain_words(image, fmt, kind):
    """What cannot be decoded in parts is refused above DECODE_BUDGET, before decoding, saying what to do."""
    data = encode(image, fmt, **({"compression": "tiff_lzw"} if fmt == "TIFF" else {}))
    width, height = image.size
    with pytest.raises(ImageError) as refused:
        read_image(data, "This photo")
    message = str(refused.value)
    assert message.startswith(f"This photo is {width}x{height} pixels: too large for this server to open as {kind} (at most ")
    assert message.endswith("megapixels). Save it as a JPEG, or smaller, and try again.")


def test_an_image_within_the_decode_budget_is_decoded_whole_as_before():
    """A 16-bit PNG of a phone photo's size is well within DECODE_BUDGET: read as it always was."""
    ramp = (np.arange(4000, dtype=np.uint32)[None, :] * 16).astype(np.uint16).repeat(3000, axis=0)
    image = read_image(encode(Image.fromarray(ramp), "PNG"))
    assert image.shape == (1440, MAX_SIDE, 3) and abs(int(image[0, -1, 0]) - 249) <= 2  # 63984 of 65535, grey
