"""Read, validate and aggregate the human annotation sheet (book Section 5).

The sheet is long: one row per image and annotator, with binary columns (protest, legend)
and emotion scores. Validation is strict and reports rows as a spreadsheet shows them
(the header is row 1), so a researcher can fix the sheet directly. Annotations of
duplicate images are pooled onto their cluster root: binary = any annotator said yes,
emotions = mean over all annotation rows of the cluster.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import pandas as pd

from images_as_data.common.atomic import write_csv, write_if_changed
from images_as_data.common.image_ids import image_id_problem
from images_as_data.common.tables import UserFileError, read_table, read_user_csv

log = logging.getLogger(__name__)

ID_COLUMNS = ("image_id", "annotator")
BINARY_VALUES = {"1": 1, "0": 0, "yes": 1, "no": 0, "true": 1, "false": 0}
ALLOWED_BINARY = "0, 1, yes, no, true, false"
MAX_LISTED_PROBLEMS = 25
# Annotated images that cannot be used are excluded for every annotation-based task.
ALL_TASKS = "all"


class AnnotationError(ValueError):
    """A problem in the annotation sheet; the message names the file, row and fix."""


def sheet_row(index: int) -> int:
    """Row number a spreadsheet user sees for a 0-based data row (the header is row 1)."""
    return index + 2


def _read_sheet(path: Path) -> pd.DataFrame:
    try:
        return read_user_csv(path)
    except UserFileError as exc:
        raise AnnotationError(str(exc)) from exc


def _missing_columns(
    frame: pd.DataFrame,
    path: Path,
    binary_columns: Sequence[str],
    emotions: Sequence[str],
    column_keys: Mapping[str, Sequence[str]] | None = None,
) -> None:
    missing = [c for c in (*ID_COLUMNS, *binary_columns, *emotions) if c not in frame.columns]
    if missing:
        keys = {**{c: ["labels.emotions"] for c in emotions}, **(column_keys or {})}
        asked = [f"'{c}' (asked for by {', '.join(keys[c])})" for c in missing if c in keys]
        raise AnnotationError(
            f"{path}: row 1 (header) lacks the required column(s) {missing}; add them to the sheet "
            f"or change the config key that asks for them"
            + (f": {'; '.join(asked)}" if asked else " (binary columns come from tasks.<name>.column, emotion columns from labels.emotions)")
            + f". Header found: {list(frame.columns)}"
        )


def _id_problems(frame: pd.DataFrame, known_ids: set[str]) -> Iterable[tuple[int, str]]:
    for index, (image_id, annotator) in enumerate(zip(frame["image_id"], frame["annotator"])):
        problem = image_id_problem(image_id)
        if problem:
            yield index, (
                f"image_id '{image_id}' is not a valid id ({problem}); "
                "give the path relative to data.images with '/' between folders"
            )
        elif image_id not in known_ids:
            yield index, (
                f"image_id '{image_id}' is not in the inventory (no such file under data.images); "
                "fix the id or remove the row"
            )
        if not annotator:
            yield index, "annotator is empty; name who annotated the image"


def _binary_problems(frame: pd.DataFrame, column: str) -> Iterable[tuple[int, str]]:
    for index, value in enumerate(frame[column]):
        if value.lower() not in BINARY_VALUES:
            yield index, f"column '{column}' has '{value}'; use one of {ALLOWED_BINARY}"


def _score_problems(frame: pd.DataFrame, column: str, score_range: Sequence[float]) -> Iterable[tuple[int, str]]:
    low, high = score_range
    scores = pd.to_numeric(frame[column], errors="coerce")
    for index, (raw, score) in enumerate(zip(frame[column], scores)):
        if raw == "":
            yield index, f"column '{column}' is empty; give a score from {low} to {high}"
        elif pd.isna(score):
            yield index, f"column '{column}' has '{raw}', not a number; give a score from {low} to {high}"
        elif not low <= score <= high:
            yield index, f"column '{column}' has {raw}, outside labels.score_range [{low}, {high}]"


def _duplicate_problems(frame: pd.DataFrame) -> Iterable[tuple[int, str]]:
    first_row: dict[tuple[str, str], int] = {}
    for index, key in enumerate(zip(frame["image_id"], frame["annotator"])):
        if key in first_row:
            yield index, (
                f"image '{key[0]}' by annotator '{key[1]}' repeats row {sheet_row(first_row[key])}; "
                "keep one of the two rows"
            )
        else:
            first_row[key] = index


def read_annotations(
    path: str | os.PathLike,
    binary_columns: Sequence[str],
    emotions: Sequence[str],
    score_range: Sequence[float],
    known_ids: Iterable[str],
    column_keys: Mapping[str, Sequence[str]] | None = None,
) -> pd.DataFrame:
    """Read and check the annotation sheet; return it with 0/1 binary and float emotion columns.

    ``column_keys`` names, per binary column, the config keys that ask for it (for the
    message when the sheet lacks it). Raises AnnotationError listing every bad row (file,
    row number, what to fix).
    """
    path = Path(path)
    frame = _read_sheet(path)
    _missing_columns(frame, path, binary_columns, emotions, column_keys)
    known = set(known_ids)
    problems = list(_id_problems(frame, known))
    for column in binary_columns:
        problems.extend(_binary_problems(frame, column))
    for column in emotions:
        problems.extend(_score_problems(frame, column, score_range))
    problems.extend(_duplicate_problems(frame))
    if problems:
        problems.sort(key=lambda problem: problem[0])
        listed = [f"{path}, row {sheet_row(index)}: {message}" for index, message in problems[:MAX_LISTED_PROBLEMS]]
        more = len(problems) - len(listed)
        if more:
            listed.append(f"... and {more} more problem(s)")
        raise AnnotationError(f"{len(problems)} problem(s) in the annotation sheet {path}:\n" + "\n".join(listed))
    extra = [c for c in frame.columns if c not in (*ID_COLUMNS, *binary_columns, *emotions)]
    if extra:
        log.info("%s: ignoring columns no task uses: %s", path, extra)
    checked = frame[[*ID_COLUMNS]].copy()
    for column in binary_columns:
        checked[column] = frame[column].str.lower().map(BINARY_VALUES).astype(int)
    for column in emotions:
        checked[column] = pd.to_numeric(frame[column]).astype(float)
    return checked


def attach_clusters(
    annotations: pd.DataFrame, inventory: pd.DataFrame, clusters: pd.DataFrame, manifest: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Give each annotation row its cluster root; return (usable rows, excluded images).

    Excluded: images the inventory excluded (with its reason) and clusters whose root has
    no working image. Usable rows gain a ``cluster_id`` column.
    """
    status = inventory.set_index("image_id")[["status", "reason"]]
    annotated = annotations.join(status, on="image_id")
    dropped_by_inventory = annotated[annotated["status"] != "kept"]
    excluded = [
        pd.DataFrame(
            {
                "image_id": dropped_by_inventory["image_id"],
                "task": ALL_TASKS,
                "reason": "excluded by the inventory: " + dropped_by_inventory["reason"].astype(str),
            }
        )
    ]
    kept = annotated[annotated["status"] == "kept"].drop(columns=["status", "reason"])
    kept = kept.join(clusters.set_index("image_id")["cluster_id"], on="image_id")
    unclustered = sorted(kept.loc[kept["cluster_id"].isna(), "image_id"].unique())
    if unclustered:
        raise ValueError(
            f"images kept by the inventory are missing from the dedupe clusters CSV: {unclustered[:10]}; "
            "the dedupe output is stale or incomplete, rerun the dedupe rule"
        )
    has_working = kept["cluster_id"].isin(set(manifest["cluster_id"]))
    no_working = kept[~has_working]
    excluded.append(
        pd.DataFrame(
            {
                "image_id": no_working["image_id"],
                "task": ALL_TASKS,
                "reason": "cluster root " + no_working["cluster_id"] + " has no working image",
            }
        )
    )
    excluded_frame = pd.concat(excluded, ignore_index=True).drop_duplicates().sort_values("image_id")
    return kept[has_working].reset_index(drop=True), excluded_frame.reset_index(drop=True)


