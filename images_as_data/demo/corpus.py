"""The embedded demo corpus: a synthetic stand-in for the book's #A14 Black Lives Matter images.

`generate_demo_corpus` writes, under one folder (docs/architecture.md, stage "demo"):

- `raw/<date>/<random name>.<ext>`: `n_images` distinct pictures (street protests,
  headshots, groups, screenshots, cartoons, landscapes, streets) plus planted duplicates
  and defective files;
- `annotations.csv`: one row per labelled image and annotator (protest, legend, five
  evoked-emotion scores 0..10);
- `metadata.csv`: image_id, url, shares (reposts share their original's URL);
- `planted.csv`: ground truth of every planted duplicate and defect, with the outcome
  the inventory and dedupe stages should reach (`expected_status`, `expected_reason`,
  `expected_match`);
- `world_leaders/{train,val}/<leader>/*.jpg` and `legend_external/{positive,negative}/*.jpg`.

The same arguments always give byte-identical files (with the same Pillow build).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import imagehash
import numpy as np
import pandas as pd
from PIL import Image

from ..common.atomic import atomic_dir, write_csv
from . import drawing as dr
from . import encoding as enc
from .annotation import (
    ANNOTATION_COLUMNS,
    LEGEND_LOOKALIKES,
    Annotator,
    ImageTruth,
    annotate,
    annotator_counts,
    choose_labelled,
    emotion_label_counts,
    make_annotators,
    pick_annotators,
)
from .people import LEADERS, LEGEND, OTHERS
from .plan import (
    STREAM_ANNOTATE,
    STREAM_COPY,
    STREAM_CORPUS,
    STREAM_LEADERS,
    STREAM_LEGEND_EXTERNAL,
    ImagePlan,
    allocate_categories,
    plan_image,
    sample_image_id,
    sample_shares,
    sample_size,
    sample_token,
    sample_url,
    stream,
    with_format,
)
from .planted import (
    ALWAYS_ANNOTATED_DEFECTS,
    EXPECTED_OUTCOME,
    KEPT_BYTES_FLOOR,
    MAX_PIXELS,
    MIN_SIDE,
    NEAR_COPY_MAX_DISTANCE,
    NEVER_ANNOTATED_DEFECTS,
    CopyJob,
    make_copy,
    make_defect,
    plan_copies,
    plan_defects,
)
from .render import DistinctHashes, canvas_size, draw_distinct, resize_to
from .scenes import render_face_crop, render_headshot

logger = logging.getLogger(__name__)

PLANTED_COLUMNS = ("image_id", "kind", "of_image_id", "detail", "expected_status", "expected_reason", "expected_match")
METADATA_COLUMNS = ("image_id", "url", "shares")
LEADER_TRAIN_SHARE = 0.8


def demo_layout(outdir: str | os.PathLike) -> dict[str, Path]:
    """The demo outputs under `outdir`, keyed like `demo_outputs()` in rules/common.smk."""
    outdir = Path(outdir)
    return {
        "raw": outdir / "raw",
        "annotations": outdir / "annotations.csv",
        "metadata": outdir / "metadata.csv",
        "planted": outdir / "planted.csv",
        "leaders": outdir / "world_leaders",
        "legend_positive": outdir / "legend_external" / "positive",
        "legend_negative": outdir / "legend_external" / "negative",
    }


def demo_outdir(outputs: Mapping[str, str | os.PathLike]) -> Path:
    """The folder that holds a rule's demo outputs; fails if they do not follow `demo_layout`.

    `outputs` may also be Snakemake's named output list (only `.items()` is used).
    """
    named = dict(outputs.items())
    if "annotations" not in named:
        raise ValueError("rule demo_corpus: output 'annotations' is missing; declare every key of demo_outputs()")
    outdir = Path(named["annotations"]).parent
    for key, expected in demo_layout(outdir).items():
        if key not in named:
            raise ValueError(f"rule demo_corpus: output '{key}' is missing; declare every key of demo_outputs()")
        if Path(named[key]) != expected:
            raise ValueError(
                f"rule demo_corpus: output '{key}' is {named[key]} but the demo corpus writes {expected}; "
                "keep the paths of demo_outputs() in rules/common.smk"
            )
    return outdir


def _check_arguments(
    n_images: int,
    labelled_fraction: float,
    leaders_per_class: int,
    legend_external_per_class: int,
    size_range: tuple[int, int],
) -> None:
    if n_images < 20:
        raise ValueError(f"demo.n_images is {n_images}; the demo corpus needs at least 20 images")
    if not 0 < labelled_fraction <= 1:
        raise ValueError(f"demo.labelled_fraction is {labelled_fraction}; it must be above 0 and at most 1")
    if leaders_per_class < 2:
        raise ValueError(
            f"demo.leaders_per_class is {leaders_per_class}; each leader needs at least 2 images "
            "(one for train, one for val)"
        )
    if legend_external_per_class < 0:
        raise ValueError(f"demo.legend_external_per_class is {legend_external_per_class}; it cannot be negative")
    low, high = size_range
    if not MIN_SIDE <= low <= high or high * high > MAX_PIXELS:
        raise ValueError(
            f"demo.size_range is {list(size_range)}; need {MIN_SIDE} <= low <= high and "
            f"high * high <= {MAX_PIXELS}, so ordinary images pass the default inventory checks"
        )


def plan_corpus(n_images: int, seed: int, size_range: tuple[int, int]) -> list[ImagePlan]:
    """Plans of the `n_images` distinct regular pictures, with unique image ids."""
    categories = allocate_categories(n_images, stream(seed, STREAM_CORPUS, 0))
    plans = [plan_image(seed, i, categories[i], size_range) for i in range(n_images)]
    rng = stream(seed, STREAM_CORPUS, 1)
    seen: set[str] = set()
    for i, plan in enumerate(plans):
        while plan.image_id.lower() in seen:
            plan = replace(plan, image_id=sample_image_id(rng, plan.fmt))
        seen.add(plan.image_id.lower())
        plans[i] = plan
    return plans


def image_truth(plan: ImagePlan) -> ImageTruth:
    """What annotators can see in a planned picture."""
    return ImageTruth(
        protest=plan.protest,
        legend=plan.legend,
        legend_is_small=plan.category == "legend_protest",
        lookalike=any(name in LEGEND_LOOKALIKES for name in plan.personas),
        emotions=plan.emotions,
    )


def annotator_pool(seed: int) -> list[Annotator]:
    """The corpus' annotators (the same pool for pictures, copies and defects)."""
    return make_annotators(stream(seed, STREAM_ANNOTATE, 0))


