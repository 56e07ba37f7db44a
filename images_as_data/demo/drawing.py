"""Colours, fonts and pixel-level helpers shared by every scene of the demo corpus.

Every scene type draws its backgrounds, clothes and objects from the same colour pool,
so that colour alone does not tell a protest from a headshot or a landscape.
"""

from __future__ import annotations

import functools

import numpy as np
from PIL import Image, ImageEnhance, ImageFont

RGB = tuple[int, int, int]

SHARED_COLOURS: tuple[RGB, ...] = (
    (236, 236, 232),
    (200, 200, 196),
    (150, 150, 150),
    (92, 92, 96),
    (40, 42, 48),
    (180, 60, 50),
    (214, 120, 70),
    (232, 190, 90),
    (240, 226, 170),
    (130, 90, 60),
    (90, 120, 70),
    (150, 180, 110),
    (60, 90, 60),
    (70, 110, 160),
    (130, 170, 210),
    (40, 60, 110),
    (120, 80, 140),
    (200, 150, 180),
    (60, 140, 140),
    (170, 200, 200),
    (210, 180, 140),
    (110, 40, 50),
    (230, 230, 120),
    (30, 30, 30),
    (250, 250, 250),
)

SKY_PAIRS: tuple[tuple[RGB, RGB], ...] = (
    ((110, 160, 220), (200, 220, 240)),  # clear
    ((150, 156, 166), (205, 208, 212)),  # overcast
    ((70, 90, 150), (230, 170, 120)),  # dusk
    ((170, 200, 230), (240, 240, 230)),  # hazy
    ((40, 50, 90), (110, 100, 130)),  # evening
    ((200, 120, 90), (240, 210, 150)),  # sunset
)

BRIGHT_COLOURS: tuple[RGB, ...] = (
    (230, 50, 60),
    (250, 180, 30),
    (60, 180, 80),
    (40, 120, 230),
    (200, 60, 200),
    (250, 240, 60),
    (30, 200, 220),
    (255, 120, 160),
)

PLACARD_WORDS: tuple[str, ...] = (
    "BLACK LIVES MATTER",
    "SHUT IT DOWN",
    "A14",
    "NO JUSTICE NO PEACE",
    "HANDS UP",
    "#BLM",
    "JUSTICE",
    "ENOUGH",
    "STOP",
    "WE CAN'T BREATHE",
    "SAY THEIR NAMES",
    "UNITE",
    "EQUALITY",
    "MARCH",
    "NOW",
    "VOTE",
    "PEACE",
    "DIGNITY",
)

TWEET_WORDS: tuple[str, ...] = (
    "today",
    "we",
    "march",
    "for",
    "justice",
    "in",
    "the",
    "city",
    "thousands",
    "join",
    "students",
    "walk",
    "out",
    "police",
    "community",
    "rally",
    "tonight",
    "downtown",
    "photos",
    "live",
    "update",
    "support",
    "speech",
    "listen",
    "voices",
    "change",
    "history",
    "together",
    "people",
    "streets",
    "news",
    "watch",
    "video",
    "read",
    "more",
    "thread",
    "breaking",
    "crowd",
    "square",
    "bridge",
    "closed",
    "traffic",
    "weather",
    "game",
    "recipe",
    "music",
    "album",
    "tour",
    "tickets",
    "love",
)


@functools.lru_cache(maxsize=64)
def font(size: int) -> ImageFont.FreeTypeFont:
    """Pillow's bundled scalable font (identical on every machine with the same Pillow)."""
    return ImageFont.load_default(size=max(6, int(size)))


def pick(rng: np.random.Generator, options):
    """One element of a sequence, chosen uniformly."""
    return options[int(rng.integers(len(options)))]


def mix(a: RGB, b: RGB, t: float) -> RGB:
    """Linear mix of two colours (t = 0 gives a, t = 1 gives b)."""
    return tuple(int(round(x + (y - x) * t)) for x, y in zip(a, b))


def jitter(colour: RGB, rng: np.random.Generator, amount: int = 18) -> RGB:
    """A colour nudged per channel, so repeated palette colours are never exactly equal."""
    span = 2 * amount + 1
    code = int(rng.integers(span**3))  # one scalar draw for three shifts: much faster than an array draw
    shifts = (code % span - amount, code // span % span - amount, code // (span * span) - amount)
    return tuple(min(255, max(0, c + d)) for c, d in zip(colour, shifts))


def vertical_gradient(size: tuple[int, int], top: RGB, bottom: RGB) -> Image.Image:
    """An RGB image fading from `top` to `bottom`."""
    width, height = size
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    rows = np.asarray(top, np.float32) * (1 - t) + np.asarray(bottom, np.float32) * t
    return Image.fromarray(np.broadcast_to(rows, (height, width, 3)).astype(np.uint8), "RGB")


def blend_colour(img: Image.Image, colour: RGB, alpha: float) -> Image.Image:
    """Wash the whole image with a colour (a colour cast)."""
    if alpha <= 0:
        return img
    return Image.blend(img, Image.new("RGB", img.size, colour), float(min(alpha, 1.0)))


def saturate(img: Image.Image, factor: float) -> Image.Image:
    """Scale colour saturation (below 1 greys the image out)."""
    return ImageEnhance.Color(img).enhance(float(factor))


def shade_rows(img: Image.Image, top: float, bottom: float) -> Image.Image:
    """Multiply brightness by a factor that changes linearly from the top row to the bottom."""
    arr = np.asarray(img, dtype=np.float32)
    factor = np.linspace(top, bottom, arr.shape[0], dtype=np.float32)[:, None, None]
    return Image.fromarray(np.clip(arr * factor, 0, 255).astype(np.uint8), "RGB")


def side_light(img: Image.Image, rng: np.random.Generator, strength: float = 0.25) -> Image.Image:
    """Uneven lighting: a brightness ramp across the image in a random direction."""
    arr = np.asarray(img, dtype=np.float32)
    height, width = arr.shape[:2]
    angle = rng.uniform(0, 2 * np.pi)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    ramp = (xs / max(width - 1, 1) - 0.5) * np.cos(angle) + (ys / max(height - 1, 1) - 0.5) * np.sin(angle)
    factor = 1.0 + strength * rng.uniform(0.3, 1.0) * 2 * ramp + rng.uniform(-0.12, 0.12)
    return Image.fromarray(np.clip(arr * factor[..., None], 0, 255).astype(np.uint8), "RGB")


def white_balance(img: Image.Image, warmth: float, brightness: float) -> Image.Image:
    """A camera's colour temperature (warmth > 0 is warmer) and exposure."""
    gains = np.array([1 + warmth, 1.0, 1 - warmth], dtype=np.float32) * np.float32(brightness)
    arr = np.asarray(img, dtype=np.float32) * gains
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")


def add_grain(img: Image.Image, rng: np.random.Generator, sd: float) -> Image.Image:
    """Sensor-like noise, so flat areas are never perfectly flat."""
    arr = np.asarray(img, dtype=np.float32)
    noise = rng.standard_normal(arr.shape, dtype=np.float32) * np.float32(sd)
    return Image.fromarray(np.clip(arr + noise, 0, 255).astype(np.uint8), "RGB")


def words(rng: np.random.Generator, vocabulary, count: int) -> str:
    """A line of random words."""
    return " ".join(pick(rng, vocabulary) for _ in range(count))