def aggregate_by_cluster(
    annotations: pd.DataFrame, binary_columns: Sequence[str], emotions: Sequence[str]
) -> pd.DataFrame:
    """One row per cluster root: counts, any-yes binary labels and mean emotion scores."""
    grouped = annotations.groupby("cluster_id", sort=True)
    aggregated = pd.DataFrame(
        {
            "n_annotators": grouped["annotator"].nunique(),
            "n_images_annotated": grouped["image_id"].nunique(),
        }
    )
    for column in binary_columns:
        aggregated[column] = grouped[column].max().astype(int)
    for column in emotions:
        aggregated[column] = grouped[column].mean()
    return aggregated.reset_index()


def aggregate_annotation_files(
    annotations_path: str | os.PathLike,
    inventory_path: str | os.PathLike,
    clusters_path: str | os.PathLike,
    manifest_path: str | os.PathLike,
    aggregated_out: str | os.PathLike,
    excluded_out: str | os.PathLike | None,
    binary_columns: Sequence[str],
    emotions: Sequence[str],
    score_range: Sequence[float],
    column_keys: Mapping[str, Sequence[str]] | None = None,
) -> pd.DataFrame:
    """Validate the sheet, pool it onto cluster roots and write aggregated.csv and excluded.csv.

    Nothing is written unless every check passes. Returns the aggregated frame. With only some
    columns (and no ``excluded_out``) this makes what one consumer of the sheet reads.
    """
    inventory, clusters, manifest = (read_table(p) for p in (inventory_path, clusters_path, manifest_path))
    annotations = read_annotations(
        annotations_path, binary_columns, emotions, score_range, inventory["image_id"], column_keys
    )
    usable, excluded = attach_clusters(annotations, inventory, clusters, manifest)
    aggregated = aggregate_by_cluster(usable, binary_columns, emotions)
    log.info(
        "%d annotation rows on %d images -> %d cluster roots; %d annotated images excluded",
        len(annotations),
        annotations["image_id"].nunique(),
        len(aggregated),
        len(excluded),
    )
    if excluded_out:
        write_csv(excluded, excluded_out)
    write_csv(aggregated, aggregated_out)
    return aggregated


