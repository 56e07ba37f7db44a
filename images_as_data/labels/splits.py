"""Balanced, cluster-grouped, stratified train/validation(/test) splits (book Sections 4.4, 7.4).

Every random draw comes from a generator seeded by the config seed and the task name
(through SHA-256, not Python's salted ``hash``), so the same config gives byte-identical
split files on any machine. Duplicate clusters never cross splits.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from images_as_data.common.atomic import atomic_dir, write_csv
from images_as_data.common.tables import read_table

log = logging.getLogger(__name__)

SPLIT_ORDER = ("train", "val", "test")
SPLIT_COLUMNS = ["image_id", "path", "label", "split", "cluster_id"]
BALANCED_TYPES = ("binary", "emotion")


class SplitError(ValueError):
    """A task cannot be split as configured; the message names the task and class."""


def task_rng(seed: int, task: str) -> np.random.Generator:
    """A generator that depends only on the config seed and the task name."""
    task_key = int.from_bytes(hashlib.sha256(task.encode("utf-8")).digest()[:8], "big")
    return np.random.default_rng(np.random.SeedSequence([seed % 2**64, task_key]))


def split_fractions(splits_config: Mapping) -> dict[str, float]:
    """Fractions per split for the configured scheme (``train_val`` or ``train_val_test``)."""
    fractions = {"train": splits_config["train_fraction"], "val": splits_config["val_fraction"]}
    if splits_config["scheme"] == "train_val_test":
        fractions["test"] = splits_config["test_fraction"]
    return fractions


def split_targets(n: int, fractions: Mapping[str, float]) -> dict[str, int]:
    """Images per split for a class of ``n``: held-out splits round up, train gets the rest.

    Rounding held-out splits up reproduces the book's Table 7.1 (97 -> 77 train / 20 val).
    """
    # Guard against products such as 0.2 * 100 = 20.000000000000004 rounding up to 21.
    held_out = {name: math.ceil(n * fraction - 1e-9) for name, fraction in fractions.items() if name != "train"}
    return {"train": n - sum(held_out.values()), **held_out}


def balance_classes(labels: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Sample the larger class down to the smaller one's size (the book matches negatives to positives)."""
    counts = labels["label"].value_counts()
    if len(counts) < 2:
        return labels
    smallest = int(counts.min())
    kept = []
    for label in sorted(counts.index):
        rows = labels[labels["label"] == label].sort_values("image_id")
        if len(rows) > smallest:
            chosen = np.sort(rng.choice(len(rows), size=smallest, replace=False))
            log.info("balance: sampled %d of %d '%s' images", smallest, len(rows), label)
            rows = rows.iloc[chosen]
        kept.append(rows)
    return pd.concat(kept).sort_values("image_id").reset_index(drop=True)


def _cluster_table(labels: pd.DataFrame, task: str) -> pd.DataFrame:
    """One row per cluster: its size and class (the most common label among its images)."""
    sizes = labels.groupby("cluster_id").size().rename("size")
    by_label = labels.groupby(["cluster_id", "label"]).size().rename("n").reset_index()
    by_label = by_label.sort_values(["cluster_id", "n", "label"], ascending=[True, False, True])
    mixed = by_label["cluster_id"].duplicated(keep=False)
    if mixed.any():
        log.warning(
            "task %s: %d cluster(s) hold images of different classes (e.g. %s); each goes to one split as a whole",
            task,
            by_label.loc[mixed, "cluster_id"].nunique(),
            by_label.loc[mixed, "cluster_id"].iloc[0],
        )
    main_label = by_label.drop_duplicates("cluster_id").set_index("cluster_id")["label"]
    return pd.DataFrame({"size": sizes, "label": main_label}).reset_index()


