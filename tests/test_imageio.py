"""Tests for facestyle.imageio. Every fixture is built in memory with PIL."""
from __future__ import annotations

import io
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image, ImageOps

from facestyle import imageio
from facestyle.imageio import DecodedImage, ImageError, decode_image, encode_image

MB = 1 << 20
LIMITS = dict(max_bytes=10 * MB, max_pixels=4096 * 4096)


def save(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def decode(data: bytes, **kw) -> DecodedImage:
    return decode_image(data, **{**LIMITS, **kw})


def check_rgb(d: DecodedImage, w: int, h: int) -> None:
    assert d.rgb.shape == (h, w, 3) and d.rgb.dtype == np.uint8
    assert d.rgb.flags.c_contiguous


def expect(code: str, status: int, data: bytes, **kw) -> ImageError:
    with pytest.raises(ImageError) as ei:
        decode(data, **kw)
    assert (ei.value.code, ei.value.status) == (code, status)
    assert ei.value.message
    return ei.value


def noise(w=64, h=48, seed=0, ch=3) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, ch), dtype=np.uint8)


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def crafted_png(w: int, h: int) -> bytes:
    """A valid-looking PNG header claiming w x h RGB, with almost no pixel data."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
            + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b""))


# ---------------------------------------------------------------- rejections

def test_empty():
    expect("empty_file", 400, b"")


def test_too_large():
    data = save(Image.new("RGB", (8, 8)), "PNG")
    expect("too_large", 413, data, max_bytes=len(data) - 1)
    assert decode(data, max_bytes=len(data)).rgb.shape == (8, 8, 3)


@pytest.mark.parametrize("data", [
    np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes(),
    b"hello, this is definitely not an image\n" * 20,
    b"%PDF-1.4\n",
])
def test_not_an_image(data):
    expect("not_an_image", 422, data)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_truncated(fmt):
    data = save(Image.fromarray(noise(128, 128)), fmt)
    expect("corrupt_image", 422, data[: len(data) // 2])


def test_corrupt_png_payload():
    # Right signature and IHDR, garbage IDAT: decoder error, not a crash.
    ihdr = struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0)
    data = (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
            + png_chunk(b"IDAT", b"not zlib at all") + png_chunk(b"IEND", b""))
    expect("corrupt_image", 422, data)


def test_unexpected_exception_is_wrapped(monkeypatch):
    def boom(im):
        raise struct.error("unpack requires a buffer of 4 bytes")
    monkeypatch.setattr(imageio.ImageOps, "exif_transpose", boom)
    err = expect("corrupt_image", 422, save(Image.new("RGB", (4, 4)), "PNG"))
    assert "unpack" in err.message


def test_bomb_50000_square_is_refused_fast():
    data = crafted_png(50_000, 50_000)
    assert len(data) < 200
    t = time.perf_counter()
    expect("too_many_pixels", 413, data)
    # Even with a generous limit of our own, Pillow's bomb error maps to 413.
    expect("too_many_pixels", 413, data, max_pixels=10**12)
    assert time.perf_counter() - t < 0.5


def test_bomb_own_limit_checked_from_header():
    # 5000x5000 is under Pillow's own limits; our max_pixels catches it before decoding.
    err = expect("too_many_pixels", 413, crafted_png(5000, 5000), max_pixels=1_000_000)
    assert "5000x5000" in err.message


def test_bomb_warning_becomes_error(monkeypatch):
    # Between MAX_IMAGE_PIXELS and 2x, Pillow only warns; we must refuse.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    data = save(Image.new("RGB", (40, 40)), "PNG")  # 1600 px: warning zone
    expect("too_many_pixels", 413, data, max_pixels=10**9)


def test_max_pixels_boundary():
    data = save(Image.new("RGB", (10, 10)), "PNG")
    assert decode(data, max_pixels=100).rgb.shape == (10, 10, 3)
    expect("too_many_pixels", 413, data, max_pixels=99)


# ---------------------------------------------------------------- accepted

def test_rgb_png_exact():
    src = noise()
    d = decode(save(Image.fromarray(src), "PNG"))
    check_rgb(d, 64, 48)
    assert (d.mode, d.format, d.alpha) == ("RGB", "PNG", None)
    np.testing.assert_array_equal(d.rgb, src)


def test_rgb_jpeg():
    src = np.full((32, 32, 3), (200, 60, 30), np.uint8)
    d = decode(save(Image.fromarray(src), "JPEG", quality=95))
    assert (d.mode, d.format, d.alpha) == ("RGB", "JPEG", None)
    assert np.abs(d.rgb.astype(int) - src).max() <= 4


def test_rgba_alpha_kept():
    src = noise(ch=4)
    d = decode(save(Image.fromarray(src), "PNG"))
    check_rgb(d, 64, 48)
    assert d.mode == "RGBA"
    np.testing.assert_array_equal(d.rgb, src[:, :, :3])
    np.testing.assert_array_equal(d.alpha, src[:, :, 3])
    assert d.alpha.dtype == np.uint8


def test_la():
    g = np.arange(48 * 64, dtype=np.uint32).reshape(48, 64) % 256
    a = (255 - g).astype(np.uint8)
    im = Image.merge("LA", (Image.fromarray(g.astype(np.uint8)), Image.fromarray(a)))
    d = decode(save(im, "PNG"))
    assert d.mode == "LA"
    for c in range(3):
        np.testing.assert_array_equal(d.rgb[:, :, c], g)
    np.testing.assert_array_equal(d.alpha, a)


def test_grey_roundtrip():
    g = np.tile(np.arange(256, dtype=np.uint8), (4, 1))
    d = decode(save(Image.fromarray(g), "PNG"))
    assert (d.mode, d.alpha) == ("L", None)
    check_rgb(d, 256, 4)
    for c in range(3):
        np.testing.assert_array_equal(d.rgb[:, :, c], g)


def test_i16_scaled_to_8bit():
    v = np.array([[0, 257, 128 * 257, 65535, 300, 65000]], dtype=np.uint16)
    data = save(Image.fromarray(v), "PNG")
    d = decode(data)
    assert (d.mode, d.format, d.alpha) == ("I;16", "PNG", None)
    expected = np.round(v / 257).astype(np.uint8)  # 0 1 128 255 1 253
    np.testing.assert_array_equal(d.rgb[:, :, 0], expected)
    np.testing.assert_array_equal(d.rgb[:, :, 2], expected)


def test_palette_opaque():
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (10, 20, 30)]
    im = Image.new("P", (4, 1))
    im.putpalette([c for rgb in colours for c in rgb])
    im.putdata([0, 1, 2, 3])
    d = decode(save(im, "PNG"))
    assert (d.mode, d.alpha) == ("P", None)
    assert [tuple(p) for p in d.rgb[0]] == colours


def test_palette_transparent():
    im = Image.new("P", (3, 1))
    im.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255])
    im.putdata([0, 1, 2])
    d = decode(save(im, "PNG", transparency=1))
    assert d.mode == "P"
    assert d.alpha.tolist() == [[255, 0, 255]]
    assert tuple(d.rgb[0, 0]) == (255, 0, 0) and tuple(d.rgb[0, 2]) == (0, 0, 255)


def test_cmyk_jpeg_close_to_rgb_source():
    src = np.zeros((16, 48, 3), np.uint8)
    src[:, :16] = (220, 40, 40)
    src[:, 16:32] = (40, 180, 60)
    src[:, 32:] = (128, 128, 128)
    data = save(Image.fromarray(src).convert("CMYK"), "JPEG", quality=95)
    d = decode(data)
    assert (d.mode, d.format) == ("CMYK", "JPEG")
    # Compare block centres (away from JPEG ringing at edges).
    for x in (8, 24, 40):
        assert np.abs(d.rgb[8, x].astype(int) - src[8, x]).max() <= 12


def test_animated_gif_first_frame():
    frames = [Image.new("RGB", (10, 6), c) for c in [(255, 0, 0), (0, 0, 255), (0, 255, 0)]]
    data = save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    assert Image.open(io.BytesIO(data)).n_frames == 3
    d = decode(data)
    assert d.format == "GIF"
    check_rgb(d, 10, 6)
    assert (d.rgb == (255, 0, 0)).all()


def test_exif_rotated_jpeg():
    im = Image.new("RGB", (40, 20), (0, 0, 0))
    im.paste((255, 255, 255), (0, 0, 6, 6))  # mark top-left corner
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 CW to display
    data = save(im, "JPEG", quality=95, exif=exif)
    d = decode(data)
    check_rgb(d, 20, 40)
    # Orientation 6: stored top-left lands at displayed top-right.
    assert d.rgb[2, 17].min() > 200
    assert d.rgb[2, 2].max() < 50 and d.rgb[37, 2].max() < 50 and d.rgb[37, 17].max() < 50
    # Same as PIL's reference transposition.
    ref = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB"))
    np.testing.assert_array_equal(d.rgb, ref)


def test_webp_lossless_with_alpha():
    src = noise(ch=4)
    d = decode(save(Image.fromarray(src), "WEBP", lossless=True, exact=True))
    assert (d.format, d.mode) == ("WEBP", "RGBA")
    np.testing.assert_array_equal(d.rgb, src[:, :, :3])
    np.testing.assert_array_equal(d.alpha, src[:, :, 3])


def test_webp_lossy_rgb():
    src = np.full((16, 16, 3), (30, 120, 220), np.uint8)
    d = decode(save(Image.fromarray(src), "WEBP", quality=95))
    assert d.alpha is None
    assert np.abs(d.rgb.astype(int) - src).max() <= 6


# ---------------------------------------------------------------- encoding

def reopen(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def test_bad_format():
    with pytest.raises(ImageError) as ei:
        encode_image(None, noise(), "gif")
    assert (ei.value.code, ei.value.status) == ("bad_format", 422)


@pytest.mark.parametrize("fmt,media,pil", [
    ("png", "image/png", "PNG"), ("jpeg", "image/jpeg", "JPEG"), ("webp", "image/webp", "WEBP"),
])
def test_encode_plain_rgb(fmt, media, pil):
    src = noise()
    data, mt = encode_image(None, src, fmt)
    out = reopen(data)
    assert (mt, out.format, out.mode, out.size) == (media, pil, "RGB", (64, 48))
    if fmt == "png":
        np.testing.assert_array_equal(np.asarray(out), src)


def test_encode_grey_png_is_L():
    g = np.tile(np.arange(0, 256, 16, dtype=np.uint8), (4, 1))
    d = decode(save(Image.fromarray(g), "PNG"))
    data, _ = encode_image(d, d.rgb, "png")
    out = reopen(data)
    assert out.mode == "L"
    np.testing.assert_array_equal(np.asarray(out), g)
    assert reopen(encode_image(d, d.rgb, "jpeg")[0]).mode == "L"
    assert reopen(encode_image(d, d.rgb, "webp")[0]).mode == "RGB"  # WEBP has no L


def test_encode_la_png():
    g = np.full((4, 4), 90, np.uint8)
    a = np.full((4, 4), 77, np.uint8)
    d = decode(save(Image.merge("LA", (Image.fromarray(g), Image.fromarray(a))), "PNG"))
    out = reopen(encode_image(d, d.rgb, "png")[0])
    assert out.mode == "LA"
    assert np.asarray(out)[0, 0].tolist() == [90, 77]


def test_encode_i16_stays_16bit_in_png():
    v = (np.arange(16, dtype=np.uint16).reshape(4, 4) * 4000)
    d = decode(save(Image.fromarray(v), "PNG"))
    out = reopen(encode_image(d, d.rgb, "png")[0])
    assert out.mode == "I;16"
    arr = np.asarray(out).astype(np.int64)
    np.testing.assert_array_equal(arr, np.round(v / 257).astype(np.int64) * 257)
    assert arr.max() > 255  # genuinely 16-bit
    assert reopen(encode_image(d, d.rgb, "jpeg")[0]).mode == "L"


def test_encode_cmyk():
    src = np.full((16, 16, 3), (200, 50, 50), np.uint8)
    d = decode(save(Image.fromarray(src).convert("CMYK"), "JPEG", quality=95))
    out = reopen(encode_image(d, d.rgb, "jpeg")[0])
    assert out.mode == "CMYK"
    assert np.abs(np.asarray(out.convert("RGB"))[8, 8].astype(int) - src[8, 8]).max() <= 16
    assert reopen(encode_image(d, d.rgb, "png")[0]).mode == "RGB"


def test_encode_palette():
    im = Image.new("P", (2, 1))
    im.putpalette([255, 0, 0, 0, 0, 255])
    im.putdata([0, 1])
    d = decode(save(im, "PNG"))
    assert reopen(encode_image(d, d.rgb, "png")[0]).mode == "RGB"
    dt = decode(save(im, "PNG", transparency=1))
    out = reopen(encode_image(dt, dt.rgb, "png")[0])
    assert out.mode == "RGBA"
    assert np.asarray(out)[0].tolist() == [[255, 0, 0, 255], [0, 0, 255, 0]]


def test_encode_rgba_jpeg_composited_on_white():
    src = np.zeros((2, 3, 4), np.uint8)
    src[..., :3] = (0, 0, 200)
    src[..., 3] = [[0, 255, 128]] * 2
    d = decode(save(Image.fromarray(src), "PNG"))
    # Composition is exact before JPEG; check via a lossless path first.
    comp = imageio._composite_white(d.rgb, d.alpha)
    assert comp[0].tolist() == [[255, 255, 255], [0, 0, 200], [127, 127, 227]]
    big = np.repeat(np.repeat(d.rgb, 16, 0), 16, 1)
    a = np.repeat(np.repeat(d.alpha, 16, 0), 16, 1)
    out = reopen(encode_image(None, big, "jpeg", alpha=a, quality=95)[0])
    assert out.mode == "RGB"
    px = np.asarray(out).astype(int)
    assert px[16, 8].min() >= 245                                  # transparent -> white
    assert np.abs(px[16, 24] - (0, 0, 200)).max() <= 12            # opaque -> colour
    assert np.abs(px[16, 40] - (127, 127, 227)).max() <= 12        # half -> blend


def test_encode_alpha_resized_with_4x_output():
    src = np.zeros((4, 4, 4), np.uint8)
    src[..., :3] = 100
    src[:, :2, 3] = 255  # left half opaque, right half transparent
    d = decode(save(Image.fromarray(src), "PNG"))
    big = np.repeat(np.repeat(d.rgb, 4, 0), 4, 1)  # 16x16
    for fmt in ("png", "webp"):
        out = reopen(encode_image(d, big, fmt)[0])
        assert out.mode == "RGBA" and out.size == (16, 16)
        a = np.asarray(out)[..., 3]
        assert a[8, 0] == 255 and a[8, 15] == 0
    ref = np.asarray(Image.fromarray(d.alpha).resize((16, 16), Image.BILINEAR))
    out = reopen(encode_image(d, big, "png")[0])
    np.testing.assert_array_equal(np.asarray(out)[..., 3], ref)


def test_explicit_alpha_overrides():
    out = reopen(encode_image(None, noise(8, 8), "png", alpha=np.full((8, 8), 9, np.uint8))[0])
    assert out.mode == "RGBA" and (np.asarray(out)[..., 3] == 9).all()


def test_encode_rejects_bad_array():
    with pytest.raises(ValueError):
        encode_image(None, np.zeros((4, 4), np.uint8), "png")
