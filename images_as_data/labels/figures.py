"""Table 7.1 (task data per split) and Figures 7.1, 7.2 (evoked emotions) of the book."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from images_as_data.common.atomic import save_figure, write_csv, write_text
from images_as_data.common.plotting import plt
from images_as_data.common.tables import read_table
from images_as_data.labels.splits import SPLIT_ORDER
from images_as_data.labels.tasks import NEGATIVE, POSITIVE, emotion_label

TOTAL = "total"
TABLE_COLUMNS = ["task", "class", "split", "n", "folder", "note"]


def folder_note(task: str, split: str, folder: str) -> str:
    """Why a presplit task's split came from a folder of another name (the authors' test/ is their validation set)."""
    if not folder or folder == split:
        return ""
    if split == "val" and folder == "test":
        return f"the given test/ folder, used as the validation set as in the authors' scripts (tasks.{task}.val_folder)"
    return f"the given {folder}/ folder, used as the {split} set (tasks.{task}.val_folder)"


def split_counts(
    splits_by_task: Mapping[str, pd.DataFrame], folders: Mapping[str, Mapping[str, str]] | None = None
) -> pd.DataFrame:
    """Tidy counts (task, class, split, n) per split plus a ``total`` row per class; tasks keep their order.

    ``folders`` gives, for presplit tasks, the folder each split was read from (split ->
    folder); rows record it, and a note where the folder's name is not the split's.
    """
    rows = []
    for task, splits in splits_by_task.items():
        given = (folders or {}).get(task, {})
        counts = splits.groupby(["label", "split"]).size()
        for label in class_order(splits["label"].unique()):
            per_split = counts[label]
            for split in [name for name in SPLIT_ORDER if name in per_split.index]:
                folder = given.get(split, "")
                rows.append((task, label, split, int(per_split[split]), folder, folder_note(task, split, folder)))
            rows.append((task, label, TOTAL, int(per_split.sum()), "", ""))
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def class_order(labels: Sequence[str]) -> list[str]:
    """Positives first, then negatives (the book's column order), then other classes alphabetically."""
    first = [name for name in (POSITIVE, NEGATIVE) if name in set(labels)]
    return first + sorted(set(labels) - set(first))


def _count_cell(counts: pd.DataFrame) -> str:
    per_split = counts[counts["split"] != TOTAL]
    total = int(counts.loc[counts["split"] == TOTAL, "n"].iloc[0])
    return f"{total:,} ({'/'.join(str(n) for n in per_split['n'])})"


def table_7_1_markdown(counts: pd.DataFrame) -> str:
    """Readable Table 7.1: binary tasks as in the book, multiclass tasks one row per class."""
    binary_rows, multiclass_rows = [], []
    for task, task_counts in counts.groupby("task", sort=False):
        splits = "/".join(s for s in SPLIT_ORDER if s in set(task_counts["split"]))
        n = int(task_counts.loc[task_counts["split"] == TOTAL, "n"].sum())
        classes = list(dict.fromkeys(task_counts["class"]))
        if set(classes) == {POSITIVE, NEGATIVE}:
            cells = {c: _count_cell(task_counts[task_counts["class"] == c]) for c in classes}
            binary_rows.append(
                {
                    "task": task,
                    "N": f"{n:,}",
                    f"positives ({splits})": cells[POSITIVE],
                    f"negatives ({splits})": cells[NEGATIVE],
                }
            )
        else:
            for label in classes:
                cell = _count_cell(task_counts[task_counts["class"] == label])
                multiclass_rows.append({"task": task, "N": f"{n:,}", "class": label, f"images ({splits})": cell})
    parts = ["# Table 7.1: images per task, class and split", ""]
    if binary_rows:
        parts += ["## Binary tasks", "", pd.DataFrame(binary_rows).to_markdown(index=False), ""]
    if multiclass_rows:
        parts += ["## Multiclass tasks", "", pd.DataFrame(multiclass_rows).to_markdown(index=False), ""]
    notes = counts[counts["note"].fillna("") != ""].drop_duplicates(["task", "split"])
    if len(notes):
        parts += ["Notes:", ""] + [f"- {row.task}, {row.split}: {row.note}" for row in notes.itertuples()] + [""]
    return "\n".join(parts)


def write_table_7_1(
    split_paths: Sequence[str | os.PathLike],
    csv_out: str | os.PathLike,
    md_out: str | os.PathLike,
    folders: Mapping[str, Mapping[str, str]] | None = None,
) -> pd.DataFrame:
    """Count the split CSVs (task name = file stem) and write Table 7.1 as CSV and Markdown."""
    counts = split_counts({Path(path).stem: read_table(path) for path in split_paths}, folders)
    write_csv(counts, csv_out)
    write_text(table_7_1_markdown(counts), md_out)
    return counts


def evoked(aggregated: pd.DataFrame, emotions: Sequence[str], threshold: float = 0.0) -> pd.DataFrame:
    """Boolean frame: does each image evoke each emotion (mean score above ``threshold``)?"""
    return aggregated[list(emotions)].apply(pd.to_numeric) > threshold


def emotions_per_image(evoked_frame: pd.DataFrame) -> pd.Series:
    """Share of images evoking 0, 1, 2, ... emotions (index: number of emotions)."""
    counts = evoked_frame.sum(axis=1).value_counts()
    counts = counts.reindex(range(evoked_frame.shape[1] + 1), fill_value=0)
    return counts / max(len(evoked_frame), 1)


def cooccurrence(evoked_frame: pd.DataFrame) -> pd.DataFrame:
    """Row X, column Y: share of images evoking X that also evoke Y (NaN when none evokes X)."""
    flags = evoked_frame.astype(int)
    both = flags.T @ flags
    per_emotion = flags.sum(axis=0)
    return both.div(per_emotion.replace(0, np.nan), axis=0)


def figure_7_1(aggregated: pd.DataFrame, emotions: Sequence[str], threshold: float = 0.0) -> plt.Figure:
    """(a) how many emotions each image evokes; (b) co-occurrence of evoked emotions."""
    flags = evoked(aggregated, emotions, threshold)
    shares = emotions_per_image(flags)
    matrix = cooccurrence(flags)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5), gridspec_kw={"width_ratios": [1, 1.2]})
    left.bar(shares.index.astype(str), shares.values * 100, color="#4c72b0")
    for x, share in enumerate(shares.values):
        left.text(x, share * 100, f"{share:.0%}", ha="center", va="bottom", fontsize=9)
    left.set_xlabel(f"number of emotions evoked (mean score > {threshold:g})")
    left.set_ylabel("share of images (%)")
    left.set_title(f"(a) emotions per image (n = {len(flags):,})")
    image = right.imshow(matrix.values, vmin=0, vmax=1, cmap="viridis")
    right.set_xticks(range(len(emotions)), labels=list(emotions), rotation=45, ha="right")
    right.set_yticks(range(len(emotions)), labels=list(emotions))
    for (row, col), value in np.ndenumerate(matrix.values):
        if not np.isnan(value):
            right.text(col, row, f"{value:.2f}", ha="center", va="center", color="white" if value < 0.6 else "black")
    right.set_xlabel("also evokes Y")
    right.set_ylabel("images evoking X")
    right.set_title("(b) co-occurrence: P(Y | X)")
    fig.colorbar(image, ax=right, fraction=0.046)
    fig.tight_layout()
    return fig


