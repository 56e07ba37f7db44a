"""The replication report: every number the book prints beside this run's value, with a verdict.

The book's numbers live in config/book_reference.yaml. This run's numbers are read from the
tables other stages write (paths in `SOURCES`); a table this run does not produce, or a row
or column it lacks, makes the row "missing" instead of stopping the report. How each
table's columns may be named is kept in one place, `COLUMN_ALIASES`.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import pandas as pd
import yaml

from images_as_data.common.atomic import write_csv, write_text

PathOrPaths = str | os.PathLike | list | tuple | None  # an input: one file, several, or none

# Input names and the paths the producing stages write (docs/architecture.md).
SOURCES: dict[str, str] = {
    "inventory": "results/inventory/inventory.csv",
    "clusters": "results/dedupe/clusters.csv",
    "aggregated": "results/labels/aggregated.csv",
    "table_6_1": "results/tables/table_6_1.csv",
    "table_6_2": "results/tables/table_6_2.csv",
    "table_7_1": "results/tables/table_7_1.csv",
    "table_7_2": "results/tables/table_7_2.csv",
    "grid_runs": "results/tables/grid_runs.csv",
    # a list of files: the per-epoch curves of the hyperparameter study's runs
    "study_epochs": "results/finetune/<study task>/<setting>/seed<seed>/epochs.csv",
    "table_3_1": "results/tables/table_3_1.csv",
    "linear_model": "results/tables/figure_3_1_linear_model.csv",
    "table_4_1": "results/tables/table_4_1.csv",
}

# Figures the report links to (PNG versions), by name.
FIGURES: dict[str, str] = {
    name: f"results/figures/{name}.png"
    for name in ("figure_3_1", "figure_3_3", "figure_6_3", "figure_7_1", "figure_7_2", "figure_7_4", "figure_7_5")
}

# Accepted column names per quantity, first match wins (case-insensitive). Other stages'
# column names may still change: adjust here only.
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
    "val_loss": ["val_loss"],
    "val_accuracy": ["val_accuracy"],
    "simulated": ["simulated"],
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

VALIDATION_SPLITS = {"val", "validation", "valid"}
SUMMARY_SPLITS = {"total", "all"}  # Table 7.1 rows that sum the real splits
METRICS = ("accuracy", "f1", "precision", "recall")
POSITIVE = "positive"
DEMO_DATA = "not comparable: demo data"
SIMULATED = "not comparable: simulated Rekognition responses"
MISSING = "missing"
MATCHES = "matches"
WITHIN_SPREAD = "within spread"
DIFFERS = "differs"
SPREAD_FACTOR = 2.0  # "within spread": |difference| <= 2 sd across seeds


def load_book_reference(path: str | os.PathLike) -> dict:
    """The book's numbers (config/book_reference.yaml) as a dict."""
    with open(path, encoding="utf-8") as handle:
        reference = yaml.safe_load(handle)
    if not isinstance(reference, dict):
        raise ValueError(f"{path}: expected a YAML mapping of the book's tables, got {type(reference).__name__}")
    return reference


# --- The book's numbers ---------------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    """One number printed in the book, and where this run's counterpart comes from."""

    key: str
    section: str
    quantity: str
    book: float
    decimals: int
    source: str
    corpus_dependent: bool = True


def corpus_measures(reference: dict) -> list[Measure]:
    corpus = reference.get("corpus") or {}
    decimals = int(corpus.get("decimals", 0))
    named = [
        ("unique_images", "unique images after removing files under 5 kB", "clusters"),
        ("rekognition_sample", "most shared images sent to Rekognition", "table_6_1"),
        ("rekognition_protest", "of those, manually labelled protest", "table_6_1"),
        ("rekognition_crowd", "of those, 'Crowd' returned with >= 50 % confidence", "table_6_1"),
        ("legend_manual", "images where annotators saw John Legend", "table_6_2"),
        ("legend_rekognition", "images where Rekognition recognised John Legend", "table_6_2"),
    ]
    measures = [
        Measure(f"corpus.{name}", "corpus", text, float(corpus[name]), decimals, source)
        for name, text, source in named
        if name in corpus
    ]
    for emotion, count in (corpus.get("emotion_positives") or {}).items():
        measures.append(
            Measure(
                f"corpus.emotion_positives.{emotion}",
                "corpus",
                f"{emotion} positives",
                float(count),
                decimals,
                "table_7_1",
            )
        )
    evoked = {"none": "no emotion", "exactly_one": "exactly one emotion", "more_than_one": "more than one emotion"}
    for share, percent in (corpus.get("emotion_evoked_percent") or {}).items():
        measures.append(
            Measure(
                f"corpus.emotion_evoked_percent.{share}",
                "corpus",
                f"% of annotated images evoking {evoked.get(share, share)} (Figure 7.1a, 'about')",
                float(percent),
                0,
                "aggregated",
            )
        )
    return measures


