"""From an `ImagePlan` to pixels: the drawn canvas, kept distinct from every earlier image."""

from __future__ import annotations

import imagehash
import numpy as np
from PIL import Image

from . import drawing as dr
from . import scenes
from .people import LEGEND
from .plan import STREAM_DRAW, ImagePlan, persona_by_name, stream

CANVAS_LONG_SIDE = 320  # pictures are drawn at this size and then resized to the planned size
DISTINCT_MARGIN = 12  # a new picture must differ from all earlier ones by more than this many phash bits
MAX_DRAW_ATTEMPTS = 40
INCIDENTAL_CUE_SHARE = 0.3


def canvas_size(width: int, height: int) -> tuple[int, int]:
    """The drawing size for a planned picture size (same aspect ratio, long side 320 px)."""
    scale = CANVAS_LONG_SIDE / max(width, height)
    return max(16, round(width * scale)), max(16, round(height * scale))


def resize_to(img: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Resize a drawn canvas to its file size (bilinear when enlarging: smooth and fast)."""
    if img.size == size:
        return img
    enlarging = size[0] * size[1] > img.width * img.height
    return img.resize(size, Image.Resampling.BILINEAR if enlarging else Image.Resampling.BICUBIC)


def cue_strengths(plan: ImagePlan, rng: np.random.Generator) -> dict[str, float]:
    """How visible each emotion's cues are: the latent level, perceived with some slack."""
    return {e: z * float(rng.uniform(0.35, 1.1)) for e, z in zip(scenes.EMOTIONS, plan.emotions) if z > 0}


def incidental_cues(rng: np.random.Generator) -> dict[str, float]:
    """Faint cue-like details (a drizzle, some litter, a sunny sky) that leave annotators cold.

    They make the emotion tasks harder, as in the book: a cue's presence alone is not the label.
    """
    if rng.random() >= INCIDENTAL_CUE_SHARE:
        return {}
    return {scenes.EMOTIONS[int(rng.integers(len(scenes.EMOTIONS)))]: float(rng.uniform(0.05, 0.3))}


def render_scene(
    plan: ImagePlan, size: tuple[int, int], rng: np.random.Generator, strengths: dict[str, float]
) -> Image.Image:
    """The picture's content (before emotion cues) for its category."""
    category = plan.category
    anger = strengths.get("anger", 0.0)
    if category in ("protest", "protest_small", "legend_protest"):
        return scenes.render_protest(
            rng,
            size,
            red_share=0.08 + 0.5 * anger,
            fist_share=0.3 * anger,
            crowd=(12, 26) if category == "protest_small" else (45, 120),
            legend=category == "legend_protest",
        )
    if category in ("headshot", "legend_headshot"):
        return scenes.render_headshot(rng, size, persona_by_name(plan.personas[0]))
    if category in ("group", "legend_group"):
        return scenes.render_group(rng, size, [persona_by_name(name) for name in plan.personas])
    if category in ("screenshot", "legend_screenshot"):
        photo = None
        photo_size = (max(16, int(size[0] * 0.9)), max(16, int(size[1] * 0.45)))
        if category == "legend_screenshot":
            photo = scenes.render_headshot(rng, photo_size, LEGEND)
        elif rng.random() < 0.25:
            photo = scenes.render_headshot(rng, photo_size, persona_by_name(plan.personas[0]))
        elif rng.random() < 0.2:
            photo = scenes.render_landscape(rng, photo_size)
        return scenes.render_screenshot(rng, size, photo)
    if category == "cartoon":
        return scenes.render_cartoon(rng, size)
    if category == "landscape":
        return scenes.render_landscape(rng, size)
    if category == "street":
        return scenes.render_street(rng, size)
    raise ValueError(f"unknown demo image category {category!r}")


def render_canvas(plan: ImagePlan, rng: np.random.Generator) -> Image.Image:
    """The finished small picture: scene, emotion cues and a little sensor noise."""
    strengths = cue_strengths(plan, rng)
    img = render_scene(plan, canvas_size(plan.width, plan.height), rng, strengths)
    img = scenes.apply_emotion_cues(img, {**incidental_cues(rng), **strengths}, rng)
    # Camera colour balance and exposure vary for every kind of picture alike.
    img = dr.white_balance(img, float(np.clip(rng.normal(0, 0.1), -0.2, 0.2)), float(rng.uniform(0.85, 1.12)))
    return dr.add_grain(img, rng, float(rng.uniform(2.0, 6.0)))


def phash_bits(img: Image.Image) -> int:
    """The 64-bit perceptual hash (imagehash.phash) of an image as an integer."""
    return int.from_bytes(np.packbits(imagehash.phash(img).hash.ravel()).tobytes(), "big")


class DistinctHashes:
    """Perceptual hashes of the pictures accepted so far, to keep new ones clearly different."""

    def __init__(self, margin: int = DISTINCT_MARGIN) -> None:
        self.margin = margin
        self._hashes = np.zeros(1024, dtype=np.uint64)
        self._count = 0

    def nearest_distance(self, bits: int) -> int:
        """Hamming distance to the closest accepted hash (65 when there is none)."""
        if self._count == 0:
            return 65
        return int(np.bitwise_count(self._hashes[: self._count] ^ np.uint64(bits)).min())

    def add(self, bits: int) -> None:
        if self._count == len(self._hashes):
            self._hashes = np.concatenate([self._hashes, np.zeros_like(self._hashes)])
        self._hashes[self._count] = np.uint64(bits)
        self._count += 1


def draw_distinct(plan: ImagePlan, seed: int, accepted: DistinctHashes, post=None) -> tuple[Image.Image, int]:
    """Draw the plan's picture, redrawing with fresh randomness until it is distinct from all earlier ones.

    `post` optionally turns the canvas into what is hashed (e.g. the final small file). Returns
    the canvas and the number of redraws.
    """
    for attempt in range(MAX_DRAW_ATTEMPTS):
        canvas = render_canvas(plan, stream(seed, STREAM_DRAW, plan.index, attempt))
        bits = phash_bits(post(canvas) if post else canvas)
        if accepted.nearest_distance(bits) > accepted.margin:
            accepted.add(bits)
            return canvas, attempt
    raise RuntimeError(
        f"demo image {plan.index} ({plan.category}) stayed within {accepted.margin} phash bits of an earlier image "
        f"after {MAX_DRAW_ATTEMPTS} draws; use fewer images (demo.n_images) or another seed"
    )