def annotate_plans(plans: list[ImagePlan], labelled_fraction: float, seed: int) -> list[dict]:
    """Annotation rows of the regular pictures: the most shared always, the rest at random."""
    shares = np.array([p.shares for p in plans])
    labelled = choose_labelled(shares, labelled_fraction, stream(seed, STREAM_ANNOTATE, 2))
    counts = annotator_counts(shares, stream(seed, STREAM_ANNOTATE, 3)) * labelled
    pool = annotator_pool(seed)
    rows: list[dict] = []
    for plan, count in zip(plans, counts):
        if count:
            rng = stream(seed, STREAM_ANNOTATE, 1, plan.index)
            rows.extend(annotate(plan.image_id, image_truth(plan), pick_annotators(pool, int(count), rng), rng))
    return rows


class _RawWriter:
    """Writes raw corpus files into a folder; collects metadata, ground truth and extra annotations."""

    def __init__(self, raw_dir: Path, seed: int) -> None:
        self.raw_dir = raw_dir
        self.seed = seed
        self.accepted = DistinctHashes()
        self.pool = annotator_pool(seed)
        self.metadata: list[dict] = []
        self.planted: list[dict] = []
        self.annotations: list[dict] = []
        self.redraws = 0
        self._used_ids: set[str] = set()

    def _write(self, image_id: str, data: bytes, url: str, shares: int) -> None:
        if image_id.lower() in self._used_ids:
            raise RuntimeError(f"demo corpus: image id {image_id} would be written twice")
        self._used_ids.add(image_id.lower())
        path = self.raw_dir / image_id
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.metadata.append({"image_id": image_id, "url": url, "shares": shares})

    def _plant(
        self,
        image_id: str,
        kind: str,
        of_image_id: str,
        detail: str,
        *,
        status: str = "kept",
        reason: str = "",
        match: str = "",
    ) -> None:
        self.planted.append(
            {
                "image_id": image_id,
                "kind": kind,
                "of_image_id": of_image_id,
                "detail": detail,
                "expected_status": status,
                "expected_reason": reason,
                "expected_match": match,
            }
        )

    def _annotate_once(self, image_id: str, plan: ImagePlan, rng: np.random.Generator) -> None:
        self.annotations.extend(annotate(image_id, image_truth(plan), pick_annotators(self.pool, 1, rng), rng))

    def write_regular(self, plan: ImagePlan, copies: list[CopyJob]) -> ImagePlan:
        """Draw, encode and write one distinct picture and its planted copies; returns the final plan."""
        canvas, redraws = draw_distinct(plan, self.seed, self.accepted)
        self.redraws += redraws
        data, plan = encode_kept(resize_to(canvas, (plan.width, plan.height)), canvas, plan)
        self._write(plan.image_id, data, plan.url, plan.shares)
        if copies:
            self._write_copies(plan, data, copies)
        return plan

    def _write_copies(self, original: ImagePlan, data: bytes, jobs: list[CopyJob]) -> None:
        decoded = enc.decode_rgb(data)
        original_hash = imagehash.phash(decoded)
        for job in jobs:
            rng = stream(self.seed, STREAM_COPY, 1, original.index, len(self.planted))
            planted = make_copy(job, original, data, decoded, rng)
            if planted.match in ("near", "url"):
                if imagehash.phash(enc.decode_rgb(planted.data)) - original_hash > NEAR_COPY_MAX_DISTANCE:
                    planted = make_copy(job, original, data, decoded, rng, gentle=True)
            image_id = sample_image_id(rng, planted.fmt)
            while image_id.lower() in self._used_ids:
                image_id = sample_image_id(rng, planted.fmt)
            url = original.url if job.kind == "repost" else sample_url(rng, planted.fmt)
            self._write(image_id, planted.data, url, sample_shares(rng))
            self._plant(image_id, job.kind, original.image_id, planted.detail, match=planted.match)
            if job.annotated:
                self._annotate_once(image_id, original, rng)
        self._plant(original.image_id, "original", "", f"original of {len(jobs)} planted copies")

    def write_defect(self, plan: ImagePlan, annotated: bool) -> None:
        """Write one planted defective or unusual file with its ground truth."""
        planted, redraws = make_defect(plan, self.seed, self.accepted)
        self.redraws += redraws
        status, reason = EXPECTED_OUTCOME[plan.role]
        self._write(plan.image_id, planted.data, plan.url, plan.shares)
        self._plant(plan.image_id, plan.role, "", planted.detail, status=status, reason=reason)
        if plan.role not in NEVER_ANNOTATED_DEFECTS and (annotated or plan.role in ALWAYS_ANNOTATED_DEFECTS):
            self._annotate_once(plan.image_id, plan, stream(self.seed, STREAM_ANNOTATE, 1, plan.index))


