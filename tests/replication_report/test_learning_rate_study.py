"""The hyperparameter study (Figures 7.4, 7.5): extremes and best learning rate from the runs' curves."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from images_as_data.replication.report import MATCHES, MISSING, RunOptions
from images_as_data.replication.report.sections import learning_rate_study

from .book_shaped import EMOTIONS, epoch_curves, grid_runs_frame, run_report, run_tables, write_study_epochs


def test_study_extremes_come_from_epoch_curves_of_the_configured_task(tmp_path: Path, book_results: dict):
    book_results["study_epochs"] = write_study_epochs(tmp_path, grid_runs_frame(), task="celebrity")
    book_results["grid_runs"].unlink()
    report = run_report(tmp_path, book_results, demo=False, study_task="celebrity")
    study = report[report["section"] == "hyperparameter_study"]
    assert len(study) == 5 and set(study["verdict"]) == {MATCHES}, study[["run_value", "verdict", "note"]]
    assert report.loc["hyperparameter_study.lr0.01_momentum0.9.min_val_loss", "seed_sd"] == 0
    assert study["quantity"].str.startswith("celebrity").all()


def test_extremes_are_per_seed_over_batch_sizes_then_averaged():
    runs = grid_runs_frame()
    runs.loc[(runs["seed"] == 2) & (runs["lr"] == 0.01) & (runs["momentum"] == 0.9) & (runs["batch"] == 1), "min_val_loss"] = 0.21
    curves = pd.concat(epoch_curves(runs), ignore_index=True)
    found = learning_rate_study.values(run_tables({learning_rate_study.STUDY_EPOCHS: curves}))
    loss = found["hyperparameter_study.lr0.01_momentum0.9.min_val_loss"]
    assert loss.value == (0.17 + 0.21) / 2 and loss.sd is not None and loss.sd > 0
    assert loss.note == "2 seed(s), extreme over batch sizes"
    assert found["hyperparameter_study.best_learning_rate"].value == 0.001


def test_runs_of_another_task_leave_the_study_missing():
    curves = pd.concat(epoch_curves(grid_runs_frame()), ignore_index=True)
    found = learning_rate_study.values(run_tables({learning_rate_study.STUDY_EPOCHS: curves}, RunOptions(EMOTIONS, "protest")))
    best = found["hyperparameter_study.best_learning_rate"]
    assert best.value is None and "has no runs of task protest" in best.note


def test_run_summaries_without_extremes_leave_the_study_missing(tmp_path: Path, book_results: dict):
    del book_results["study_epochs"]
    summaries = grid_runs_frame().rename(columns={"min_val_loss": "val_loss", "max_val_accuracy": "val_accuracy"})
    summaries.to_csv(book_results["grid_runs"], index=False)
    report = run_report(tmp_path, book_results, demo=False)
    row = report.loc["hyperparameter_study.lr0.01_momentum0.7.max_val_accuracy"]
    assert row["verdict"] == MISSING and "min_val_loss" in row["note"]


def test_losses_are_compared_on_the_authors_scale_when_the_curves_record_it():
    """Figure 7.4's losses are sums of per-batch means / images; epochs.csv records that scale
    beside the per-image mean, and the study compares the former."""
    curves = pd.concat(epoch_curves(grid_runs_frame()), ignore_index=True)
    # Per-image means 4x the authors' scale, as at batch 4.
    curves = curves.assign(val_loss_authors=curves["val_loss"], val_loss=4 * curves["val_loss"])
    found = learning_rate_study.values(run_tables({learning_rate_study.STUDY_EPOCHS: curves}))
    loss = found["hyperparameter_study.lr0.01_momentum0.9.min_val_loss"]
    assert loss.value == 0.17 and "authors' scale" in loss.note
    accuracy = found["hyperparameter_study.lr0.01_momentum0.9.max_val_accuracy"]
    assert "authors' scale" not in accuracy.note