def confusion_measures(reference: dict, table: str) -> list[Measure]:
    section = reference.get(table) or {}
    label, truth = section.get("label", "tag"), section.get("truth", "manual label")
    meaning = {
        "tp": f"{label} & {truth}",
        "fp": f"{label} & no {truth}",
        "fn": f"no {label} & {truth}",
        "tn": f"no {label} & no {truth}",
    }
    measures = [
        Measure(f"{table}.{cell}", table, f"images: {meaning[cell]}", float(count), 0, table)
        for cell, count in (section.get("counts") or {}).items()
    ]
    decimals = int(section.get("percent_decimals", 1))
    for metric, percent in (section.get("percent") or {}).items():
        measures.append(Measure(f"{table}.{metric}", table, f"{metric} (%)", float(percent), decimals, table))
    return measures


def table_7_1_measures(reference: dict) -> list[Measure]:
    measures = []
    for row in reference.get("table_7_1") or []:
        for split in ("train", "val"):
            measures.append(
                Measure(
                    f"table_7_1.{row['task']}.{row['class']}.{split}",
                    "table_7_1",
                    f"{row['task']}: {row['class']} images in {split}",
                    float(row[split]),
                    0,
                    "table_7_1",
                )
            )
    leaders = reference.get("world_leaders") or {}
    if leaders:
        task, classes = leaders["task"], int(leaders["classes"])
        measures += [
            Measure(f"table_7_1.{task}.classes", "table_7_1", f"{task}: classes", float(classes), 0, "table_7_1"),
            Measure(
                f"table_7_1.{task}.all.train",
                "table_7_1",
                f"{task}: images in train (all classes)",
                float(classes * leaders["train_per_class"]),
                0,
                "table_7_1",
            ),
            Measure(
                f"table_7_1.{task}.all.val",
                "table_7_1",
                f"{task}: images in val (all classes)",
                float(classes * leaders["val_per_class"]),
                0,
                "table_7_1",
            ),
        ]
    return measures


def table_7_2_measures(reference: dict) -> list[Measure]:
    section = reference.get("table_7_2") or {}
    decimals = section.get("decimals") or {}
    measures = []
    for row in section.get("rows") or []:
        for column in ("accuracy", "f1", "precision", "recall", "lr", "momentum", "batch"):
            if column in row:
                measures.append(
                    Measure(
                        f"table_7_2.{row['task']}.{column}",
                        "table_7_2",
                        f"{row['task']}: {column}",
                        float(row[column]),
                        int(decimals.get(column, 2)),
                        "table_7_2",
                    )
                )
    leaders = reference.get("world_leaders") or {}
    if "accuracy" in leaders:
        measures.append(
            Measure(
                f"table_7_2.{leaders['task']}.accuracy",
                "table_7_2",
                f"{leaders['task']}: accuracy (Section 7.8)",
                float(leaders["accuracy"]),
                int(leaders.get("decimals", 2)),
                "table_7_2",
            )
        )
    return measures


def extreme_key(lr: float, momentum: float, quantity: str) -> str:
    return f"hyperparameter_study.lr{lr:g}_momentum{momentum:g}.{quantity}"


def hyperparameter_measures(reference: dict) -> list[Measure]:
    study = reference.get("hyperparameter_study") or {}
    if not study:
        return []
    task = study.get("task", "legend")
    measures = []
    if "best_learning_rate" in study:
        measures.append(
            Measure(
                "hyperparameter_study.best_learning_rate",
                "hyperparameter_study",
                f"{task}: learning rate with the highest mean max validation accuracy",
                float(study["best_learning_rate"]),
                4,
                "study_epochs",
            )
        )
    for extreme in study.get("extremes") or []:
        lr, momentum = float(extreme["lr"]), float(extreme["momentum"])
        measures += [
            Measure(
                extreme_key(lr, momentum, "min_val_loss"),
                "hyperparameter_study",
                f"{task}, lr {lr:g}, momentum {momentum:g}: min validation loss",
                float(extreme["min_val_loss"]),
                int(extreme.get("loss_decimals", 2)),
                "study_epochs",
            ),
            Measure(
                extreme_key(lr, momentum, "max_val_accuracy"),
                "hyperparameter_study",
                f"{task}, lr {lr:g}, momentum {momentum:g}: max validation accuracy",
                float(extreme["max_val_accuracy"]),
                int(extreme.get("accuracy_decimals", 2)),
                "study_epochs",
            ),
        ]
    return measures


