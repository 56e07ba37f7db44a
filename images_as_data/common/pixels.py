"""RGB pixels of a decoded frame, the same for every stage that reads image files (working
images, the tensor stores of folder tasks and of images to label, images re-encoded for an
autotagger): a model is then never trained on one rendering of a file and applied to another."""

from __future__ import annotations

import numpy as np
from PIL import Image

BACKGROUND = (255, 255, 255)
ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")
# Modes wider than 8 bits a channel (PIL keeps 16-bit greyscale as I;16*, other integer
# greyscale as 32-bit I, floating point as F).
WIDE_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N", "F")
SIXTEEN_BITS = 65535


def to_rgb(image: Image.Image) -> Image.Image:
    """RGB version of a decoded frame; transparent areas become white, wide greyscale 8 bits.

    Wide greyscale keeps its meaning where the values show it: 16-bit values (0-65535, also
    when PIL holds them as I) are divided by 256 and floats within 0-1 multiplied by 255;
    other ranges (32-bit integers, floats in their own units) are stretched from their
    minimum to their maximum. PIL's own conversion clips at 255 instead, which turns a
    16-bit image white and a 0-1 float image black.
    """
    if image.mode == "RGB" and "transparency" not in image.info:
        return image
    if image.mode in ALPHA_MODES or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, BACKGROUND + (255,))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if image.mode in WIDE_MODES:
        return Image.fromarray(_eight_bits(np.asarray(image), floating=image.mode == "F")).convert("RGB")
    return image.convert("RGB")


def _eight_bits(values: np.ndarray, floating: bool) -> np.ndarray:
    values = values.astype(np.float64)
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    if floating and low >= 0 and high <= 1:
        scaled = np.round(values * 255)
    elif low >= 0 and high <= SIXTEEN_BITS:
        scaled = np.floor(values / 256)  # the top 8 bits, as PIL's I;16 to L and OpenCV do
    elif high > low:
        scaled = np.round((values - low) * (255 / (high - low)))
    else:
        scaled = np.zeros_like(values)
    return np.clip(np.nan_to_num(scaled), 0, 255).astype(np.uint8)
