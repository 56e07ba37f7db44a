"""Deciding whether two images are one photograph: the pixel-level check dedupe runs on candidate pairs.

A pair of images is proposed by close hashes of two *views* (the whole picture, its
content inside borders, a mirror image, a slightly turned copy, a crop window; see
:mod:`.dedupe`). The views say how the two would align if they were one photograph;
:class:`Verifier` warps one onto the other that way and compares them block by block
(:func:`.image_match.compare`). Where that alignment does not hold (a rotation the
hashes only hinted at, a crop between windows, an overlay that moved the hash) and
``verify`` is ``features``, ORB keypoints matched with RANSAC give another alignment;
the closest one that still fails is refined on the pixels
(:func:`.image_match.refine_transform`), and must then pass by :data:`REFINED_MARGIN`.

:func:`judge` states the rule. Two images are one photograph when, aligned,

1. the region they share covers at least ``min_overlap`` of each one's content (so a
   2x zoom, which shows a quarter of the picture, or two crops overlapping less than
   half, are different pictures; a 20 % crop, a caption band or letterbox bars are not);
2. at least ``min_agreement`` of the blocks of that region agree (correlation of the
   block's pixels, which ignores brightness, contrast, colour and recompression);
3. no connected region larger than ``max_motion`` of it moved (dense optical flow, and
   patches of one found displaced in the other): a subject that moved between two
   frames of a burst, or the parallax of a stereo pair, moves a region (on a plain page,
   where the flow has little to track, the moved writing is found by its patches);
   recompression, resampling or an overlay barely move anything;
4. no connected patch of disagreeing blocks exceeds ``max_difference`` of it: a burst
   whose motion the flow missed still leaves such a patch; a watermark is smaller.

With ``bursts: merge`` rules 3 and 4 are dropped and rule 2 is relaxed to
:data:`BURST_AGREEMENT`, so bursts and stereo pairs merge.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

import numpy as np
from PIL import Image

from .image_match import (
    Comparison,
    View,
    compare,
    content_box,
    feature_transform,
    orb_features,
    refine_transform,
    turn_degrees,
    view_transform,
)

# Agreement required with bursts: merge (burst frames agree on most of the picture).
BURST_AGREEMENT = 0.5
# Fewer blocks than this in the shared region are too few to judge a pair on.
MIN_BLOCKS = 16
# Keypoint alignments scaling by more than this are implausible for a repost.
MAX_SCALE = 8.0
# Hash alignments tried per pair (closest view pairs first).
HINTS_TRIED = 4
# A failed alignment is refined on the pixels when at least this share of blocks agrees
# already: a near miss, not a different picture.
REFINE_AGREEMENT = 0.6
# How much further towards a perfect match a refined alignment must pass (see judge).
REFINED_MARGIN = 0.5


@dataclass(frozen=True)
class Decision:
    """The outcome of checking one pair, with the evidence for pairs.csv."""

    accepted: bool
    method: str  # how the pair was proposed: near, mirror, border, rotation, crop, url, hash
    reason: str
    distance: int | None = None  # Hamming distance of the closest views
    alignment: str = "none"  # hash (the views' alignment), keypoints (ORB + RANSAC) or none
    inliers: int | None = None
    coverage_a: float | None = None  # share of A's content in the shared region
    coverage_b: float | None = None
    agreement: float | None = None
    largest_difference: float | None = None
    motion: float | None = None
    angle: float | None = None  # degrees B is turned against A in the alignment judged (mirror aside)


def judge(comparison: Comparison, settings, margin: float = 0.0) -> tuple[bool, str]:
    """Apply the rule of the module docstring to one aligned comparison.

    ``margin`` (0 to 1) moves the agreement, difference and motion bars that share of
    the way towards a perfect match: an alignment fitted to the pixels themselves
    (:data:`REFINED_MARGIN`) can absorb some of a real difference, so it must pass by more.
    """
    min_agreement = settings.min_agreement + margin * (1 - settings.min_agreement)
    max_difference, max_motion = settings.max_difference * (1 - margin), settings.max_motion * (1 - margin)
    stricter = " for a refined alignment" if margin else ""
    shares = f"shared region covers {comparison.coverage_a:.0%} / {comparison.coverage_b:.0%} of the two"
    if comparison.blocks < MIN_BLOCKS:
        return False, f"shared region too small to compare ({comparison.blocks} blocks)"
    if comparison.coverage < settings.min_overlap:
        return False, f"{shares} (< min_overlap {settings.min_overlap:g}): different framing or zoom"
    agree = f"{comparison.agreement:.0%} of {comparison.blocks} blocks agree"
    if settings.bursts == "merge":
        if comparison.agreement < BURST_AGREEMENT:
            return False, f"only {agree} (< {BURST_AGREEMENT:g} with bursts: merge)"
        return True, f"{agree}; {shares}"
    if comparison.agreement < min_agreement:
        return False, f"only {agree} (< min_agreement {min_agreement:.2g}{stricter})"
    kept_apart = "near-identical but distinct photos (a burst, a stereo pair), kept apart (bursts: merge merges them)"
    if comparison.motion > max_motion:
        return False, f"{agree} but a region of {comparison.motion:.0%} moved (> max_motion {max_motion:.2g}{stricter}): {kept_apart}"
    if comparison.largest_difference > max_difference:
        return False, (
            f"{agree} but a connected {comparison.largest_difference:.0%} differs "
            f"(> max_difference {max_difference:.2g}{stricter}): {kept_apart}"
        )
    return True, f"{agree}; {shares}"


@dataclass
class Picture:
    """An image as the verifier sees it: grey levels at the analysis size, content box, views and their codes."""

    gray: np.ndarray
    box: tuple[int, int, int, int]
    views: list[View]
    codes: np.ndarray  # one row of bits per view
    features: object = None


class Verifier:
    """Checks pairs of images (by unit index), caching decoded pictures and keypoints.

    ``load(unit)`` returns the unit's analysis RGB image (PIL) and ``views_codes(unit)``
    its views and their code bits; both come from the dedupe stage. ``content(unit)``, where
    given, is the content box the analysis found on that image (fractions of its frame),
    which spares finding it again.
    """

    def __init__(
        self,
        settings,
        load: Callable[[int], Image.Image],
        views_codes: Callable[[int], tuple[list[View], np.ndarray]],
        combos: Callable[[View, View], bool],
        kind_of: Callable[[View, View], str],
        cache_size: int = 256,
        content: Callable[[int], tuple[float, float, float, float]] | None = None,
    ) -> None:
        self.settings = settings
        self.load = load
        self.views_codes = views_codes
        self.combos = combos
        self.kind_of = kind_of
        self.cache: OrderedDict[int, Picture] = OrderedDict()
        self.cache_size = cache_size
        self.content = content

    def picture(self, unit: int) -> Picture:
        if unit in self.cache:
            self.cache.move_to_end(unit)
            return self.cache[unit]
        rgb = self.load(unit)
        gray = np.asarray(rgb.convert("L"))
        views, codes = self.views_codes(unit)
        picture = Picture(gray, self._content_box(unit, rgb), views, codes)
        self.cache[unit] = picture
        if len(self.cache) > self.cache_size:
            self.cache.popitem(last=False)
        return picture

    def _content_box(self, unit: int, rgb: Image.Image) -> tuple[int, int, int, int]:
        if not self.settings.borders:
            return 0, 0, *rgb.size
        if self.content is None:
            return content_box(np.asarray(rgb))
        left, top, right, bottom = self.content(unit)
        return round(left * rgb.width), round(top * rgb.height), round(right * rgb.width), round(bottom * rgb.height)

    def hints(self, a: Picture, b: Picture) -> list[tuple[int, View, View]]:
        """(distance, view of A, view of B) for the allowed view pairs, closest first."""
        distance = np.bitwise_count(
            np.packbits(a.codes, axis=1)[:, None, :] ^ np.packbits(b.codes, axis=1)[None, :, :]
        ).sum(axis=2)
        found = [
            (int(distance[i, j]), i, j)
            for i, view_a in enumerate(a.views)
            for j, view_b in enumerate(b.views)
            if self.combos(view_a, view_b)
        ]
        found.sort()
        return [(d, a.views[i], b.views[j]) for d, i, j in found]

    def verify(self, unit_a: int, unit_b: int) -> Decision:
        """Is B one photograph with A? A is the cluster's root (or its candidate)."""
        a, b = self.picture(unit_a), self.picture(unit_b)
        hints = self.hints(a, b)
        distance, view_a, view_b = hints[0]
        method = self.kind_of(view_a, view_b)
        settings = self.settings
        if settings.verify == "none":
            if distance <= settings.max_distance:
                return Decision(True, method, f"views within {distance} bits (verify: none)", distance)
            return Decision(False, method, f"closest views {distance} bits apart (> max_distance)", distance)
        size_a, size_b = a.gray.shape[::-1], b.gray.shape[::-1]
        tried: list[tuple[Comparison, str, int | None, np.ndarray, float]] = []  # ..., judging margin
        seen = []
        for _, hint_a, hint_b in hints:
            matrix = view_transform(hint_a, size_a, hint_b, size_b)
            if any(np.allclose(matrix, other, atol=0.5) for other in seen):
                continue
            seen.append(matrix)
            comparison = compare(a.gray, a.box, b.gray, b.box, matrix)
            tried.append((comparison, "hash", None, matrix, 0.0))
            if judge(comparison, settings)[0] or len(seen) == HINTS_TRIED:
                break
        if not any(judge(t[0], settings)[0] for t in tried) and settings.verify == "features":
            for alignment in self._keypoint_alignments(a, b, size_b[0]):
                tried.append((compare(a.gray, a.box, b.gray, b.box, alignment.matrix), "keypoints", alignment.inliers, alignment.matrix, 0.0))
                if judge(tried[-1][0], settings)[0]:
                    break
        if not any(judge(t[0], settings)[0] for t in tried) and settings.verify == "features":
            # the closest alignment, refined on the pixels: a few pixels off over a turn or a
            # crop leave blocks near the edges disagreeing where nothing differs
            comparison, how, inliers, matrix, _ = max(tried, key=lambda t: _score(t[0], settings))
            if comparison.coverage >= settings.min_overlap and comparison.agreement >= REFINE_AGREEMENT:
                refined = refine_transform(a.gray, b.gray, b.box, matrix)
                if refined is not None:
                    tried.append((compare(a.gray, a.box, b.gray, b.box, refined), f"{how}, refined", inliers, refined, REFINED_MARGIN))
        comparison, how, inliers, matrix, margin = max(tried, key=lambda t: (judge(t[0], settings, t[4])[0], _score(t[0], settings)))
        accepted, reason = judge(comparison, settings, margin)
        return Decision(
            accepted,
            method,
            reason,
            distance,
            how,
            inliers,
            round(comparison.coverage_a, 3),
            round(comparison.coverage_b, 3),
            round(comparison.agreement, 3),
            round(comparison.largest_difference, 3),
            round(comparison.motion, 3) if comparison.motion_measured else None,
            round(turn_degrees(matrix), 2),
        )

    def _keypoint_alignments(self, a: Picture, b: Picture, width_b: int):
        for picture in (a, b):
            if picture.features is None:
                picture.features = orb_features(picture.gray, picture.box)
        found = feature_transform(a.features, b.features, width_b)
        return [
            alignment
            for alignment in found
            if 1 / MAX_SCALE <= np.sqrt(abs(np.linalg.det(alignment.matrix[:, :2]))) <= MAX_SCALE
        ]


def _score(comparison: Comparison, settings) -> float:
    """Order of rejected comparisons: how close each came to passing (for the report)."""
    return min(1.0, comparison.coverage / max(settings.min_overlap, 1e-9)) * comparison.agreement
