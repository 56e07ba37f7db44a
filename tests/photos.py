"""Photograph-like test pictures and the reposts dedupe must catch or keep apart."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps


def photo(seed: int, size: tuple[int, int] = (360, 270)) -> Image.Image:
    """A busy picture: a colour gradient with a few dozen shapes and lines, like a street scene.

    Corners and edges everywhere give keypoints, and different seeds give pictures far
    apart in every hash.
    """
    rng = np.random.default_rng(seed)
    width, height = size
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack(
        [np.clip(rng.uniform(40, 200) + rng.uniform(-60, 60) * x / width + rng.uniform(-60, 60) * y / height, 0, 255) for _ in range(3)],
        axis=-1,
    )
    image = Image.fromarray(base.astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(45):
        x0, y0 = rng.uniform(-0.1, 1.0) * width, rng.uniform(-0.1, 1.0) * height
        w, h = rng.uniform(0.04, 0.3) * width, rng.uniform(0.04, 0.3) * height
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        shape = rng.integers(0, 3)
        if shape == 0:
            draw.ellipse((x0, y0, x0 + w, y0 + h), fill=colour)
        elif shape == 1:
            draw.rectangle((x0, y0, x0 + w, y0 + h), fill=colour)
        else:
            draw.line((x0, y0, x0 + w, y0 + h), fill=colour, width=int(rng.integers(2, 6)))
    noise = rng.normal(0, 4, (height, width, 3))
    return Image.fromarray(np.clip(np.asarray(image, dtype=np.float64) + noise, 0, 255).astype(np.uint8))


def letterbox(image: Image.Image, ratio: float = 16 / 9, fill=(0, 0, 0)) -> Image.Image:
    width, height = image.size
    size = (round(height * ratio), height) if width / height < ratio else (width, round(width / ratio))
    canvas = Image.new("RGB", size, fill)
    canvas.paste(image, ((size[0] - width) // 2, (size[1] - height) // 2))
    return canvas


def caption_band(image: Image.Image, text: str = "breaking news tonight downtown", share: float = 0.2) -> Image.Image:
    band = round(image.height * share)
    canvas = Image.new("RGB", (image.width, image.height + band), (255, 255, 255))
    canvas.paste(image, (0, band))
    ImageDraw.Draw(canvas).text((8, band * 0.3), text, fill=(0, 0, 0), font=ImageFont.load_default(size=max(8, band // 3)))
    return canvas


def crop(image: Image.Image, left: float, top: float, right: float, bottom: float) -> Image.Image:
    width, height = image.size
    return image.crop((round(left * width), round(top * height), round(right * width), round(bottom * height)))


def turned(image: Image.Image, degrees: float, fill=(255, 255, 255)) -> Image.Image:
    return image.rotate(degrees, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=fill)


def mirrored(image: Image.Image) -> Image.Image:
    return ImageOps.mirror(image)


def burst_frame(image: Image.Image) -> Image.Image:
    """The next frame of a burst: the middle third (the subject) moved a tenth of the width."""
    frame = image.copy()
    width, height = frame.size
    box = (width // 3, height // 3, 2 * width // 3, 2 * height // 3)
    subject = frame.crop(box)
    frame.paste(subject, (box[0] + width // 10, box[1]))
    return frame


def handwritten_page(seed: int, size: tuple[int, int] = (448, 172)) -> Image.Image:
    """A photographed page of handwriting: grainy paper lit unevenly, slanted ruled lines, pen strokes."""
    rng = np.random.default_rng(seed)
    width, height = size
    y, x = np.mgrid[0:height, 0:width]
    paper = 170 + 25 * x / width - 15 * y / height + rng.normal(0, 3, (height, width))
    image = Image.fromarray(np.clip(paper, 0, 255).astype(np.uint8)).convert("RGB")
    draw = ImageDraw.Draw(image)
    for k in range(-4, 10):
        draw.line((0, k * height / 5, width, k * height / 5 + 0.25 * width), fill=(110, 110, 110), width=2)
    for _ in range(40):
        x0, y0 = rng.uniform(0, width), rng.uniform(0, height)
        draw.line([(x0 + rng.uniform(-1, 1) * 18 * t, y0 + rng.uniform(-1, 1) * 10 * t) for t in range(4)], fill=(30, 30, 30), width=3)
    return image


def page_burst_frame(page: Image.Image, shift: float = 0.08) -> Image.Image:
    """The next frame of a burst of a page: the writing in a third of it moved along the
    ruled lines (which stay in place, so most blocks still agree)."""
    frame = page.copy()
    width, height = frame.size
    box = (round(0.45 * width), round(0.1 * height), round(0.8 * width), round(0.45 * height))
    frame.paste(frame.crop(box), (box[0] + round(shift * width), box[1] + round(0.25 * shift * width)))
    return frame


def night_sky(seed: int, size: tuple[int, int] = (320, 280), glow: float = 30) -> Image.Image:
    """A dark picture whose edges are near black everywhere: faint noise, a faint uneven glow
    (``glow`` grey levels at most) and a few hundred stars, like a deep-field photograph."""
    rng = np.random.default_rng(seed)
    width, height = size
    coarse = Image.fromarray(rng.integers(0, 256, (5, 6), dtype=np.uint8)).resize(size, Image.Resampling.BICUBIC)
    sky = np.asarray(coarse, dtype=np.float64)[..., None] * glow / 255 + rng.normal(6, 3, (height, width, 3))
    for x, y, level in zip(rng.integers(0, width, 400), rng.integers(0, height, 400), rng.uniform(60, 255, 400)):
        sky[max(0, y - 1) : y + 1, max(0, x - 1) : x + 1] = level
    return Image.fromarray(np.clip(sky, 0, 255).astype(np.uint8))


def watermarked(image: Image.Image, text: str = "(c) Example Agency", y: float = 0.4, alpha: int = 140) -> Image.Image:
    """A semi-transparent agency mark across the picture: white text with a dark outline."""
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    font = ImageFont.load_default(size=int(image.height * 0.09))
    ImageDraw.Draw(layer).text(
        (image.width * 0.05, image.height * y), text, font=font, fill=(255, 255, 255, alpha), stroke_width=2, stroke_fill=(0, 0, 0, alpha)
    )
    return Image.alpha_composite(image.convert("RGBA"), layer).convert("RGB")
