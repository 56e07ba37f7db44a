"""The hyperparameter study (book Section 7.6, Figures 7.4 and 7.5): the learning rate with the
highest mean max validation accuracy, and the lowest validation loss and highest validation
accuracy of the worst settings (lr 0.01 with momentum 0.9 and 0.7).

Book values: `hyperparameter_study` of config/book_reference.yaml. This run's values come from
the study runs' per-epoch curves (min val_loss, max val_accuracy per run); without them, from
run summaries that carry such min/max columns. The book's losses are on the authors' scale
(their script summed per-batch mean losses and divided by the number of images); the curves'
`val_loss_authors` holds that scale and is compared where present, else `val_loss`.
"""

from __future__ import annotations

import math

import pandas as pd

from ..engine import Measure, ResultFile, RunOptions, RunTables, RunValue, Section
from ..reading import find_column, missing_for, none_if_nan, require_columns

KEY = "hyperparameter_study"
STUDY_EPOCHS = ResultFile("study_epochs", "finetune/<study task>/<setting>/seed<seed>/epochs.csv")
GRID_RUNS = ResultFile("grid_runs", "tables/grid_runs.csv")
FIGURE_7_4 = ResultFile("figure_7_4", "figures/figure_7_4.png")
FIGURE_7_5 = ResultFile("figure_7_5", "figures/figure_7_5.png")

# The extremes the book reports per setting: over epochs and batch sizes the lowest loss and
# the highest accuracy; the reference gives each one's printed precision under its own key.
EXTREMES = {
    "min_val_loss": ("min", "min validation loss", "loss_decimals"),
    "max_val_accuracy": ("max", "max validation accuracy", "accuracy_decimals"),
}


def study_settings(reference: dict, options: RunOptions) -> dict:
    """The book's study settings, under this run's name for the study task (the book's: legend)."""
    study = reference.get("hyperparameter_study") or {}
    return {**study, "task": options.study_task} if options.study_task else study


def extreme_key(lr: float, momentum: float, quantity: str) -> str:
    return f"{KEY}.lr{lr:g}_momentum{momentum:g}.{quantity}"


def measures(reference: dict, options: RunOptions) -> list[Measure]:
    if not reference.get("hyperparameter_study"):
        return []
    study = study_settings(reference, options)
    task = study.get("task", "legend")
    found = []
    if "best_learning_rate" in study:
        found.append(
            Measure(
                f"{KEY}.best_learning_rate",
                KEY,
                f"{task}: learning rate with the highest mean max validation accuracy",
                float(study["best_learning_rate"]),
                4,
                STUDY_EPOCHS,
            )
        )
    for extreme in study.get("extremes") or []:
        lr, momentum = float(extreme["lr"]), float(extreme["momentum"])
        for quantity, (_, text, decimals) in EXTREMES.items():
            found.append(
                Measure(
                    extreme_key(lr, momentum, quantity),
                    KEY,
                    f"{task}, lr {lr:g}, momentum {momentum:g}: {text}",
                    float(extreme[quantity]),
                    int(extreme.get(decimals, 2)),
                    STUDY_EPOCHS,
                )
            )
    return found


def runs_from_epoch_curves(epochs: pd.DataFrame) -> pd.DataFrame | str:
    """One row per run (task, lr, momentum, batch, seed) with its lowest validation loss and
    highest validation accuracy over epochs, or a note naming the columns the curves lack."""
    columns = require_columns(epochs, ["task", "lr", "momentum", "batch", "seed", "val_loss", "val_accuracy"], STUDY_EPOCHS)
    if isinstance(columns, str):
        return columns
    curves = epochs[list(columns.values())].rename(columns={v: k for k, v in columns.items()})
    return curves.groupby(["task", "lr", "momentum", "batch", "seed"], as_index=False).agg(
        min_val_loss=("val_loss", "min"), max_val_accuracy=("val_accuracy", "max")
    )


def values(run: RunTables) -> dict[str, RunValue]:
    """The study's extremes and best learning rate.

    Per seed, an extreme is taken over the batch sizes (the book reports one value per
    learning rate and momentum); the value is the mean over seeds, the sd their spread.
    """
    keys = [m.key for m in measures(run.reference, run.options)]
    epochs, grid_runs = run.frame(STUDY_EPOCHS), run.frame(GRID_RUNS)
    scale = ""
    if epochs is not None and find_column(epochs, "val_loss") == "val_loss_authors":
        scale = "; loss on the authors' scale (sum of per-batch mean losses / images, about the per-image mean / batch size)"
    if epochs is not None:
        frame, source = runs_from_epoch_curves(epochs), STUDY_EPOCHS
        if isinstance(frame, str):
            return missing_for(keys, frame)
    elif grid_runs is not None:
        frame, source = grid_runs, GRID_RUNS
    else:
        return {}
    study = study_settings(run.reference, run.options)
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
        return missing_for(keys, f"{source.shown} has no runs of task {study.get('task')} with learning rates {study_lrs}")
    found: dict[str, RunValue] = {}
    for extreme in study.get("extremes") or []:
        lr, momentum = float(extreme["lr"]), float(extreme["momentum"])
        cell = runs[
            runs["lr"].map(lambda v: math.isclose(float(v), lr)) & runs["momentum"].map(lambda v: math.isclose(float(v), momentum))
        ]
        for quantity, (pick, _, _) in EXTREMES.items():
            key = extreme_key(lr, momentum, quantity)
            if cell.empty:
                found[key] = RunValue(None, note=f"no runs with lr {lr:g} and momentum {momentum:g}")
                continue
            per_seed = cell.groupby("seed")[quantity].agg(pick)
            sd = per_seed.std(ddof=1) if len(per_seed) > 1 else None
            note = f"{len(per_seed)} seed(s), extreme over batch sizes" + (scale if quantity == "min_val_loss" else "")
            found[key] = RunValue(float(per_seed.mean()), sd=none_if_nan(sd), note=note)
    present = sorted({float(lr) for lr in runs["lr"]})
    if len(present) >= 2:
        mean_accuracy = runs.groupby(runs["lr"].astype(float))["max_val_accuracy"].mean()
        found[f"{KEY}.best_learning_rate"] = RunValue(float(mean_accuracy.idxmax()), note=f"compared learning rates {present}")
    else:
        found[f"{KEY}.best_learning_rate"] = RunValue(None, note=f"only learning rate(s) {present} were run")
    return found


SECTION = Section(
    KEY,
    "Figures 7.4 and 7.5: hyperparameter study",
    links=(GRID_RUNS, FIGURE_7_4, FIGURE_7_5),
    reads=(STUDY_EPOCHS, GRID_RUNS),
    measures=measures,
    values=values,
)
