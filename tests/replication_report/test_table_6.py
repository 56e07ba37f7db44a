"""Tables 6.1 and 6.2: confusion counts, recomputed percentages, long or wide tables, simulated responses."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from images_as_data.replication.report import DEMO_DATA, DIFFERS, MATCHES, SIMULATED
from images_as_data.replication.report.sections import table_6

from .book_shaped import confusion_frame, run_report, run_tables


def test_percentages_are_recomputed_from_the_counts(reference: dict):
    found = table_6.TABLE_6_1.values(run_tables({table_6.TABLE_6_1_CSV: confusion_frame(reference["table_6_1"])}))
    assert found["table_6_1.accuracy"].value == pytest.approx(100 * (321 + 374) / 815)
    assert found["table_6_1.precision"].value == pytest.approx(100 * 374 / 446)
    assert found["table_6_1.recall"].value == pytest.approx(100 * 374 / 422)
    assert found["table_6_1.tn"].value == 321


def test_zero_denominator_is_undefined_not_an_error():
    empty = pd.DataFrame([{"tp": 0, "fp": 0, "fn": 3, "tn": 5}])
    found = table_6.TABLE_6_2.values(run_tables({table_6.TABLE_6_2_CSV: empty}))
    assert found["table_6_2.precision"].value is None
    assert found["table_6_2.precision"].note == "undefined: zero denominator"
    assert found["table_6_2.recall"].value == 0


def test_perturbed_value_differs(tmp_path: Path, book_results: dict):
    table = pd.read_csv(book_results["table_6_1"])
    table["tp"] = 300
    table.to_csv(book_results["table_6_1"], index=False)
    report = run_report(tmp_path, book_results, demo=False)
    assert report.loc["table_6_1.tp", "verdict"] == DIFFERS
    assert report.loc["table_6_1.tp", "difference"] == -74
    assert report.loc["table_6_1.accuracy", "verdict"] == DIFFERS
    assert report.loc["table_6_1.tn", "verdict"] == MATCHES


def test_simulated_rekognition_tables_are_not_comparable(tmp_path: Path, book_results: dict, reference: dict):
    confusion_frame(reference["table_6_2"], simulated=True).to_csv(book_results["table_6_2"], index=False)
    report = run_report(tmp_path, book_results, demo=False)
    assert report.loc["table_6_2.recall", "verdict"] == SIMULATED
    assert report.loc["table_6_1.recall", "verdict"] == MATCHES


def test_long_confusion_table_reads_like_wide():
    long = pd.DataFrame({"manual": ["no", "yes", "no", "yes"], "aws": ["no", "no", "yes", "yes"], "n": [321, 48, 72, 374]})
    found = table_6.TABLE_6_1.values(run_tables({table_6.TABLE_6_1_CSV: long}))
    assert {cell: found[f"table_6_1.{cell}"].value for cell in table_6.CELLS} == {"tp": 374, "fp": 72, "fn": 48, "tn": 321}


def test_a_table_without_counts_leaves_the_section_missing():
    found = table_6.TABLE_6_1.values(run_tables({table_6.TABLE_6_1_CSV: pd.DataFrame({"label": ["Crowd"]})}))
    assert set(found) == {f"table_6_1.{key}" for key in (*table_6.CELLS, *table_6.PERCENTAGES)}
    assert all(value.value is None and "neither tp/fp/fn/tn" in value.note for value in found.values())


def test_demo_rekognition_rows_say_simulated(tmp_path: Path, book_results: dict, reference: dict):
    """On the demo corpus the Rekognition rows come from simulated responses, and the report says so."""
    confusion_frame(reference["table_6_1"], simulated=True).to_csv(book_results["table_6_1"], index=False)
    report = run_report(tmp_path, book_results, demo=True)
    assert report.loc["table_6_1.accuracy", "verdict"] == SIMULATED
    assert report.loc["corpus.rekognition_crowd", "verdict"] == SIMULATED
    assert "simulated" in SIMULATED
    assert report.loc["table_6_2.recall", "verdict"] == DEMO_DATA
    assert SIMULATED in (tmp_path / "results" / "report" / "replication_report.md").read_text()
