"""Planted duplicates and defective files, with the outcome downstream stages should reach.

Copies (exact, re-encoded, resized, format-changed, reposted) are made from the bytes of
an earlier picture; defects (tiny, truncated, not an image, EXIF-rotated, CMYK, palette
with transparency, animated, too many pixels, too thin) are new distinct pictures
stored in an awkward way. `expected_status` / `expected_reason` are what the inventory
stage should decide with the default config; `expected_match` is the cheapest dedupe
evidence linking a copy to its original.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from PIL import Image, ImageDraw

from . import drawing as dr
from . import encoding as enc
from .plan import CATEGORY_SHARES, STREAM_COPY, STREAM_DEFECT, ImagePlan, plan_image, sample_size, stream, with_format
from .render import DistinctHashes, draw_distinct, phash_bits, resize_to

# The inventory thresholds of the default config (the book drops files under 5 kB).
BOOK_MIN_BYTES = 5000
MAX_PIXELS = 40_000_000
MIN_SIDE = 32
KEPT_BYTES_FLOOR = 6000  # files meant to be kept stay comfortably above the 5 kB cut
NEAR_COPY_MAX_DISTANCE = 6  # phash bits; below the dedupe default of 8, so near copies are findable

# Copies of existing pictures, as a share of n_images (at least two of each).
COPY_RATES: dict[str, float] = {
    "exact_duplicate": 0.01,
    "reencoded": 0.005,
    "resized": 0.005,
    "format_change": 0.005,
    "repost": 0.005,
}
# Defective or unusual files; each (but the HTML page) is a new distinct picture.
DEFECT_COUNTS: dict[str, int] = {
    "tiny_file": 3,
    "truncated_jpeg": 2,
    "not_an_image": 1,
    "exif_rotated": 1,
    "cmyk_jpeg": 1,
    "palette_transparency": 1,
    "animated_gif": 1,
    "over_pixel_limit": 1,
    "small_side": 1,
}
# What the inventory stage should decide for each defect: (status, reason).
EXPECTED_OUTCOME: dict[str, tuple[str, str]] = {
    "tiny_file": ("excluded", "min_bytes"),
    "truncated_jpeg": ("excluded", "unreadable"),
    "not_an_image": ("excluded", "unreadable"),
    "over_pixel_limit": ("excluded", "max_pixels"),
    "small_side": ("excluded", "min_side"),
    "exif_rotated": ("kept", ""),
    "cmyk_jpeg": ("kept", ""),
    "palette_transparency": ("kept", ""),
    "animated_gif": ("kept", ""),
}
DEFECT_FORMATS: dict[str, str] = {
    "tiny_file": "JPEG",
    "truncated_jpeg": "JPEG",
    "not_an_image": "JPEG",
    "exif_rotated": "JPEG",
    "cmyk_jpeg": "JPEG",
    "palette_transparency": "PNG",
    "animated_gif": "GIF",
    "over_pixel_limit": "PNG",
    "small_side": "PNG",
}
# Defects whose annotations are always written, so the label stage meets annotated files it cannot use.
ALWAYS_ANNOTATED_DEFECTS = frozenset({"tiny_file", "truncated_jpeg", "over_pixel_limit"})
NEVER_ANNOTATED_DEFECTS = frozenset({"not_an_image", "small_side"})


@dataclass(frozen=True)
class CopyJob:
    """A planted copy of an earlier picture."""

    kind: str
    number: int  # running number within its kind (alternates format_change variants)
    annotated: bool


@dataclass(frozen=True)
class PlantedFile:
    """The bytes of a planted file and its ground truth."""

    data: bytes
    fmt: str
    detail: str
    match: str = ""


def plan_copies(plans: list[ImagePlan], seed: int) -> dict[int, list[CopyJob]]:
    """Which pictures get planted copies (much-shared ones more often), by original index."""
    rng = stream(seed, STREAM_COPY, 0)
    n = len(plans)
    shares = np.array([p.shares for p in plans], dtype=float) + 1.0
    jpeg = np.array([p.fmt == "JPEG" and min(p.width, p.height) >= 200 for p in plans])
    large = np.array([min(p.width, p.height) >= 300 for p in plans])
    anything = np.ones(n, dtype=bool)
    eligible = {
        "exact_duplicate": anything,
        "reencoded": jpeg,
        "resized": large,
        "format_change": jpeg,
        "repost": anything,
    }
    jobs: dict[int, list[CopyJob]] = {}
    for kind, rate in COPY_RATES.items():
        candidates = np.flatnonzero(eligible[kind])
        count = max(2, int(round(n * rate)))
        if len(candidates) < count:  # small pictures only (a small size_range): any will do
            candidates = np.arange(n)
        weights = shares[candidates] / shares[candidates].sum()
        for number, index in enumerate(sorted(rng.choice(candidates, size=count, replace=False, p=weights))):
            jobs.setdefault(int(index), []).append(CopyJob(kind, number, bool(rng.random() < 0.5)))
    return jobs


def make_copy(
    job: CopyJob,
    original: ImagePlan,
    data: bytes,
    decoded: Image.Image,
    rng: np.random.Generator,
    *,
    gentle: bool = False,
) -> PlantedFile:
    """One planted copy of `original` (whose file holds `data`, decoding to `decoded`).

    `gentle` makes the smallest change of its kind (used when the first try drifted too
    far from the original in perceptual hash, which happens with very small pictures).
    """
    other_quality = (
        95 if gentle else int(np.clip(original.quality + rng.choice([-1, 1]) * rng.integers(12, 25), 45, 96))
    )
    if job.kind == "exact_duplicate":
        return PlantedFile(data, original.fmt, "byte-identical copy under another name", "exact")
    if job.kind == "reencoded":
        data, fmt = _jpeg_above_floor(decoded, other_quality)
        return PlantedFile(data, fmt, f"re-saved as {fmt} (was {original.fmt} quality {original.quality})", "near")
    if job.kind == "resized":
        factor = 0.9 if gentle else float(rng.uniform(0.5, 0.9))
        size = (max(2 * MIN_SIDE, round(decoded.width * factor)), max(2 * MIN_SIDE, round(decoded.height * factor)))
        data, fmt = _jpeg_above_floor(decoded.resize(size, Image.Resampling.LANCZOS), max(other_quality, 80))
        return PlantedFile(data, fmt, f"resized to {factor:.0%} ({size[0]}x{size[1]}), saved as {fmt}", "near")
    if job.kind == "format_change":
        if job.number % 2 == 0 and original.fmt != "PNG":
            return PlantedFile(
                enc.encode_png(decoded),
                "PNG",
                f"{original.fmt} saved as PNG: same decoded pixels, other bytes",
                "pixel",
            )
        if original.fmt != "WEBP":
            quality = 95 if gentle else 80
            return PlantedFile(enc.encode_webp(decoded, quality), "WEBP", f"{original.fmt} converted to WebP", "near")
        return PlantedFile(enc.encode_jpeg(decoded, 95 if gentle else 85), "JPEG", "WebP converted to JPEG", "near")
    if job.kind == "repost":
        reposted = decoded.copy()
        credit = "" if gentle else " with a small credit line"
        if not gentle:
            fs = max(6, reposted.height // 40)
            ImageDraw.Draw(reposted).text(
                (reposted.width - fs, reposted.height - fs),
                "via @" + dr.words(rng, dr.TWEET_WORDS, 1),
                fill=(255, 255, 255),
                font=dr.font(fs),
                anchor="rd",
            )
        data, fmt = _jpeg_above_floor(reposted, other_quality)
        return PlantedFile(data, fmt, f"repost: re-saved as {fmt}{credit}; same URL as the original", "url")
    raise ValueError(f"unknown planted copy kind {job.kind!r}")


def _jpeg_above_floor(img: Image.Image, quality: int) -> tuple[bytes, str]:
    """A JPEG of `img`, or a better JPEG or a PNG when a small picture would fall under the 5 kB cut."""
    data = enc.encode_jpeg(img, quality)
    if len(data) < KEPT_BYTES_FLOOR:
        data = enc.encode_jpeg(img, 95)
    if len(data) < KEPT_BYTES_FLOOR:
        return enc.encode_png(img), "PNG"
    return data, "JPEG"


def plan_defects(n_images: int, seed: int, size_range: tuple[int, int]) -> list[ImagePlan]:
    """Plans of the defective / unusual files, numbered after the regular pictures."""
    rng = stream(seed, STREAM_DEFECT, 0)
    names = sorted(CATEGORY_SHARES)
    weights = np.array([CATEGORY_SHARES[name] for name in names])
    plans = []
    index = n_images
    for kind, count in DEFECT_COUNTS.items():
        for _ in range(count):
            category = str(rng.choice(names, p=weights / weights.sum()))
            if kind == "palette_transparency":
                category = "cartoon"  # a sticker-like drawing
            plan = with_format(plan_image(seed, index, category, size_range, role=kind), DEFECT_FORMATS[kind])
            plans.append(replace(plan, progressive=False, **_defect_size(kind, rng, size_range)))
            index += 1
    return plans


def _defect_size(kind: str, rng: np.random.Generator, size_range: tuple[int, int]) -> dict:
    """Pixel size (and JPEG quality) that gives each defect exactly one reason to be excluded."""
    if kind == "tiny_file":
        width = int(rng.integers(56, 100))
        return {"width": width, "height": int(width * rng.uniform(0.6, 1.0)), "quality": int(rng.integers(30, 55))}
    if kind == "truncated_jpeg":  # large enough that the cut file is still above 5 kB
        width, height = sample_size(rng, (480, 1200))
        return {"width": width, "height": height, "quality": 90}
    if kind == "over_pixel_limit":
        width = int(rng.integers(6500, 7600))
        return {"width": width, "height": int(np.ceil(MAX_PIXELS * rng.uniform(1.03, 1.1) / width))}
    if kind == "small_side":
        return {"width": int(rng.integers(640, 1000)), "height": int(rng.integers(16, MIN_SIDE - 4))}
    width, height = sample_size(rng, size_range)
    return {"width": width, "height": height}


def make_defect(plan: ImagePlan, seed: int, accepted: DistinctHashes) -> tuple[PlantedFile, int]:
    """The file of one planted defect and the number of redraws its picture needed."""
    kind = plan.role
    rng = stream(seed, STREAM_DEFECT, 1, plan.index)
    size = (plan.width, plan.height)
    if kind == "not_an_image":
        data = enc.html_error_page(rng, BOOK_MIN_BYTES + 1000 + int(rng.integers(0, 3000)))
        return PlantedFile(data, plan.fmt, f"HTML error page ({len(data)} bytes) saved under an image name"), 0
    if kind == "small_side":
        return _thin_banner(size, rng, accepted), 0
    if kind == "tiny_file":
        canvas, redraws = draw_distinct(
            plan, seed, accepted, lambda c: enc.decode_rgb(enc.encode_jpeg(resize_to(c, size), plan.quality))
        )
        return _tiny_file(canvas, size, plan.quality), redraws
    if kind == "over_pixel_limit":
        canvas, redraws = draw_distinct(plan, seed, accepted, lambda c: enc.few_colours(c, 16).convert("RGB"))
        data = enc.oversized_png(canvas, size)
        return (
            PlantedFile(
                data,
                plan.fmt,
                f"{size[0]}x{size[1]} = {size[0] * size[1]} pixels (> {MAX_PIXELS}), " f"{len(data)} bytes",
            ),
            redraws,
        )
    if kind == "palette_transparency":
        canvas, redraws = draw_distinct(plan, seed, accepted, lambda c: enc.few_colours(c, 64).convert("RGB"))
        return (
            PlantedFile(
                enc.palette_png_with_transparency(resize_to(canvas, size)),
                plan.fmt,
                "palette (mode P) PNG with a transparent colour",
            ),
            redraws,
        )
    canvas, redraws = draw_distinct(plan, seed, accepted)
    final = resize_to(canvas, size)
    if kind == "truncated_jpeg":
        whole = enc.encode_jpeg(final, plan.quality)
        data = enc.truncate(whole, float(rng.uniform(0.4, 0.75)))
        return PlantedFile(data, plan.fmt, f"JPEG cut after {len(data)} of {len(whole)} bytes"), redraws
    if kind == "exif_rotated":
        orientation = int(dr.pick(rng, (6, 8)))
        return (
            PlantedFile(
                enc.exif_rotated_jpeg(final, orientation, plan.quality),
                plan.fmt,
                f"EXIF orientation {orientation}; pixels stored {size[1]}x{size[0]}, " f"upright {size[0]}x{size[1]}",
            ),
            redraws,
        )
    if kind == "cmyk_jpeg":
        return PlantedFile(enc.cmyk_jpeg(final, plan.quality), plan.fmt, "CMYK JPEG"), redraws
    if kind == "animated_gif":
        frames = animation_frames(final, rng)
        return PlantedFile(enc.animated_gif(frames), plan.fmt, f"animated GIF, {len(frames)} frames"), redraws
    raise ValueError(f"unknown planted defect kind {kind!r}")


def _tiny_file(canvas: Image.Image, size: tuple[int, int], quality: int) -> PlantedFile:
    small = resize_to(canvas, size)
    data = enc.encode_jpeg(small, quality)
    while len(data) >= BOOK_MIN_BYTES - 500 and quality > 10:
        quality -= 10
        data = enc.encode_jpeg(small, quality)
    return PlantedFile(data, "JPEG", f"{size[0]}x{size[1]} JPEG of {len(data)} bytes (< {BOOK_MIN_BYTES})")


def _thin_banner(size: tuple[int, int], rng: np.random.Generator, accepted: DistinctHashes) -> PlantedFile:
    """A slogan strip only a few pixels high, noisy enough to stay above 5 kB."""
    width, height = size
    font = dr.font(int(height * 0.7))
    for _ in range(20):
        banner = dr.vertical_gradient(
            size, dr.jitter(dr.pick(rng, dr.SHARED_COLOURS), rng), dr.jitter(dr.pick(rng, dr.SHARED_COLOURS), rng)
        )
        draw = ImageDraw.Draw(banner)
        x = float(rng.uniform(2, 20))
        while x < width:
            text = dr.pick(rng, dr.PLACARD_WORDS)
            draw.text(
                (x, height / 2),
                text,
                fill=dr.pick(rng, ((0, 0, 0), (255, 255, 255), (200, 30, 30))),
                font=font,
                anchor="lm",
            )
            x += font.getlength(text) + float(rng.uniform(10, 40))
        banner = dr.add_grain(banner, rng, 10.0)
        bits = phash_bits(banner)
        if accepted.nearest_distance(bits) > accepted.margin:
            accepted.add(bits)
            break
    data = enc.encode_png(banner)
    return PlantedFile(data, "PNG", f"{width}x{height} banner (shorter side < {MIN_SIDE}), {len(data)} bytes")


def animation_frames(first: Image.Image, rng: np.random.Generator, count: int = 4) -> list[Image.Image]:
    """Frames of a short loop: a badge moving across the picture."""
    frames = [first]
    r = max(3, min(first.size) // 14)
    for i in range(1, count):
        frame = first.copy()
        x = int((first.width - 2 * r) * i / count)
        ImageDraw.Draw(frame).ellipse((x, r, x + 2 * r, 3 * r), fill=dr.pick(rng, dr.BRIGHT_COLOURS))
        frames.append(frame)
    return frames
