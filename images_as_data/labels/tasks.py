"""Turn aggregated annotations and image folders into per-task labels (book Sections 5, 7.3).

Task types: ``binary`` (an annotation column, any yes = positive, optionally supplemented
with external image folders as in the book's John Legend task), ``emotion`` (the book's
Section 7.3 rule), ``folders`` (``<path>/<class>/*``) and ``presplit``
(``<path>/<split>/<class>/*``, the authors' layout, splits kept as given).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
from PIL import Image

from images_as_data.common.atomic import write_csv
from images_as_data.common.hashing import file_sha256
from images_as_data.common.listing import list_tree
from images_as_data.common.tables import read_table

log = logging.getLogger(__name__)

POSITIVE = "positive"
NEGATIVE = "negative"
LABEL_COLUMNS = ["image_id", "path", "label", "source", "cluster_id"]
# Means of integer scores (e.g. 10/3 - 1/3) are not exact in binary floating point;
# comparisons against the thresholds allow this much rounding error.
SCORE_TOLERANCE = 1e-9


class LabelError(ValueError):
    """A problem with a task's inputs; the message names the task, file or folder to fix."""


def image_extensions() -> frozenset[str]:
    """File extensions that Pillow can open (lower case, with the dot)."""
    Image.init()
    return frozenset(ext for ext, fmt in Image.registered_extensions().items() if fmt in Image.OPEN)



def list_images(folder: str | os.PathLike) -> list[Path]:
    """Image files under ``folder`` (recursively, hidden entries skipped), relative and sorted.

    Folders are walked by :func:`images_as_data.common.listing.list_tree` (links followed,
    loops listed once), the listing whose snapshot tells the workflow that the folder changed.
    """
    root = Path(folder)
    if not root.is_dir():
        raise LabelError(f"image folder {root} does not exist or is not a folder; fix the path in the config")
    extensions = image_extensions()
    images, skipped, unusable = [], [], []
    for entry in list_tree(root, outside="follow"):
        relative = Path(entry.path)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if not entry.usable:
            unusable.append(f"{relative} ({entry.kind})")
        else:
            (images if relative.suffix.lower() in extensions else skipped).append(relative)
    if skipped:
        log.warning("%s: skipped %d non-image file(s), e.g. %s", root, len(skipped), skipped[0])
    if unusable:
        log.warning("%s: skipped %d entries that are not files: %s", root, len(unusable), ", ".join(unusable[:10]))
    return images


def corpus_paths(aggregated: pd.DataFrame, manifest: pd.DataFrame) -> pd.DataFrame:
    """Aggregated rows with the root's working-image path; every cluster must have one."""
    paths = manifest.drop_duplicates("cluster_id").set_index("cluster_id")["path"]
    joined = aggregated.join(paths, on="cluster_id")
    missing = joined.loc[joined["path"].isna(), "cluster_id"].tolist()
    if missing:
        raise LabelError(
            f"clusters {missing[:10]} of aggregated.csv have no working image in the manifest; "
            "the labels are stale, rerun aggregate_annotations"
        )
    return joined


def _corpus_frame(rows: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "image_id": rows["cluster_id"],
            "path": rows["path"],
            "label": labels,
            "source": "corpus",
            "cluster_id": rows["cluster_id"],
        }
    )


def binary_labels(aggregated: pd.DataFrame, manifest: pd.DataFrame, column: str) -> pd.DataFrame:
    """Corpus labels of a binary task: positive when any annotator said yes."""
    if column not in aggregated.columns:
        raise LabelError(f"aggregated annotations have no column '{column}'; check the task's `column`")
    rows = corpus_paths(aggregated, manifest)
    yes = pd.to_numeric(rows[column]).astype(int) == 1
    return _corpus_frame(rows, yes.map({True: POSITIVE, False: NEGATIVE}))


def emotion_label(scores: Mapping[str, float], emotion: str, min_score: float, min_gap: float) -> str | None:
    """Book Section 7.3: positive, negative or None (image not used) for one image's mean scores.

    Positive: the emotion's mean is at least ``min_score``, strictly the highest, and at
    least ``min_gap`` above the second highest. Negative: every mean is 0.
    """
    values = {name: float(value) for name, value in scores.items()}
    if all(abs(value) <= SCORE_TOLERANCE for value in values.values()):
        return NEGATIVE
    own = values[emotion]
    others = [value for name, value in values.items() if name != emotion]
    second = max(others, default=float("-inf"))
    strictly_highest = own > second + SCORE_TOLERANCE
    if own >= min_score - SCORE_TOLERANCE and strictly_highest and own - second >= min_gap - SCORE_TOLERANCE:
        return POSITIVE
    return None


