"""Byte-deterministic image encoders and the file defects planted in the demo corpus.

Every encoder option that could vary is fixed (quality, subsampling, compression level,
WebP method, palette), and no encoder writes a timestamp, so the same pixels and
options always give the same bytes with the same Pillow build.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from .drawing import TWEET_WORDS, words

EXIF_ORIENTATION_TAG = 0x0112
PNG_COMPRESS_LEVEL = 1  # fast: photo-like PNGs barely shrink at higher levels


def _save(img: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, fmt, **options)
    return buffer.getvalue()


def encode_jpeg(img: Image.Image, quality: int, progressive: bool = False, **options) -> bytes:
    return _save(img, "JPEG", quality=int(quality), subsampling=2, optimize=False, progressive=progressive, **options)


def encode_png(img: Image.Image) -> bytes:
    return _save(img, "PNG", compress_level=PNG_COMPRESS_LEVEL, optimize=False)


def encode_webp(img: Image.Image, quality: int) -> bytes:
    return _save(img, "WEBP", quality=int(quality), method=2, lossless=False, exact=False)


def encode_gif(img: Image.Image, palette_source: Image.Image) -> bytes:
    """A 256-colour GIF whose palette comes from `palette_source` (a small version of the image).

    Building the palette on the small image and mapping without dithering keeps large
    GIFs fast to write.
    """
    palette = few_colours(palette_source, 256)
    return _save(img.convert("RGB").quantize(palette=palette, dither=Image.Dither.NONE), "GIF", optimize=False)


def encode(img: Image.Image, fmt: str, quality: int, progressive: bool, palette_source: Image.Image) -> bytes:
    """Encode an RGB image in one of the corpus formats."""
    if fmt == "JPEG":
        return encode_jpeg(img, quality, progressive)
    if fmt == "PNG":
        return encode_png(img)
    if fmt == "WEBP":
        return encode_webp(img, quality)
    if fmt == "GIF":
        return encode_gif(img, palette_source)
    raise ValueError(f"unknown demo image format {fmt!r}; use JPEG, PNG, WEBP or GIF")


def decode_rgb(data: bytes) -> Image.Image:
    """Decoded pixels of an encoded image, as RGB."""
    with Image.open(io.BytesIO(data)) as img:
        return img.convert("RGB")


# --------------------------------------------------------------------------- planted defects


def truncate(data: bytes, keep_fraction: float) -> bytes:
    """The first part of a file, as left by an interrupted download."""
    return data[: int(len(data) * keep_fraction)]


def html_error_page(rng: np.random.Generator, min_bytes: int) -> bytes:
    """An HTML error page, as a scraper saves it under the image's name when a download fails."""
    parts = [
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>403 Forbidden</title>\n',
        "<style>body{font-family:sans-serif;margin:40px;color:#333}h1{font-size:22px}</style></head>\n",
        "<body><h1>403 Forbidden</h1><p>You don't have permission to access this resource.</p>\n",
    ]
    while sum(len(p) for p in parts) < min_bytes:
        parts.append(f'<p class="note">{words(rng, TWEET_WORDS, 12)}</p>\n')
    parts.append("</body></html>\n")
    return "".join(parts).encode("utf-8")


def exif_rotated_jpeg(upright: Image.Image, orientation: int, quality: int) -> bytes:
    """A JPEG whose pixels are stored turned, with the EXIF orientation (6 or 8) that turns them back."""
    if orientation == 6:  # viewers rotate 90 degrees clockwise to display
        stored = upright.transpose(Image.Transpose.ROTATE_90)
    elif orientation == 8:  # viewers rotate 90 degrees anticlockwise to display
        stored = upright.transpose(Image.Transpose.ROTATE_270)
    else:
        raise ValueError(f"EXIF orientation must be 6 or 8, not {orientation}")
    exif = Image.Exif()
    exif[EXIF_ORIENTATION_TAG] = orientation
    return encode_jpeg(stored, quality, exif=exif.tobytes())


def cmyk_jpeg(img: Image.Image, quality: int) -> bytes:
    """A print-style CMYK JPEG."""
    return encode_jpeg(img.convert("CMYK"), quality)


def few_colours(img: Image.Image, colours: int) -> Image.Image:
    """A palette (mode P) version of an image with at most `colours` colours, without dithering."""
    return img.convert("RGB").quantize(colours, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)


def palette_png_with_transparency(img: Image.Image) -> bytes:
    """A palette (mode P) PNG whose most common colour is transparent, like a sticker or logo."""
    paletted = few_colours(img, 64)
    counts = np.bincount(np.asarray(paletted).ravel(), minlength=64)
    return _save(
        paletted, "PNG", transparency=int(np.argmax(counts)), compress_level=PNG_COMPRESS_LEVEL, optimize=False
    )


def animated_gif(frames: list[Image.Image], duration_ms: int = 120) -> bytes:
    """A looping animated GIF of several frames sharing one palette."""
    palette = few_colours(frames[0], 256)
    paletted = [f.convert("RGB").quantize(palette=palette, dither=Image.Dither.NONE) for f in frames]
    return _save(
        paletted[0],
        "GIF",
        save_all=True,
        append_images=paletted[1:],
        duration=duration_ms,
        loop=0,
        optimize=False,
        disposal=1,
    )


def oversized_png(img: Image.Image, size: tuple[int, int]) -> bytes:
    """A huge but small-on-disk PNG: a 16-colour image blown up with nearest-neighbour blocks."""
    paletted = few_colours(img, 16)
    return _save(
        paletted.resize(size, Image.Resampling.NEAREST), "PNG", compress_level=PNG_COMPRESS_LEVEL, optimize=False
    )