def emotion_label_counts(
    aggregated: pd.DataFrame, emotions: Sequence[str], min_score: float, min_gap: float
) -> pd.DataFrame:
    """Positives and negatives per emotion under the Section 7.3 rule, before balancing."""
    scores = aggregated[list(emotions)].apply(pd.to_numeric).to_dict("records")
    rows = []
    for emotion in emotions:
        labels = [emotion_label(row, emotion, min_score, min_gap) for row in scores]
        rows.append({"emotion": emotion, POSITIVE: labels.count(POSITIVE), NEGATIVE: labels.count(NEGATIVE)})
    return pd.DataFrame(rows).set_index("emotion")


def figure_7_2(
    aggregated: pd.DataFrame,
    emotions: Sequence[str],
    min_score: float,
    min_gap: float,
    score_range: Sequence[float] = (0, 10),
) -> plt.Figure:
    """Per emotion: distribution of mean scores above 0, the min-score threshold and label counts."""
    counts = emotion_label_counts(aggregated, emotions, min_score, min_gap)
    ncols = min(3, len(emotions))
    nrows = int(np.ceil(len(emotions) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.4 * nrows), squeeze=False)
    bins = np.linspace(score_range[0], score_range[1], 21)
    for axis, emotion in zip(axes.flat, emotions):
        scores = pd.to_numeric(aggregated[emotion])
        nonzero = scores[scores > 0]
        axis.hist(nonzero, bins=bins, color="#55a868")
        axis.axvline(min_score, color="black", linestyle="--", linewidth=1)
        axis.set_title(emotion)
        axis.set_xlabel("mean score (images with mean > 0)")
        axis.set_ylabel("images")
        axis.text(
            0.97,
            0.95,
            f"mean = 0: {int((scores == 0).sum()):,}\npositive: {counts.loc[emotion, POSITIVE]:,}\n"
            f"negative: {counts.loc[emotion, NEGATIVE]:,}",
            transform=axis.transAxes,
            ha="right",
            va="top",
            fontsize=9,
        )
    for axis in list(axes.flat)[len(emotions) :]:
        axis.set_visible(False)
    fig.suptitle(f"Mean evoked-emotion scores; dashed line: min score {min_score:g} (gap {min_gap:g})")
    fig.tight_layout()
    return fig


def _check_emotions(emotions: Sequence[str], aggregated_path: str | os.PathLike) -> None:
    if not emotions:
        raise ValueError(f"labels.emotions is empty; Figures 7.1 and 7.2 need emotion columns in {aggregated_path}")


def write_figure_7_1(
    aggregated_path: str | os.PathLike,
    out_stem: str | os.PathLike,
    emotions: Sequence[str],
    dpi: int,
    style: str,
    threshold: float = 0.0,
) -> None:
    """Draw Figure 7.1 from aggregated.csv and save ``<out_stem>.png`` and ``.pdf``."""
    _check_emotions(emotions, aggregated_path)
    with plt.style.context(style):
        fig = figure_7_1(read_table(aggregated_path), emotions, threshold)
        save_figure(fig, out_stem, dpi=dpi)


def write_figure_7_2(
    aggregated_path: str | os.PathLike,
    out_stem: str | os.PathLike,
    emotions: Sequence[str],
    min_score: float,
    min_gap: float,
    score_range: Sequence[float],
    dpi: int,
    style: str,
) -> None:
    """Draw Figure 7.2 from aggregated.csv and save ``<out_stem>.png`` and ``.pdf``."""
    _check_emotions(emotions, aggregated_path)
    with plt.style.context(style):
        fig = figure_7_2(read_table(aggregated_path), emotions, min_score, min_gap, score_range)
        save_figure(fig, out_stem, dpi=dpi)
