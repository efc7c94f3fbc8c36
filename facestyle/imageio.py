"""Safe decoding/encoding of client-uploaded images.

Uploads are untrusted: every failure mode (empty, oversized, not an image,
truncated, decompression bomb, or any decoder exception) is turned into an
``ImageError`` carrying an API error code and an HTTP status, so callers never
see a raw Pillow exception.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# Modes holding 16/32-bit greyscale integers (16-bit PNGs open as "I;16";
# some Pillow versions/plugins give "I").
_WIDE_GREY = ("I;16", "I;16L", "I;16B", "I;16N", "I")
_GREY = ("1", "L", "LA", "La")
_MEDIA = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


class ImageError(Exception):
    def __init__(self, code: str, message: str, status: int):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status

    def __repr__(self) -> str:
        return f"ImageError({self.code!r}, {self.message!r}, {self.status})"


@dataclass
class DecodedImage:
    rgb: np.ndarray           # (H, W, 3) uint8, upright
    alpha: np.ndarray | None  # (H, W) uint8 if the input had transparency
    mode: str                 # input PIL mode
    format: str               # input PIL format name


def _bomb(w: int, h: int, max_pixels: int) -> ImageError:
    return ImageError("too_many_pixels",
                      f"image is {w}x{h} = {w * h} pixels; the limit is {max_pixels}", 413)


def decode_image(data: bytes, *, max_bytes: int, max_pixels: int) -> DecodedImage:
    if not data:
        raise ImageError("empty_file", "the uploaded file is empty", 400)
    if len(data) > max_bytes:
        raise ImageError("too_large", f"file is {len(data)} bytes; the limit is {max_bytes}", 413)

    # Pillow only *warns* between MAX_IMAGE_PIXELS and 2x that; make it an
    # error. Note catch_warnings mutates process-global warning state, so it
    # is not strictly thread-safe; our own max_pixels check below is the real
    # guard, this is belt and braces.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            try:
                im = Image.open(io.BytesIO(data))  # lazy: reads the header only
            except UnidentifiedImageError:
                raise ImageError("not_an_image", "the file is not a recognised image", 422) from None
            w, h = im.size
            # Checked before any pixel is decoded, so a tiny file claiming a
            # huge canvas costs nothing.
            if w * h > max_pixels:
                raise _bomb(w, h, max_pixels)
            fmt, mode = im.format or "", im.mode
            im.seek(0)  # animated GIF/WEBP/APNG: first frame only
            im.load()   # force the decode here so truncation raises inside the try
            im = ImageOps.exif_transpose(im)  # upright; keeps mode, palette, info
            rgb, alpha = _to_arrays(im)
        except ImageError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
            raise ImageError("too_many_pixels", f"image too large to decode safely: {e}", 413) from None
        except Exception as e:  # OSError, ValueError, SyntaxError, struct.error, ...
            raise ImageError("corrupt_image", f"the image could not be decoded: {e}", 422) from None
    return DecodedImage(rgb=rgb, alpha=alpha, mode=mode, format=fmt)


def _to_arrays(im: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    if im.mode in _WIDE_GREY:
        # Pillow's convert("L") from I;16 clips rather than scales, so scale
        # the full 16-bit range down ourselves (65535 -> 255).
        v = np.asarray(im).astype(np.float64)
        g = np.clip(np.round(v / 257.0), 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(g[:, :, None], 3, axis=2)), None
    # has_transparency_data covers RGBA/LA/PA and P/L/RGB with a tRNS entry.
    if im.has_transparency_data:
        a = np.array(im.convert("RGBA"))
        return np.ascontiguousarray(a[:, :, :3]), np.ascontiguousarray(a[:, :, 3])
    # CMYK (incl. Adobe-inverted JPEG, handled by the decoder), P, L, YCbCr...
    return np.array(im.convert("RGB")), None


def _composite_white(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    a = alpha.astype(np.float32)[:, :, None] / 255.0
    out = rgb.astype(np.float32) * a + 255.0 * (1.0 - a)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def encode_image(img: DecodedImage | None, rgb: np.ndarray, fmt: str, *,
                 alpha: np.ndarray | None = None, quality: int = 92) -> tuple[bytes, str]:
    fmt = fmt.lower() if isinstance(fmt, str) else fmt
    if fmt not in _MEDIA:
        raise ImageError("bad_format", f"unsupported output format {fmt!r}; use png, jpeg or webp", 422)
    rgb = np.ascontiguousarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"rgb must be (H, W, 3) uint8, got {rgb.shape} {rgb.dtype}")
    h, w = rgb.shape[:2]

    if alpha is None and img is not None:
        alpha = img.alpha
    if alpha is not None:
        alpha = np.ascontiguousarray(alpha, dtype=np.uint8)
        if alpha.shape != (h, w):
            # The output may be upscaled (e.g. 4x); bring the mask along.
            alpha = np.array(Image.fromarray(alpha).resize((w, h), Image.BILINEAR))
    if alpha is not None and fmt == "jpeg":  # JPEG has no alpha channel
        rgb, alpha = _composite_white(rgb, alpha), None

    src = img.mode if img is not None else "RGB"
    base = Image.fromarray(rgb)  # new image: carries no EXIF, so no stale orientation
    if src in _WIDE_GREY and fmt == "png" and alpha is None:
        # Pillow has no 16-bit grey+alpha mode, so only the opaque case stays 16-bit.
        g = np.asarray(base.convert("L")).astype(np.uint16) * 257
        out = Image.fromarray(g)  # uint16 2-D -> "I;16"
    elif (src in _GREY or src in _WIDE_GREY) and fmt != "webp":  # WEBP is RGB(A) only
        out = base.convert("L")
        if alpha is not None:
            out = Image.merge("LA", (out, Image.fromarray(alpha)))
    elif src == "CMYK" and fmt == "jpeg":
        out = base.convert("CMYK")
    elif alpha is not None:
        out = base.copy()
        out.putalpha(Image.fromarray(alpha))
    else:
        out = base  # RGB, palette, CMYK-to-png/webp, ...

    buf = io.BytesIO()
    if fmt == "png":
        out.save(buf, "PNG")
    elif fmt == "jpeg":
        out.save(buf, "JPEG", quality=quality)
    else:
        out.save(buf, "WEBP", quality=quality)
    return buf.getvalue(), _MEDIA[fmt]