# --- what each consumer of the sheet reads from it (the sheet's snapshots) ---------------------
# aggregated.csv changes with every edit of the sheet. So each consumer (a task's labels,
# Figures 7.1/7.2, the list of unannotated images) gets its own aggregation of only the columns
# it reads, redone when the snapshot of those columns changes. A snapshot is computed from the
# sheet alone, at image level: a binary task reads whether any annotator said yes; an emotion
# task and the figures the number of rows and the sum of each emotion score; the image list
# which images are annotated. Pooling onto clusters is the same for the same clusters (a change
# of clusters reruns the consumers' aggregations through their inventory/clusters inputs).


def _digest(name: str, lines: list[str]) -> str:
    body = "\n".join(sorted(lines)).encode("utf-8")
    return f"{name}: {len(lines)} images, sha256 {hashlib.sha256(body).hexdigest()}\n"


def _any_yes(values: list[str]) -> str:
    mapped = [BINARY_VALUES.get(value.lower()) for value in values]
    if None in mapped:
        return "raw:" + "|".join(sorted(values))
    return str(max(mapped))


def _score_sums(rows: list[list[str]]) -> str:
    try:
        sums = [math.fsum(float(value) for value in column) for column in zip(*rows)]
    except ValueError:
        return "raw:" + "|".join(sorted(";".join(row) for row in rows))
    return ";".join(repr(total) for total in sums)


def sheet_snapshots(path: str | os.PathLike, reads: Mapping[str, tuple[str, Sequence[str]]]) -> dict[str, str]:
    """Text of the snapshots of the annotation sheet at ``path``, by name.

    ``reads`` gives each snapshot's kind and columns (see :func:`snapshot_kind`): ``sheet``
    (sha256 of the file), ``annotated`` (which images have a row), ``binary`` (per image:
    whether any annotator said yes), ``scores`` (per image: rows and score sums). A sheet
    that cannot be read gives its file hash for every name, so that any edit reruns all.
    """
    data = Path(path).read_bytes()
    whole = f"sheet: sha256 {hashlib.sha256(data).hexdigest()}\n"
    try:
        frame = read_user_csv(path)
    except (UserFileError, OSError):
        frame = None
    out = {}
    for name, (kind, columns) in reads.items():
        columns = list(columns)
        if kind == "sheet" or frame is None or not {"image_id", *columns} <= set(frame.columns):
            out[name] = whole if kind == "sheet" else f"{name}: unreadable or incomplete, {whole}"
            continue
        groups: dict[str, list[list[str]]] = {}
        for row in frame[["image_id", *columns]].itertuples(index=False):
            groups.setdefault(row[0], []).append(list(row[1:]))
        if kind == "annotated":
            lines = list(groups)
        elif kind == "binary":
            lines = [f"{image}\t{_any_yes([row[0] for row in rows])}" for image, rows in groups.items()]
        else:
            lines = [f"{image}\t{len(rows)}\t{_score_sums(rows)}" for image, rows in groups.items()]
        out[name] = _digest(f"{name} ({', '.join(columns) or 'image_id'})", lines)
    return out


def snapshot_kind(name: str, tasks: Mapping[str, Mapping], emotions: Sequence[str]) -> tuple[str, list[str]]:
    """What snapshot ``name`` holds (sheet, annotated, binary or scores) and the columns it reads."""
    if name in ("sheet", "annotated"):
        return name, []
    if name == "emotions":
        return "scores", list(emotions)
    task = tasks.get(name.removeprefix("labels_")) if name.startswith("labels_") else None
    if task is None or task["type"] not in ("binary", "emotion"):
        raise ValueError(f"no snapshot of the annotation sheet is called '{name}'")
    return ("binary", [task["column"]]) if task["type"] == "binary" else ("scores", list(emotions))


def write_sheet_snapshot(sheet: str | os.PathLike, name: str, reads: tuple[str, Sequence[str]], out: str | os.PathLike) -> None:
    text = sheet_snapshots(sheet, {name: reads})[name]
    log.info("%s", text.strip())
    write_if_changed(text.encode("utf-8"), out)