def section_3_measures(reference: dict) -> list[Measure]:
    figure = reference.get("figure_3_1") or {}
    if "white_pct_coefficient" not in figure:
        return []
    return [
        Measure(
            "figure_3_1.white_pct_coefficient",
            "section_3",
            "linear model: coefficient of white %",
            float(figure["white_pct_coefficient"]),
            int(figure.get("decimals", 4)),
            "linear_model",
            corpus_dependent=False,
        )
    ]


def table_4_1_measures(reference: dict) -> list[Measure]:
    section = reference.get("table_4_1") or {}
    decimals = int(section.get("decimals", 2))
    measures = []
    for row in section.get("rows") or []:
        for error in ("top1_error", "top5_error"):
            measures.append(
                Measure(
                    f"table_4_1.{row['torchvision']}.{error}",
                    "table_4_1",
                    f"{row['network']}: {error.replace('_', ' ').replace('top', 'top-')} (%)",
                    float(row[error]),
                    decimals,
                    "table_4_1",
                    corpus_dependent=False,
                )
            )
    return measures


def book_measures(reference: dict) -> list[Measure]:
    """Every number of the reference file that the report compares, in report order."""
    return (
        corpus_measures(reference)
        + confusion_measures(reference, "table_6_1")
        + confusion_measures(reference, "table_6_2")
        + table_7_1_measures(reference)
        + table_7_2_measures(reference)
        + hyperparameter_measures(reference)
        + section_3_measures(reference)
        + table_4_1_measures(reference)
    )


# --- This run's numbers -------------------------------------------------------------------


@dataclass(frozen=True)
class RunValue:
    """This run's counterpart of a book number (None when it could not be found)."""

    value: float | None
    sd: float | None = None
    note: str = ""
    not_comparable: str | None = None


def find_column(frame: pd.DataFrame, quantity: str) -> str | None:
    """The frame's column for a quantity of COLUMN_ALIASES, or None."""
    by_lower = {str(column).lower(): column for column in frame.columns}
    for alias in COLUMN_ALIASES[quantity]:
        if alias in by_lower:
            return by_lower[alias]
    return None


def require_columns(frame: pd.DataFrame, quantities: list[str], source: str) -> dict[str, str] | str:
    """Column names for the quantities, or a note naming what the source lacks."""
    found = {q: find_column(frame, q) for q in quantities}
    absent = [q for q, column in found.items() if column is None]
    if absent:
        options = "; ".join(f"{q}: one of {COLUMN_ALIASES[q]}" for q in absent)
        return f"{SOURCES.get(source, source)} has no column for {options}"
    return found  # type: ignore[return-value]


def truthy(series: pd.Series) -> pd.Series:
    """Booleans from bool, 0/1 or yes/true text columns."""
    if series.dtype == bool:
        return series
    return series.astype(str).str.strip().str.lower().isin({"1", "1.0", "true", "yes", "y", "t"})


def missing_for(keys: list[str], note: str) -> dict[str, RunValue]:
    return {key: RunValue(None, note=note) for key in keys}


def unique_image_values(clusters: pd.DataFrame | None, inventory: pd.DataFrame | None) -> dict[str, RunValue]:
    key = "corpus.unique_images"
    if clusters is None:
        return {}
    columns = require_columns(clusters, ["image_id", "cluster_id"], "clusters")
    if isinstance(columns, str):
        return missing_for([key], columns)
    note = "distinct duplicate clusters"
    if inventory is not None:
        inv_columns = require_columns(inventory, ["image_id", "status"], "inventory")
        if not isinstance(inv_columns, str):
            kept = inventory.loc[inventory[inv_columns["status"]].astype(str) == "kept", inv_columns["image_id"]]
            clusters = clusters[clusters[columns["image_id"]].isin(set(kept))]
            note += " among images the inventory kept"
    return {key: RunValue(float(clusters[columns["cluster_id"]].nunique()), note=note)}


