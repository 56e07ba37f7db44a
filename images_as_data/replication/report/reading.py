"""Reading other stages' tables for the sections: accepted column names, and notes naming what
a table lacks (a lacking table or column makes a number "missing", never stops the report).
"""

from __future__ import annotations

import math

import pandas as pd

from .engine import ResultFile, RunValue

# Accepted column names per quantity, first match wins (case-insensitive). This is the report's
# map of the columns other stages write, whose names may still change: adjust here only.
COLUMN_ALIASES: dict[str, list[str]] = {
    "image_id": ["image_id"],
    "cluster_id": ["cluster_id"],
    "status": ["status"],
    "task": ["task"],
    "class": ["class", "class_name", "label"],
    "split": ["split"],
    "n": ["n", "count", "n_images", "images"],
    "seed": ["seed"],
    "lr": ["lr", "learning_rate"],
    "momentum": ["momentum"],
    "batch": ["batch", "batch_size"],
    "accuracy": ["accuracy", "val_accuracy", "val_accuracy_mean", "mean_val_accuracy"],
    "precision": ["precision", "val_precision", "val_precision_mean", "mean_val_precision"],
    "recall": ["recall", "val_recall", "val_recall_mean", "mean_val_recall"],
    "f1": ["f1", "val_f1", "val_f1_mean", "mean_val_f1"],
    "accuracy_sd": ["accuracy_sd", "val_accuracy_sd", "sd_val_accuracy", "val_accuracy_std"],
    "precision_sd": ["precision_sd", "val_precision_sd", "sd_val_precision", "val_precision_std"],
    "recall_sd": ["recall_sd", "val_recall_sd", "sd_val_recall", "val_recall_std"],
    "f1_sd": ["f1_sd", "val_f1_sd", "sd_val_f1", "val_f1_std"],
    "min_val_loss": ["min_val_loss", "val_loss_min", "lowest_val_loss"],
    "max_val_accuracy": ["max_val_accuracy", "val_accuracy_max", "highest_val_accuracy"],
    # Figure 7.4's losses are on the authors' scale (sum of per-batch mean losses / images):
    # compare on it where the run recorded it; epochs.csv keeps the per-image mean in val_loss.
    "val_loss": ["val_loss_authors", "val_loss"],
    "val_accuracy": ["val_accuracy"],
    "simulated": ["simulated"],
    "service": ["service"],
    "tagger_label": ["label", "tag"],
    "tp": ["tp", "true_positive", "true_positives"],
    "fp": ["fp", "false_positive", "false_positives"],
    "fn": ["fn", "false_negative", "false_negatives"],
    "tn": ["tn", "true_negative", "true_negatives"],
    "truth": ["manual", "truth", "actual", "manual_label", "true_label"],
    "predicted": ["aws", "predicted", "prediction", "autotag", "rekognition"],
    "term": ["term"],
    "estimate": ["estimate"],
    "book_specification": ["book_specification"],
    "torchvision_model": ["torchvision_model"],
    "top1_error": ["torchvision_top1_error"],
    "top5_error": ["torchvision_top5_error"],
}


def find_column(frame: pd.DataFrame, quantity: str) -> str | None:
    """The frame's column for a quantity of COLUMN_ALIASES, or None."""
    by_lower = {str(column).lower(): column for column in frame.columns}
    for alias in COLUMN_ALIASES[quantity]:
        if alias in by_lower:
            return by_lower[alias]
    return None


def require_columns(frame: pd.DataFrame, quantities: list[str], source: ResultFile) -> dict[str, str] | str:
    """Column names for the quantities, or a note naming what the source lacks."""
    found = {q: find_column(frame, q) for q in quantities}
    absent = [q for q, column in found.items() if column is None]
    if absent:
        options = "; ".join(f"{q}: one of {COLUMN_ALIASES[q]}" for q in absent)
        return f"{source.shown} has no column for {options}"
    return found  # type: ignore[return-value]


def truthy(series: pd.Series) -> pd.Series:
    """Booleans from bool, 0/1 or yes/true text columns."""
    if series.dtype == bool:
        return series
    return series.astype(str).str.strip().str.lower().isin({"1", "1.0", "true", "yes", "y", "t"})


def missing_for(keys: list[str], note: str) -> dict[str, RunValue]:
    return {key: RunValue(None, note=note) for key in keys}


def none_if_nan(value: float | None) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)
