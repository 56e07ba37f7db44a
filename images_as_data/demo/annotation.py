"""Synthetic human annotators for the demo corpus (book Section 5).

Each annotator sees the latent content of an image and reports protest / Legend (0/1,
with a few per cent of mistakes) and five evoked-emotion scores (0..10) that follow the
image's latent cue intensities, scaled by the annotator's own tendency and noise.
The most shared images get several annotators, as in the book.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .scenes import EMOTIONS

ANNOTATION_COLUMNS: tuple[str, ...] = ("image_id", "annotator", "protest", "legend", *EMOTIONS)
MOST_SHARED_SHARE = 0.12  # the book: the 1,000 most shared of ~8,000 images had several annotators
LEGEND_LOOKALIKES = frozenset({"other_07", "other_09"})


@dataclass(frozen=True)
class Annotator:
    """One annotator's habits."""

    name: str
    gain: float  # how strongly they rate emotions (1 = as the latent intensity suggests)
    noise_sd: float  # scatter of their emotion scores
    flip_rate: float  # share of protest labels they get wrong


@dataclass(frozen=True)
class ImageTruth:
    """What an annotator can see in an image."""

    protest: bool
    legend: bool
    legend_is_small: bool  # Legend present but small (in a crowd), easier to miss
    lookalike: bool  # someone who resembles Legend is present
    emotions: tuple[float, ...]


def make_annotators(rng: np.random.Generator, count: int = 8) -> list[Annotator]:
    """A pool of annotators with different habits."""
    return [
        Annotator(
            name=f"annotator_{i + 1:02d}",
            gain=float(rng.uniform(0.8, 1.2)),
            noise_sd=float(rng.uniform(0.6, 1.4)),
            flip_rate=float(rng.uniform(0.01, 0.045)),
        )
        for i in range(count)
    ]


def choose_labelled(shares: np.ndarray, labelled_fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Which images get annotated: all of the most shared ones, then a random draw of the rest."""
    n = len(shares)
    order = np.argsort(-shares, kind="stable")
    n_top = int(round(MOST_SHARED_SHARE * n))
    n_labelled = max(int(round(labelled_fraction * n)), min(n_top, n))
    labelled = np.zeros(n, dtype=bool)
    labelled[order[:n_top]] = True
    rest = order[n_top:]
    labelled[rng.permutation(rest)[: n_labelled - n_top]] = True
    return labelled


def annotator_counts(shares: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """1 to 3 annotators per image; the most shared images mostly get 3."""
    n = len(shares)
    most_shared = np.zeros(n, dtype=bool)
    most_shared[np.argsort(-shares, kind="stable")[: int(round(MOST_SHARED_SHARE * n))]] = True
    counts = np.where(rng.random(n) < 0.9, 1, 2)
    return np.where(most_shared, np.where(rng.random(n) < 0.7, 3, 2), counts)


def _emotion_score(level: float, annotator: Annotator, image_has_emotion: bool, rng: np.random.Generator) -> int:
    if level <= 0:
        # Now and then someone feels a trace of an emotion the picture barely carries.
        return int(rng.integers(1, 3)) if image_has_emotion and rng.random() < 0.04 else 0
    score = 10 * level * annotator.gain * rng.uniform(0.85, 1.15) + rng.normal(0, annotator.noise_sd)
    return int(np.clip(round(score), 0, 10))


def _legend_answer(truth: ImageTruth, rng: np.random.Generator) -> int:
    if truth.legend:
        return int(rng.random() >= (0.12 if truth.legend_is_small else 0.04))
    return int(rng.random() < (0.05 if truth.lookalike else 0.002))


def annotate(image_id: str, truth: ImageTruth, annotators: list[Annotator], rng: np.random.Generator) -> list[dict]:
    """One annotation row per annotator for one image."""
    has_emotion = any(level > 0 for level in truth.emotions)
    rows = []
    for annotator in annotators:
        protest = int(truth.protest) ^ int(rng.random() < annotator.flip_rate)
        row = {
            "image_id": image_id,
            "annotator": annotator.name,
            "protest": protest,
            "legend": _legend_answer(truth, rng),
        }
        for emotion, level in zip(EMOTIONS, truth.emotions):
            row[emotion] = _emotion_score(level, annotator, has_emotion, rng)
        rows.append(row)
    return rows


def pick_annotators(pool: list[Annotator], count: int, rng: np.random.Generator) -> list[Annotator]:
    """`count` different annotators from the pool."""
    return [pool[i] for i in sorted(rng.choice(len(pool), size=count, replace=False))]


def emotion_label_counts(annotations: pd.DataFrame, min_score: float = 3, min_gap: float = 3) -> dict[str, int]:
    """Positives per emotion under the book's rule (Section 7.3), plus images evoking none.

    An image is positive for E when its mean score of E is at least `min_score`, E is the
    top emotion and beats the second by at least `min_gap`; `none` counts all-zero means.
    """
    means = annotations.groupby("image_id")[list(EMOTIONS)].mean()
    ordered = np.sort(means.to_numpy(), axis=1)
    top, second = ordered[:, -1], ordered[:, -2]
    winner = means.idxmax(axis=1)
    positive = (top >= min_score) & (top - second >= min_gap)
    counts = {e: int((positive & (winner == e)).sum()) for e in EMOTIONS}
    counts["none"] = int((top == 0).sum())
    return counts