def confusion_cells(frame: pd.DataFrame, source: str) -> dict[str, float] | str:
    """tp, fp, fn, tn from a wide table (one column per cell) or a long one (truth, predicted, n)."""
    wide = require_columns(frame, ["tp", "fp", "fn", "tn"], source)
    if not isinstance(wide, str):
        return {cell: float(pd.to_numeric(frame[column]).sum()) for cell, column in wide.items()}
    long = require_columns(frame, ["truth", "predicted", "n"], source)
    if isinstance(long, str):
        return f"{SOURCES.get(source, source)} has neither tp/fp/fn/tn columns nor truth, predicted and n columns"
    truth, predicted = truthy(frame[long["truth"]]), truthy(frame[long["predicted"]])
    counts = pd.to_numeric(frame[long["n"]])
    return {
        "tp": float(counts[truth & predicted].sum()),
        "fp": float(counts[~truth & predicted].sum()),
        "fn": float(counts[truth & ~predicted].sum()),
        "tn": float(counts[~truth & ~predicted].sum()),
    }


def ratio(numerator: float, denominator: float) -> float | None:
    return 100 * numerator / denominator if denominator else None


def confusion_values(frame: pd.DataFrame | None, table: str, totals: Mapping[str, str]) -> dict[str, RunValue]:
    """Cells and percentages of a confusion table, plus the corpus totals named in ``totals``.

    Percentages are recomputed from the counts, so how a table prints them (fraction or
    percent) does not matter.
    """
    if frame is None:
        return {}
    cells = confusion_cells(frame, table)
    keys = [f"{table}.{c}" for c in ("tp", "fp", "fn", "tn", "accuracy", "precision", "recall")] + list(totals)
    if isinstance(cells, str):
        return missing_for(keys, cells)
    flag_column = find_column(frame, "simulated")
    simulated = SIMULATED if flag_column and truthy(frame[flag_column]).any() else None
    tp, fp, fn, tn = cells["tp"], cells["fp"], cells["fn"], cells["tn"]
    derived = {
        "accuracy": ratio(tp + tn, tp + fp + fn + tn),
        "precision": ratio(tp, tp + fp),
        "recall": ratio(tp, tp + fn),
    }
    sums = {"total": tp + fp + fn + tn, "truth": tp + fn, "predicted": tp + fp}
    values = {f"{table}.{cell}": RunValue(count, not_comparable=simulated) for cell, count in cells.items()}
    for metric, value in derived.items():
        note = "" if value is not None else "undefined: zero denominator"
        values[f"{table}.{metric}"] = RunValue(value, note=note, not_comparable=simulated)
    for key, which in totals.items():
        values[key] = RunValue(sums[which], note=f"from {SOURCES[table]}", not_comparable=simulated)
    return values


def table_7_1_values(frame: pd.DataFrame | None, reference: dict) -> dict[str, RunValue]:
    if frame is None:
        return {}
    columns = require_columns(frame, ["task", "class", "split", "n"], "table_7_1")
    if isinstance(columns, str):
        keys = [m.key for m in table_7_1_measures(reference)]
        keys += [f"corpus.emotion_positives.{e}" for e in (reference.get("corpus") or {}).get("emotion_positives", {})]
        return missing_for(keys, columns)
    table = frame.rename(columns={v: k for k, v in columns.items()})
    table["n"] = pd.to_numeric(table["n"])
    is_summary = table["split"].astype(str).str.lower().isin(SUMMARY_SPLITS)
    summary, table = table[is_summary], table[~is_summary]
    counts = table.groupby(["task", "class", "split"])["n"].sum()
    values = {f"table_7_1.{t}.{c}.{s}": RunValue(float(n)) for (t, c, s), n in counts.items()}
    for task, rows in table.groupby("task"):
        values[f"table_7_1.{task}.classes"] = RunValue(float(rows["class"].nunique()))
        for split, n in rows.groupby("split")["n"].sum().items():
            values[f"table_7_1.{task}.all.{split}"] = RunValue(float(n))
        positives = rows.loc[rows["class"] == POSITIVE, "n"]
        class_size = summary.loc[(summary["task"] == task) & (summary["class"] == POSITIVE), "n"]
        if len(class_size):
            values[f"corpus.emotion_positives.{task}"] = RunValue(
                float(class_size.sum()), note="positive class size in Table 7.1"
            )
        elif len(positives):
            values[f"corpus.emotion_positives.{task}"] = RunValue(
                float(positives.sum()), note="positives over all splits of Table 7.1"
            )
    return values