def encode_kept(final: Image.Image, canvas: Image.Image, plan: ImagePlan) -> tuple[bytes, ImagePlan]:
    """Encode as planned; a tiny smooth picture gets a higher quality, then PNG, so it stays above 5 kB."""
    data = enc.encode(final, plan.fmt, plan.quality, plan.progressive, canvas)
    if len(data) < KEPT_BYTES_FLOOR and plan.fmt in ("JPEG", "WEBP"):
        data = enc.encode(final, plan.fmt, 95, plan.progressive, canvas)
    grain_rng = np.random.default_rng(plan.index)
    while len(data) < KEPT_BYTES_FLOOR:
        plan = with_format(plan, "PNG")
        data = enc.encode_png(final)
        final = dr.add_grain(final, grain_rng, 6.0)
    return data, plan


def write_world_leaders(
    folder: Path, seed: int, per_class: int, size_range: tuple[int, int]
) -> dict[str, dict[str, int]]:
    """Face crops per leader in the authors' layout train/<leader>/ and val/<leader>/ (80/20)."""
    n_train = min(max(int(round(per_class * LEADER_TRAIN_SHARE)), 1), per_class - 1)
    low = max(size_range[0], 64)
    high = max(low, min(size_range[1], 360))
    counts: dict[str, dict[str, int]] = {}
    for leader_number, leader in enumerate(LEADERS):
        counts[leader.name] = {"train": n_train, "val": per_class - n_train}
        for i in range(per_class):
            rng = stream(seed, STREAM_LEADERS, leader_number, i)
            side = int(rng.integers(low, high + 1))
            size = (side, max(MIN_SIDE, int(side * rng.uniform(0.85, 1.18))))
            img = render_face_crop(rng, canvas_size(*size), leader)
            img = resize_to(dr.add_grain(img, rng, float(rng.uniform(2, 5))), size)
            path = folder / ("train" if i < n_train else "val") / leader.name / f"{sample_token(rng, 12)}.jpg"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(enc.encode_jpeg(img, int(rng.integers(80, 96))))
    return counts


