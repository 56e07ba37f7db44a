"""Table 7.2: seed means of the validation metrics, and the seed spread that decides "within spread"."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from images_as_data.replication.report import DIFFERS, WITHIN_SPREAD
from images_as_data.replication.report.sections import table_7_2

from .book_shaped import run_report, run_tables


def test_seed_spread_decides_between_within_spread_and_differs(tmp_path: Path, book_results: dict):
    table = pd.read_csv(book_results["table_7_2"])
    legend = table["task"] == "legend"
    table.loc[legend, "accuracy"] = 0.80  # 0.12 below the book
    table.loc[legend, "accuracy_sd"] = 0.07
    table.loc[legend, "f1"] = 0.80
    table.loc[legend, "f1_sd"] = 0.05
    table.to_csv(book_results["table_7_2"], index=False)
    report = run_report(tmp_path, book_results, demo=False)
    assert report.loc["table_7_2.legend.accuracy", "verdict"] == WITHIN_SPREAD
    assert report.loc["table_7_2.legend.accuracy", "seed_sd"] == pytest.approx(0.07)
    assert report.loc["table_7_2.legend.f1", "verdict"] == DIFFERS


def test_rows_per_seed_give_their_mean_and_spread_on_validation_only():
    frame = pd.DataFrame(
        {
            "task": ["anger"] * 3,
            "split": ["val", "val", "test"],
            "val_accuracy": [0.6, 0.8, 0.1],
            "lr": [0.005] * 3,
        }
    )
    found = table_7_2.values(run_tables({table_7_2.TABLE_7_2_CSV: frame}))
    assert found["table_7_2.anger.accuracy"].value == pytest.approx(0.7)
    assert found["table_7_2.anger.accuracy"].sd == pytest.approx(0.1414, abs=1e-4)
    assert found["table_7_2.anger.accuracy"].note == "mean of 2 rows"
    assert found["table_7_2.anger.lr"].sd is None
    assert found["table_7_2.anger.recall"].note == "results/tables/table_7_2.csv has no column for recall"


def test_world_leaders_accuracy_is_a_table_7_2_number(reference: dict):
    keys = [m.key for m in table_7_2.measures(reference, None)]
    assert "table_7_2.world_leaders.accuracy" in keys
    assert len(keys) == 7 * 7 + 1