def table_7_2_values(frame: pd.DataFrame | None, reference: dict) -> dict[str, RunValue]:
    """Validation metrics and chosen hyperparameters per task; seed means and sds where given."""
    if frame is None:
        return {}
    task_column = find_column(frame, "task")
    if task_column is None:
        return missing_for(
            [m.key for m in table_7_2_measures(reference)], require_columns(frame, ["task"], "table_7_2")
        )
    split_column = find_column(frame, "split")
    if split_column is not None:
        frame = frame[frame[split_column].astype(str).str.lower().isin(VALIDATION_SPLITS)]
    values: dict[str, RunValue] = {}
    for task, rows in frame.groupby(task_column):
        for metric in (*METRICS, "lr", "momentum", "batch"):
            key = f"table_7_2.{task}.{metric}"
            column = find_column(rows, metric)
            if column is None:
                values[key] = RunValue(None, note=f"{SOURCES['table_7_2']} has no column for {metric}")
                continue
            numbers = pd.to_numeric(rows[column], errors="coerce").dropna()
            if numbers.empty:
                values[key] = RunValue(None, note=f"{SOURCES['table_7_2']}: no {metric} for {task}")
                continue
            sd, note = None, ""
            if metric in METRICS:
                sd_column = find_column(rows, f"{metric}_sd")
                if sd_column is not None:
                    sd = pd.to_numeric(rows[sd_column], errors="coerce").mean()
                elif len(numbers) > 1:  # one row per seed: their spread is the seed sd
                    sd = numbers.std(ddof=1)
            if len(numbers) > 1:
                note = f"mean of {len(numbers)} rows"
            values[key] = RunValue(float(numbers.mean()), sd=none_if_nan(sd), note=note)
    return values


def none_if_nan(value: float | None) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


def runs_from_epoch_curves(epochs: pd.DataFrame) -> pd.DataFrame | str:
    """One row per run (task, lr, momentum, batch, seed) with its lowest validation loss and
    highest validation accuracy over epochs, or a note naming the columns the curves lack."""
    columns = require_columns(
        epochs, ["task", "lr", "momentum", "batch", "seed", "val_loss", "val_accuracy"], "study_epochs"
    )
    if isinstance(columns, str):
        return columns
    curves = epochs.rename(columns={v: k for k, v in columns.items()})
    runs = curves.groupby(["task", "lr", "momentum", "batch", "seed"], as_index=False).agg(
        min_val_loss=("val_loss", "min"), max_val_accuracy=("val_accuracy", "max")
    )
    return runs


def hyperparameter_values(
    epochs: pd.DataFrame | None, grid_runs: pd.DataFrame | None, reference: dict
) -> dict[str, RunValue]:
    """The study's extremes and best learning rate, from the study's per-epoch curves (or, without
    them, from run summaries that carry min/max columns).

    Per seed, an extreme is taken over the batch sizes (the book reports one value per
    learning rate and momentum); the value is the mean over seeds, the sd their spread.
    """
    keys = [m.key for m in hyperparameter_measures(reference)]
    if epochs is not None:
        frame, source = runs_from_epoch_curves(epochs), "study_epochs"
        if isinstance(frame, str):
            return missing_for(keys, frame)
    elif grid_runs is not None:
        frame, source = grid_runs, "grid_runs"
    else:
        return {}
    study = reference.get("hyperparameter_study") or {}
    columns = require_columns(frame, ["task", "lr", "momentum", "min_val_loss", "max_val_accuracy"], source)
    if isinstance(columns, str):
        return missing_for(keys, columns)
    runs = frame.rename(columns={v: k for k, v in columns.items()})
    seed_column = find_column(frame, "seed")
    runs["seed"] = frame[seed_column] if seed_column else 0
    runs = runs[runs["task"].astype(str) == str(study.get("task", "legend"))]
    study_lrs = [float(lr) for lr in study.get("learning_rates", [])]
    runs = runs[runs["lr"].apply(lambda lr: any(math.isclose(float(lr), s) for s in study_lrs))]
    if runs.empty:
        return missing_for(
            keys, f"{SOURCES[source]} has no runs of task {study.get('task')} with learning rates {study_lrs}"
        )
    values: dict[str, RunValue] = {}
    for extreme in study.get("extremes") or []:
        lr, momentum = float(extreme["lr"]), float(extreme["momentum"])
        cell = runs[
            runs["lr"].map(lambda v: math.isclose(float(v), lr))
            & runs["momentum"].map(lambda v: math.isclose(float(v), momentum))
        ]
        for quantity, pick in (("min_val_loss", "min"), ("max_val_accuracy", "max")):
            key = extreme_key(lr, momentum, quantity)
            if cell.empty:
                values[key] = RunValue(None, note=f"no runs with lr {lr:g} and momentum {momentum:g}")
                continue
            per_seed = cell.groupby("seed")[quantity].agg(pick)
            sd = per_seed.std(ddof=1) if len(per_seed) > 1 else None
            values[key] = RunValue(
                float(per_seed.mean()), sd=none_if_nan(sd), note=f"{len(per_seed)} seed(s), extreme over batch sizes"
            )
    present = sorted({float(lr) for lr in runs["lr"]})
    if len(present) >= 2:
        mean_accuracy = runs.groupby(runs["lr"].astype(float))["max_val_accuracy"].mean()
        values["hyperparameter_study.best_learning_rate"] = RunValue(
            float(mean_accuracy.idxmax()), note=f"compared learning rates {present}"
        )
    else:
        values["hyperparameter_study.best_learning_rate"] = RunValue(
            None, note=f"only learning rate(s) {present} were run"
        )
    return values