def assign_cluster_splits(
    labels: pd.DataFrame, fractions: Mapping[str, float], rng: np.random.Generator, task: str
) -> dict[str, str]:
    """Map each cluster_id to a split, stratified by class, whole clusters only.

    Clusters of a class are shuffled, larger ones placed first, each going to the split
    furthest below its target; with single-image clusters the targets are met exactly.
    """
    clusters = _cluster_table(labels, task)
    assignment: dict[str, str] = {}
    for label in sorted(clusters["label"].unique()):
        members = clusters[clusters["label"] == label].sort_values("cluster_id").reset_index(drop=True)
        members = members.iloc[rng.permutation(len(members))]
        members = members.sort_values("size", ascending=False, kind="stable")
        n_images = int(members["size"].sum())
        targets = split_targets(n_images, fractions)
        if min(targets.values()) < 1 or len(members) < len(targets):
            raise SplitError(
                f"task {task}, class '{label}': {n_images} image(s) in {len(members)} cluster(s) cannot fill "
                f"splits {list(targets)} (targets {targets}); add images to this class or use fewer splits"
            )
        filled = dict.fromkeys(targets, 0)
        for cluster_id, size in zip(members["cluster_id"], members["size"]):
            split = max(targets, key=lambda name: (targets[name] - filled[name], -SPLIT_ORDER.index(name)))
            assignment[cluster_id] = split
            filled[split] += int(size)
        empty = [name for name, n in filled.items() if n == 0]
        if empty:
            raise SplitError(
                f"task {task}, class '{label}': duplicate clusters are too large to give split(s) {empty} "
                f"any image (filled {filled}); add images to this class or use fewer splits"
            )
        log.info("task %s, class %s: %s images per split (targets %s)", task, label, filled, targets)
    return assignment


def sort_splits(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows ordered by split (train, val, test), then label, then image_id."""
    order = frame["split"].map({name: rank for rank, name in enumerate(SPLIT_ORDER)})
    return frame.assign(_order=order).sort_values(["_order", "label", "image_id"]).drop(columns="_order")


def make_splits(labels: pd.DataFrame, task: str, task_type: str, splits_config: Mapping, seed: int) -> pd.DataFrame:
    """Split one task's labels; presplit tasks keep their given split."""
    if labels.empty:
        raise SplitError(f"task {task}: results/labels/{task}.csv has no images to split")
    if task_type == "presplit":
        unknown = sorted(set(labels["given_split"]) - set(SPLIT_ORDER))
        if unknown:
            raise SplitError(f"task {task}: given_split values {unknown} are not among {list(SPLIT_ORDER)}")
        split = labels.assign(split=labels["given_split"])
    else:
        rng = task_rng(seed, task)
        if splits_config["balance"] and task_type in BALANCED_TYPES:
            labels = balance_classes(labels, rng)
        assignment = assign_cluster_splits(labels, split_fractions(splits_config), rng, task)
        split = labels.assign(split=labels["cluster_id"].map(assignment))
    return sort_splits(split[SPLIT_COLUMNS]).reset_index(drop=True)


def link_name(image_id: str, path: str) -> str:
    """A flat, unique file name for an image in the split folders (keeps the file's extension)."""
    stem = image_id.replace(":", "_").replace("/", "__")
    suffix = Path(path).suffix
    return stem if stem.endswith(suffix) else stem + suffix


def materialise_split_folders(splits: pd.DataFrame, folder: str | os.PathLike) -> None:
    """Write ``<folder>/<split>/<class>/`` with relative symbolic links (the authors' layout)."""
    with atomic_dir(folder) as tmp:
        for row in splits.itertuples(index=False):
            link = tmp / row.split / row.label / link_name(row.image_id, row.path)
            link.parent.mkdir(parents=True, exist_ok=True)
            final_parent = Path(folder) / row.split / row.label
            target = os.path.relpath(Path(row.path).absolute(), final_parent.absolute())
            link.symlink_to(target)


def write_splits(
    labels_path: str | os.PathLike,
    out: str | os.PathLike,
    task: str,
    task_type: str,
    splits_config: Mapping,
    seed: int,
    folders_out: str | os.PathLike | None = None,
) -> pd.DataFrame:
    """Read a task's labels, split them and write the split CSV (and optionally the folders)."""
    splits = make_splits(read_table(labels_path), task, task_type, splits_config, seed)
    if folders_out:
        materialise_split_folders(splits, folders_out)
    write_csv(splits, out)
    return splits