def emotion_labels(
    aggregated: pd.DataFrame,
    manifest: pd.DataFrame,
    emotion: str,
    emotions: Sequence[str],
    min_score: float,
    min_gap: float,
) -> pd.DataFrame:
    """Corpus labels of an emotion task; images that are neither positive nor negative are dropped."""
    missing = [name for name in emotions if name not in aggregated.columns]
    if missing:
        raise LabelError(f"aggregated annotations lack emotion column(s) {missing}; check labels.emotions")
    rows = corpus_paths(aggregated, manifest)
    scores = rows[list(emotions)].apply(pd.to_numeric)
    labels = pd.Series(
        [emotion_label(row, emotion, min_score, min_gap) for row in scores.to_dict("records")], index=rows.index
    )
    used = labels.notna()
    log.info(
        "emotion %s: %d positive, %d negative, %d dropped (neither a clear %s nor all emotions 0)",
        emotion,
        int((labels == POSITIVE).sum()),
        int((labels == NEGATIVE).sum()),
        int((~used).sum()),
        emotion,
    )
    return _corpus_frame(rows[used], labels[used])


def _hashed_cluster(path: Path, corpus_clusters: Mapping[str, str]) -> str:
    digest = file_sha256(path)
    return corpus_clusters.get(digest, f"sha256:{digest}")


def _folder_frame(
    image_ids: Sequence[str],
    paths: Sequence[Path],
    labels: Sequence[str],
    source: str,
    corpus_clusters: Mapping[str, str],
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "image_id": list(image_ids),
            "path": [path.as_posix() for path in paths],
            "label": list(labels),
            "source": source,
            "cluster_id": [_hashed_cluster(path, corpus_clusters) for path in paths],
        },
        columns=LABEL_COLUMNS,
    )


def _task_ids(task: str, relatives: Sequence[Path]) -> list[str]:
    return [f"{task}:{relative.as_posix()}" for relative in relatives]