def emotion_evoked_values(frame: pd.DataFrame | None, emotions: list[str]) -> dict[str, RunValue]:
    """Shares of annotated images whose mean score is above 0 for none, one, or several emotions."""
    if frame is None:
        return {}
    keys = [f"corpus.emotion_evoked_percent.{s}" for s in ("none", "exactly_one", "more_than_one")]
    columns = {}
    for emotion in emotions:
        by_lower = {str(c).lower(): c for c in frame.columns}
        column = next((by_lower[a] for a in (emotion, f"{emotion}_mean", f"mean_{emotion}") if a in by_lower), None)
        if column is None:
            return missing_for(keys, f"{SOURCES['aggregated']} has no mean score column for {emotion}")
        columns[emotion] = column
    scores = frame[list(columns.values())].apply(pd.to_numeric, errors="coerce").dropna()
    if scores.empty:
        return missing_for(keys, f"{SOURCES['aggregated']} has no annotated images")
    evoked = (scores > 0).sum(axis=1)
    shares = {"none": evoked == 0, "exactly_one": evoked == 1, "more_than_one": evoked > 1}
    return {
        f"corpus.emotion_evoked_percent.{name}": RunValue(100 * float(mask.mean())) for name, mask in shares.items()
    }


def linear_model_values(frame: pd.DataFrame | None) -> dict[str, RunValue]:
    if frame is None:
        return {}
    key = "figure_3_1.white_pct_coefficient"
    columns = require_columns(frame, ["term", "estimate", "book_specification"], "linear_model")
    if isinstance(columns, str):
        return missing_for([key], columns)
    rows = frame[truthy(frame[columns["book_specification"]]) & (frame[columns["term"]] == "white_pct")]
    if rows.empty:
        return missing_for([key], f"{SOURCES['linear_model']} has no white_pct row of the book's specification")
    return {key: RunValue(float(rows[columns["estimate"]].iloc[0]), note="see the table's note on the gap")}


def table_4_1_values(frame: pd.DataFrame | None) -> dict[str, RunValue]:
    if frame is None:
        return {}
    columns = require_columns(frame, ["torchvision_model", "top1_error", "top5_error"], "table_4_1")
    if isinstance(columns, str):
        return {}
    values = {}
    for _, row in frame.iterrows():
        for error in ("top1_error", "top5_error"):
            values[f"table_4_1.{row[columns['torchvision_model']]}.{error}"] = RunValue(
                float(row[columns[error]]), note="torchvision's recorded accuracy of the V1 weights"
            )
    return values


def run_values(frames: Mapping[str, pd.DataFrame | None], reference: dict, emotions: list[str]) -> dict[str, RunValue]:
    """This run's value for every book number it can find, keyed like `Measure.key`."""
    values: dict[str, RunValue] = {}
    values.update(unique_image_values(frames.get("clusters"), frames.get("inventory")))
    values.update(
        confusion_values(
            frames.get("table_6_1"),
            "table_6_1",
            {
                "corpus.rekognition_sample": "total",
                "corpus.rekognition_protest": "truth",
                "corpus.rekognition_crowd": "predicted",
            },
        )
    )
    values.update(
        confusion_values(
            frames.get("table_6_2"),
            "table_6_2",
            {"corpus.legend_manual": "truth", "corpus.legend_rekognition": "predicted"},
        )
    )
    values.update(table_7_1_values(frames.get("table_7_1"), reference))
    values.update(table_7_2_values(frames.get("table_7_2"), reference))
    values.update(hyperparameter_values(frames.get("study_epochs"), frames.get("grid_runs"), reference))
    values.update(emotion_evoked_values(frames.get("aggregated"), emotions))
    values.update(linear_model_values(frames.get("linear_model")))
    values.update(table_4_1_values(frames.get("table_4_1")))
    return values


# --- Comparison -----------------------------------------------------------------------------


def matches_at_precision(run: float, book: float, decimals: int) -> bool:
    """True when the run's value rounds to the book's number at the book's printed precision."""
    return abs(run - book) <= 0.5 * 10**-decimals + 1e-12