def write_legend_external(folder: Path, positive: bool, seed: int, count: int, size_range: tuple[int, int]) -> int:
    """'Web search' pictures for the Legend task: Legend himself, or one other person."""
    folder.mkdir(parents=True, exist_ok=True)
    pool = list(OTHERS) * 2 + list(LEADERS)
    high = max(size_range[0], min(size_range[1], 900))
    for i in range(count):
        rng = stream(seed, STREAM_LEGEND_EXTERNAL, int(positive), i)
        persona = LEGEND if positive else pool[int(rng.integers(len(pool)))]
        size = sample_size(rng, (size_range[0], high), max_aspect=2.0)
        renderer = render_face_crop if rng.random() < 0.3 else render_headshot
        img = renderer(rng, canvas_size(*size), persona)
        img = resize_to(dr.add_grain(img, rng, float(rng.uniform(2, 5))), size)
        (folder / f"{sample_token(rng, 12)}.jpg").write_bytes(enc.encode_jpeg(img, int(rng.integers(75, 96))))
    return count


def generate_demo_corpus(
    outdir: str | os.PathLike,
    *,
    n_images: int = 800,
    seed: int = 2020,
    labelled_fraction: float = 0.85,
    leaders_per_class: int = 50,
    legend_external_per_class: int = 40,
    size_range: tuple[int, int] = (150, 1600),
) -> dict:
    """Write the demo corpus under `outdir` (layout: `demo_layout`) and return a summary of its contents.

    `n_images` counts distinct regular pictures; planted copies and defective files come
    on top. Folders are replaced atomically; memory use does not grow with the pictures.
    """
    size_range = (int(size_range[0]), int(size_range[1]))
    _check_arguments(n_images, labelled_fraction, leaders_per_class, legend_external_per_class, size_range)
    layout = demo_layout(outdir)
    plans = plan_corpus(n_images, seed, size_range)
    copies = plan_copies(plans, seed)
    defects = plan_defects(n_images, seed, size_range)
    defect_labelled = stream(seed, STREAM_ANNOTATE, 4).random(len(defects)) < labelled_fraction

    with atomic_dir(layout["raw"]) as raw_tmp:
        writer = _RawWriter(raw_tmp, seed)
        written = []
        for plan in plans:
            written.append(writer.write_regular(plan, copies.get(plan.index, [])))
            if (plan.index + 1) % 500 == 0:
                logger.info("demo corpus: %d of %d pictures written", plan.index + 1, n_images)
        for plan, labelled in zip(defects, defect_labelled):
            writer.write_defect(plan, bool(labelled))

    annotations = pd.DataFrame(
        annotate_plans(written, labelled_fraction, seed) + writer.annotations, columns=list(ANNOTATION_COLUMNS)
    ).sort_values(["image_id", "annotator"], kind="stable")
    metadata = pd.DataFrame(writer.metadata, columns=list(METADATA_COLUMNS)).sort_values("image_id", kind="stable")
    planted = pd.DataFrame(writer.planted, columns=list(PLANTED_COLUMNS)).sort_values(
        ["kind", "image_id"], kind="stable"
    )
    write_csv(annotations, layout["annotations"])
    write_csv(metadata, layout["metadata"])
    write_csv(planted, layout["planted"])

    with atomic_dir(layout["leaders"]) as leaders_tmp:
        leader_counts = write_world_leaders(leaders_tmp, seed, leaders_per_class, size_range)
    external = {}
    for label in ("positive", "negative"):
        with atomic_dir(layout[f"legend_{label}"]) as tmp:
            external[label] = write_legend_external(
                tmp, label == "positive", seed, legend_external_per_class, size_range
            )
    return _summary(written, writer, annotations, planted, leader_counts, external)


def _summary(
    plans: list[ImagePlan],
    writer: _RawWriter,
    annotations: pd.DataFrame,
    planted: pd.DataFrame,
    leader_counts: dict,
    external: dict,
) -> dict:
    def counts(values) -> dict[str, int]:
        return {str(k): int(v) for k, v in pd.Series(values, dtype=object).value_counts().sort_index().items()}

    return {
        "n_images": len(plans),
        "n_files": len(writer.metadata),
        "categories": counts([p.category for p in plans]),
        "formats": counts([p.fmt for p in plans]),
        "protest_images": sum(p.protest for p in plans),
        "legend_images": sum(p.legend for p in plans),
        "planted": counts(planted["kind"]),
        "labelled_images": int(annotations["image_id"].nunique()),
        "annotation_rows": len(annotations),
        "annotators_per_image": counts(annotations.groupby("image_id").size()),
        "emotion_labels": emotion_label_counts(annotations),
        "world_leaders": leader_counts,
        "legend_external": external,
        "redraws_for_distinctness": writer.redraws,
    }