def external_labels(
    task: str, folders: Mapping[str, str | os.PathLike], corpus_clusters: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Extra images for a binary task from one folder per class (``positive``/``negative``).

    Ids are ``<task>:<class>/<file>``; the cluster id is the corpus cluster of an exact copy
    (by sha256) or ``sha256:<digest>``, so copies always land in the same split.
    """
    frames = []
    for label, folder in sorted(folders.items()):
        images = list_images(folder)
        if not images:
            log.warning("task %s: external %s folder %s holds no images", task, label, folder)
        ids = _task_ids(task, [Path(label) / image for image in images])
        paths = [Path(folder) / image for image in images]
        frames.append(_folder_frame(ids, paths, [label] * len(images), "external", corpus_clusters or {}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=LABEL_COLUMNS)


def folder_labels(task: str, root: str | os.PathLike) -> pd.DataFrame:
    """Labels of a ``folders`` task: ``<root>/<class>/...``; the class is the first folder."""
    root = Path(root)
    images = list_images(root)
    loose = [image for image in images if len(image.parts) < 2]
    if loose:
        raise LabelError(f"task {task}: {root / loose[0]} is not inside a class folder; move it into {root}/<class>/")
    if not images:
        raise LabelError(f"task {task}: {root} holds no images in class folders")
    paths = [root / image for image in images]
    return _folder_frame(_task_ids(task, images), paths, [image.parts[0] for image in images], "folder", {})


def presplit_folders(val_folder: str = "val") -> dict[str, str]:
    """Folder name -> split of a presplit task: train/, the validation folder (`val_folder`,
    `val` by default; the authors' data name it `test`) and, unless that is it, test/."""
    folders = {"train": "train", val_folder: "val"}
    if val_folder != "test":
        folders["test"] = "test"
    return folders


def presplit_labels(task: str, root: str | os.PathLike, val_folder: str = "val") -> pd.DataFrame:
    """Labels of a ``presplit`` task: ``<root>/<folder>/<class>/...`` with the split recorded.

    The folder ``val_folder`` is the validation set; the authors' companion data have
    ``train/`` and ``test/`` and their scripts use ``test/`` for validation (val_folder: test).
    """
    root = Path(root)
    folders = presplit_folders(val_folder)
    images = list_images(root)
    key = f"tasks.{task}.val_folder"
    for image in images:
        if len(image.parts) < 3 or image.parts[0] not in folders:
            raise LabelError(
                f"task {task}: {root / image} is not at <folder>/<class>/<file> with folder one of {list(folders)} "
                f"({key} is '{val_folder}'); move it, set {key} to the name of your validation folder, "
                "or use task type 'folders'"
            )
    present = {image.parts[0] for image in images}
    for required in ("train", val_folder):
        if required not in present:
            hint = ""
            if required == val_folder and "test" in present and val_folder != "test":
                hint = f"; if {root}/test/ is the validation set (the authors' layout), set {key}: test"
            raise LabelError(
                f"task {task}: {root}/{required}/ holds no images; a presplit task needs train/ and its "
                f"validation folder {val_folder}/ ({key}){hint}"
            )
    paths = [root / image for image in images]
    frame = _folder_frame(_task_ids(task, images), paths, [image.parts[1] for image in images], "folder", {})
    frame["given_split"] = [folders[image.parts[0]] for image in images]
    classes_by_split = frame.groupby("given_split")["label"].apply(set)
    if classes_by_split.map(frozenset).nunique() > 1:
        log.warning("task %s: the splits hold different classes: %s", task, classes_by_split.to_dict())
    if val_folder != "val":
        log.info("task %s: the folder %s/ is the validation set (%s)", task, val_folder, key)
    return frame


def corpus_sha_clusters(inventory: pd.DataFrame, clusters: pd.DataFrame) -> dict[str, str]:
    """sha256 of every kept corpus file -> its cluster id (to group external copies with it)."""
    kept = inventory[inventory["status"] == "kept"][["image_id", "sha256"]]
    joined = kept.merge(clusters[["image_id", "cluster_id"]], on="image_id", how="inner")
    return dict(zip(joined["sha256"], joined["cluster_id"]))


def build_task_labels(
    task: str,
    spec: Mapping,
    labels_config: Mapping,
    aggregated: pd.DataFrame | None = None,
    manifest: pd.DataFrame | None = None,
    corpus_clusters: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """All labelled images of one task, sorted by image_id (columns per docs/architecture.md)."""
    kind = spec["type"]
    if kind in ("binary", "emotion") and (aggregated is None or manifest is None):
        raise LabelError(f"task {task}: a {kind} task needs the aggregated annotations and the working manifest")
    if kind == "binary":
        frame = binary_labels(aggregated, manifest, spec["column"])
        if spec.get("external"):
            frame = pd.concat([frame, external_labels(task, spec["external"], corpus_clusters)], ignore_index=True)
    elif kind == "emotion":
        frame = emotion_labels(
            aggregated,
            manifest,
            spec.get("emotion", task),
            labels_config["emotions"],
            labels_config["emotion_min_score"],
            labels_config["emotion_min_gap"],
        )
    elif kind == "folders":
        frame = folder_labels(task, spec["path"])
    elif kind == "presplit":
        frame = presplit_labels(task, spec["path"], spec.get("val_folder", "val"))
    else:
        raise LabelError(f"tasks.{task}.type '{kind}' is not one of binary, emotion, folders, presplit")
    counts = frame["label"].value_counts().sort_index().to_dict()
    log.info("task %s (%s): %d images, per class %s", task, kind, len(frame), counts)
    return frame.sort_values("image_id").reset_index(drop=True)


def write_task_labels(
    task: str,
    spec: Mapping,
    labels_config: Mapping,
    out: str | os.PathLike,
    aggregated_path: str | os.PathLike | None = None,
    manifest_path: str | os.PathLike | None = None,
    inventory_path: str | os.PathLike | None = None,
    clusters_path: str | os.PathLike | None = None,
) -> pd.DataFrame:
    """Read the task's inputs, build its labels and write ``results/labels/<task>.csv``."""
    aggregated = read_table(aggregated_path) if aggregated_path else None
    manifest = read_table(manifest_path) if manifest_path else None
    corpus_clusters = None
    if inventory_path and clusters_path:
        corpus_clusters = corpus_sha_clusters(read_table(inventory_path), read_table(clusters_path))
    frame = build_task_labels(task, spec, labels_config, aggregated, manifest, corpus_clusters)
    write_csv(frame, out)
    return frame