def verdict(measure: Measure, run: RunValue | None, demo: bool) -> str:
    """missing, not comparable (demo data / simulated responses), matches, within spread or differs."""
    if run is None or run.value is None:
        return MISSING
    if demo and measure.corpus_dependent:
        return DEMO_DATA
    if run.not_comparable:
        return run.not_comparable
    if matches_at_precision(run.value, measure.book, measure.decimals):
        return MATCHES
    if run.sd and abs(run.value - measure.book) <= SPREAD_FACTOR * run.sd + 1e-12:
        return WITHIN_SPREAD
    return DIFFERS


def comparison_table(
    measures: list[Measure], values: Mapping[str, RunValue], available: Mapping[str, bool], demo: bool
) -> pd.DataFrame:
    """One row per book number: book value, run value, difference, seed sd, verdict, source, note."""
    rows = []
    for measure in measures:
        run = values.get(measure.key)
        note = run.note if run else ""
        if run is None:
            note = (
                f"{SOURCES[measure.source]} has no matching row"
                if available.get(measure.source)
                else f"{SOURCES[measure.source]} is not produced by this run"
            )
        result = verdict(measure, run, demo)
        comparable = result in (MATCHES, WITHIN_SPREAD, DIFFERS)
        rows.append(
            {
                "section": measure.section,
                "key": measure.key,
                "quantity": measure.quantity,
                "book_value": measure.book,
                "decimals": measure.decimals,
                "run_value": round(run.value, 6) if run and run.value is not None else None,
                "difference": round(run.value - measure.book, 6) if comparable else None,
                "seed_sd": round(run.sd, 6) if run and run.sd is not None else None,
                "verdict": result,
                "source": SOURCES[measure.source],
                "note": note,
            }
        )
    return pd.DataFrame(rows)


# --- Markdown -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    sources: tuple[str, ...]
    figures: tuple[str, ...] = ()


SECTIONS = (
    Section(
        "corpus",
        "Corpus and Rekognition sample (Sections 5, 6 and 7.3)",
        ("inventory", "clusters", "aggregated"),
        ("figure_7_1",),
    ),
    Section("table_6_1", "Table 6.1: Rekognition's 'Crowd' as a proxy for protest", ("table_6_1",), ("figure_6_3",)),
    Section("table_6_2", "Table 6.2: Rekognition's recognition of John Legend", ("table_6_2",)),
    Section(
        "table_7_1", "Table 7.1 and Section 7.8: images per task, class and split", ("table_7_1",), ("figure_7_2",)
    ),
    Section("table_7_2", "Table 7.2: best run per task (validation)", ("table_7_2",)),
    Section(
        "hyperparameter_study",
        "Figures 7.4 and 7.5: hyperparameter study",
        ("grid_runs",),
        ("figure_7_4", "figure_7_5"),
    ),
    Section("section_3", "Section 3: toy networks", ("table_3_1", "linear_model"), ("figure_3_1", "figure_3_3")),
    Section("table_4_1", "Table 4.1: ImageNet errors of torchvision backbones", ("table_4_1",)),
)


