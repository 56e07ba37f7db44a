"""Collecting runs into grid_runs.csv and choosing the best setting per task (book Table 7.2)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from .metrics import METRICS, per_class_metrics

TABLE_7_2_BOOK_COLUMNS = ["task", "accuracy", "f1", "precision", "recall", "lr", "momentum", "batch"]


def read_summaries(paths: list[str | os.PathLike]) -> pd.DataFrame:
    """One row per run from its summary.json; `run_dir` is the run's folder."""
    rows = []
    for path in paths:
        summary = json.loads(Path(path).read_text(encoding="utf-8"))
        summary["n_classes"] = len(summary["classes"])
        summary["classes"] = "|".join(summary["classes"])
        summary["run_dir"] = Path(path).parent.as_posix()
        rows.append(summary)
    if not rows:
        raise ValueError("no fine-tuning runs to collect: finetune.grid or finetune.tasks is empty")
    return pd.DataFrame(rows).sort_values(["task", "setting", "seed"], ignore_index=True)


def task_runs(runs: pd.DataFrame, task: str, settings: list[str]) -> pd.DataFrame:
    selected = runs[(runs["task"] == task) & runs["setting"].isin(settings)]
    if selected.empty:
        raise ValueError(f"grid_runs has no runs of task '{task}' with settings {settings}")
    return selected


def choose_setting(runs: pd.DataFrame, task: str, settings: list[str]) -> str:
    """The setting with the highest mean validation accuracy over seeds (ties: lower mean loss)."""
    means = task_runs(runs, task, settings).groupby("setting")[["val_accuracy", "val_loss"]].mean()
    means["order"] = [settings.index(setting) for setting in means.index]
    ranked = means.sort_values(["val_accuracy", "val_loss", "order"], ascending=[False, True, True])
    return str(ranked.index[0])


def choose_run(runs: pd.DataFrame, task: str, settings: list[str]) -> pd.Series:
    """The run whose model labels new images: best seed of the chosen setting."""
    setting = choose_setting(runs, task, settings)
    candidates = task_runs(runs, task, [setting])
    ranked = candidates.sort_values(["val_accuracy", "val_loss", "seed"], ascending=[False, True, True])
    return ranked.iloc[0]


def chosen_run_dir(grid_runs_csv: str | os.PathLike, task: str, settings: list[str]) -> Path:
    """Folder of the run chosen for a task (see choose_run), read from grid_runs.csv."""
    return Path(choose_run(pd.read_csv(grid_runs_csv), task, settings)["run_dir"])


def summarise_setting(runs: pd.DataFrame) -> dict:
    """Mean and sd over seeds of one setting's validation (and test) metrics."""
    row: dict = {}
    for metric in METRICS:
        row[metric] = runs[f"val_{metric}"].mean()
        row[f"{metric}_sd"] = runs[f"val_{metric}"].std(ddof=1)
    for metric in METRICS:
        column = f"test_{metric}"
        values = runs[column] if column in runs else pd.Series(dtype=float)
        row[column] = values.mean() if values.notna().any() else np.nan
        row[f"{column}_sd"] = values.std(ddof=1) if values.notna().sum() > 1 else np.nan
    return row


def table_7_2(runs: pd.DataFrame, settings_by_task: dict[str, list[str]]) -> pd.DataFrame:
    """Best setting per task (on mean validation accuracy) with the seed spread and test metrics."""
    rows = []
    for task, settings in settings_by_task.items():
        setting = choose_setting(runs, task, settings)
        chosen = task_runs(runs, task, [setting])
        model = choose_run(runs, task, settings)
        first = chosen.iloc[0]
        rows.append(
            {
                "task": task,
                **summarise_setting(chosen),
                "lr": first["lr"],
                "momentum": first["momentum"],
                "batch": first["batch"],
                "setting": setting,
                "n_seeds": len(chosen),
                "best_epoch": chosen["best_epoch"].mean(),
                "n_classes": first["n_classes"],
                "n_train": first["n_train"],
                "n_val": first["n_val"],
                "n_test": first["n_test"],
                "model_seed": model["seed"],
                "model_run": model["run_dir"],
            }
        )
    table = pd.DataFrame(rows)
    leading = TABLE_7_2_BOOK_COLUMNS
    return table[leading + [column for column in table.columns if column not in leading]]


def readable_table_7_2(table: pd.DataFrame) -> pd.DataFrame:
    """The book's columns plus the seed spread and, when there is a test set, test metrics."""
    columns = TABLE_7_2_BOOK_COLUMNS + ["accuracy_sd", "f1_sd", "n_seeds", "best_epoch"]
    if table["test_accuracy"].notna().any():
        columns += ["test_accuracy", "test_accuracy_sd", "test_f1"]
    return table[columns]


# Settings are shown as configured (lr 0.0005 must not print as 0.00); metrics are rounded.
AS_CONFIGURED = ("lr", "momentum", "batch", "n_seeds")


def markdown(table: pd.DataFrame, digits: int = 2) -> str:
    """A Markdown rendering (metrics rounded, settings as configured) for reading next to the book's table."""

    def shown(column: str, value) -> str:
        if pd.isna(value):
            return ""
        if isinstance(value, str):
            return value
        return f"{value:g}" if column in AS_CONFIGURED else f"{value:.{digits}f}"

    text = pd.DataFrame({column: [shown(column, v) for v in table[column]] for column in table.columns})
    return text.to_markdown(index=False, disable_numparse=True) + "\n"


def per_class_table(predictions: pd.DataFrame, classes: list[str]) -> pd.DataFrame:
    """Per-class precision, recall, F1 and support for each held-out split."""
    parts = []
    for split, group in predictions.groupby("split", sort=False):
        truth = group["label"].map(classes.index).to_numpy()
        predicted = group["predicted"].map(classes.index).to_numpy()
        part = per_class_metrics(truth, predicted, classes)
        part.insert(0, "split", split)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)
