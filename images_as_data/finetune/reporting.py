"""Workflow steps that turn fine-tuning runs into tables and figures (no torch import).

Each function reads a rule's inputs and writes its outputs atomically; scripts in scripts/
call exactly one of them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from images_as_data.common.plotting import plt

from ..common.atomic import save_figure, write_csv, write_text
from . import figures
from .tables import (
    chosen_run_dir,
    markdown,
    per_class_table,
    read_summaries,
    readable_table_7_2,
    table_7_2,
)

PathLike = str | os.PathLike


def collect_grid_runs(summary_paths: list[PathLike], out_csv: PathLike) -> None:
    write_csv(read_summaries(summary_paths), out_csv)


def join_task_runs(task_csvs: list[PathLike], out_csv: PathLike) -> None:
    """grid_runs.csv: the per-task run tables, one below the other, in the same order as before."""
    runs = pd.concat([pd.read_csv(path) for path in task_csvs], ignore_index=True)
    write_csv(runs.sort_values(["task", "setting", "seed"], ignore_index=True), out_csv)


def write_table_7_2(
    grid_runs_csv: PathLike, settings_by_task: dict[str, list[str]], out_csv: PathLike, out_md: PathLike
) -> None:
    table = table_7_2(pd.read_csv(grid_runs_csv), settings_by_task)
    write_csv(table, out_csv)
    write_text(markdown(readable_table_7_2(table)), out_md)


def run_classes(run_dir: Path) -> list[str]:
    return json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))["classes"]


def write_learning_curves(
    epochs_csvs: list[PathLike],
    loss_stem: PathLike,
    accuracy_stem: PathLike,
    task: str,
    dpi: int = 150,
    style: str = "default",
) -> None:
    """Figures 7.4 (loss) and 7.5 (accuracy) of the hyperparameter study."""
    epochs = pd.concat([pd.read_csv(path) for path in epochs_csvs], ignore_index=True)
    with plt.style.context(style):
        save_figure(figures.learning_curves(epochs, "loss", f"{task}: loss by epoch (Figure 7.4)"), loss_stem, dpi)
        save_figure(
            figures.learning_curves(epochs, "accuracy", f"{task}: accuracy by epoch (Figure 7.5)"), accuracy_stem, dpi
        )


def write_confusion(
    grid_runs_csv: PathLike,
    task: str,
    settings: list[str],
    stem: PathLike,
    per_class_csv: PathLike,
    dpi: int = 150,
    style: str = "default",
) -> None:
    """Confusion matrix and per-class metrics of the task's chosen model."""
    run_dir = chosen_run_dir(grid_runs_csv, task, settings)
    predictions, classes = pd.read_csv(
        run_dir / "predictions.csv", dtype={"label": str, "predicted": str}
    ), run_classes(run_dir)
    per_class = per_class_table(predictions, classes)
    per_class.insert(0, "task", task)
    write_csv(per_class, per_class_csv)
    with plt.style.context(style):
        save_figure(
            figures.confusion_figure(predictions, classes, f"{task}: {run_dir.parent.name}, {run_dir.name}"), stem, dpi
        )


def write_error_sheet(
    grid_runs_csv: PathLike, task: str, settings: list[str], stem: PathLike, dpi: int = 150, style: str = "default"
) -> None:
    """Contact sheets of the chosen model's false positives and false negatives (book Section 4.5)."""
    run_dir = chosen_run_dir(grid_runs_csv, task, settings)
    predictions = pd.read_csv(run_dir / "predictions.csv", dtype={"label": str, "predicted": str})
    title = f"{task}: misclassified held-out images ({run_dir.parent.name}, {run_dir.name})"
    with plt.style.context(style):
        save_figure(figures.error_sheet(predictions, run_classes(run_dir), title), stem, dpi)


def write_tasks_vs_baseline(table_csv: PathLike, stem: PathLike, dpi: int = 150, style: str = "default") -> None:
    table = pd.read_csv(table_csv)
    with plt.style.context(style):
        save_figure(figures.tasks_vs_baseline(table, "Fine-tuned classifiers against the 50 % baseline"), stem, dpi)