def format_number(value: float | None, decimals: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if float(value).is_integer() and decimals == 0:
        return f"{int(value)}"
    return f"{value:.{decimals}f}"


def format_run_value(value: float | None, decimals: int) -> str:
    """Counts as integers; other numbers with two digits more than the book prints."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return format_number(value, 0 if decimals == 0 and float(value).is_integer() else decimals + 2)


def links_line(section: Section, paths: Mapping[str, PathOrPaths], report_dir: Path) -> str:
    """Relative links to the section's tables and figures; absent ones are named as such."""
    parts = []
    for name in section.sources + section.figures:
        path = paths.get(name)
        default = SOURCES.get(name) or FIGURES.get(name)
        if path:
            parts.append(f"[{Path(path).name}]({Path(os.path.relpath(path, report_dir)).as_posix()})")
        else:
            parts.append(f"{Path(default).name} (not produced by this run)")
    return "Files: " + ", ".join(parts)


def header_markdown(demo: bool, table: pd.DataFrame) -> str:
    data = (
        "**Data: the generated demo corpus** (config `demo.generate: true`). Rows that depend on the corpus "
        f'keep the book\'s value but are marked "{DEMO_DATA}": the demo corpus is synthetic and smaller than '
        "the book's. Rows that do not depend on it (Section 3, Table 4.1) are compared for real."
        if demo
        else "**Data: the researcher's or the authors' own data** (config `demo.generate: false`); every row is compared."
    )
    counts = table["verdict"].value_counts()
    summary = ", ".join(f"{verdict}: {n}" for verdict, n in counts.items())
    return "\n".join(
        [
            "# Replication report",
            "",
            "Every number printed in Webb Williams, Casas & Wilkerson (2020), *Images as Data for Social "
            "Science Research* (values in `config/book_reference.yaml`), beside this run's value.",
            "",
            data,
            "",
            "Verdicts:",
            "",
            "- **matches**: the run's value equals the book's at the book's printed precision "
            "(it rounds to the printed number; |difference| <= half a unit of the last printed digit).",
            f"- **within spread**: it does not match, but |difference| <= {SPREAD_FACTOR:g} standard deviations "
            "of the run's value across training seeds (only where that sd is known).",
            "- **differs**: neither.",
            f"- **{DEMO_DATA}** / **{SIMULATED}**: the run's value is shown but not judged.",
            "- **missing**: this run produced no such number (the note says which file or column).",
            "",
            "Difference = this run - book. Percentages of Tables 6.1 and 6.2 are recomputed from the run's "
            "confusion counts; accuracies of the fine-tuned models are fractions.",
            "",
            f"Summary: {summary}.",
        ]
    )


def section_markdown(section: Section, rows: pd.DataFrame, paths: Mapping[str, PathOrPaths], report_dir: Path) -> str:
    shown = pd.DataFrame(
        {
            "quantity": rows["quantity"],
            "book": [format_number(v, d) for v, d in zip(rows["book_value"], rows["decimals"])],
            "this run": [format_run_value(v, d) for v, d in zip(rows["run_value"], rows["decimals"])],
            "difference": [format_run_value(v, d) for v, d in zip(rows["difference"], rows["decimals"])],
            "seed sd": [format_run_value(v, d) for v, d in zip(rows["seed_sd"], rows["decimals"])],
            "verdict": rows["verdict"],
            "note": rows["note"],
        }
    )
    return f"## {section.title}\n\n{links_line(section, paths, report_dir)}\n\n{shown.to_markdown(index=False, disable_numparse=True)}\n"


def report_markdown(table: pd.DataFrame, paths: Mapping[str, PathOrPaths], report_dir: Path, demo: bool) -> str:
    parts = [header_markdown(demo, table)]
    for section in SECTIONS:
        rows = table[table["section"] == section.key]
        if len(rows):
            parts.append(section_markdown(section, rows, paths, report_dir))
    return "\n\n".join(parts) + "\n"


# --- The whole report -----------------------------------------------------------------------


def read_table(path: PathOrPaths) -> pd.DataFrame | None:
    """A CSV (or several, stacked) as a DataFrame, or None when the run produced none of them."""
    paths = [Path(p) for p in (path if isinstance(path, (list, tuple)) else [path]) if p]
    frames = []
    for existing in (p for p in paths if p.is_file()):
        try:
            frames.append(pd.read_csv(existing))
        except pd.errors.EmptyDataError:
            continue
    if not frames:
        return None if not any(p.is_file() for p in paths) else pd.DataFrame()
    return pd.concat(frames, ignore_index=True)


def build_report_table(
    reference: dict, paths: Mapping[str, PathOrPaths], demo: bool, emotions: list[str], study_task: str | None = None
) -> pd.DataFrame:
    """The comparison table from the reference and whichever of SOURCES exist in ``paths``.

    ``study_task`` is this run's name for the hyperparameter study's task (the book's: legend).
    """
    if study_task:
        reference = {
            **reference,
            "hyperparameter_study": {**(reference.get("hyperparameter_study") or {}), "task": study_task},
        }
    frames = {name: read_table(paths.get(name)) for name in SOURCES}
    available = {name: frame is not None for name, frame in frames.items()}
    return comparison_table(book_measures(reference), run_values(frames, reference, emotions), available, demo)


def write_replication_report(
    reference_path: str | os.PathLike,
    paths: Mapping[str, PathOrPaths],
    demo: bool,
    emotions: list[str],
    markdown_path: str | os.PathLike,
    csv_path: str | os.PathLike,
    study_task: str | None = None,
) -> pd.DataFrame:
    """Write results/report/replication_report.{md,csv}; ``paths`` maps SOURCES/FIGURES names to
    the files this run produced (absent or None: not produced)."""
    reference = load_book_reference(reference_path)
    table = build_report_table(reference, paths, demo, emotions, study_task)
    write_csv(table, csv_path)
    write_text(report_markdown(table, paths, Path(markdown_path).parent, demo), markdown_path)
    return table
