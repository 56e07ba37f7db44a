"""The report's engine and registry: verdicts, the whole report from book-shaped tables, its
Markdown, absent inputs, and that the sections declare their files and numbers coherently."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from images_as_data.replication.report import (
    DEMO_DATA,
    DIFFERS,
    MATCHES,
    MISSING,
    REPORT_FILES,
    SECTIONS,
    WITHIN_SPREAD,
    Measure,
    ResultFile,
    RunOptions,
    RunValue,
    Section,
    book_measures,
    report_modules,
    verdict,
)
from images_as_data.replication.report.engine import matches_at_precision, result_files, run_values

from ..conftest import REPO
from .book_shaped import EMOTIONS, run_report, run_tables

FILE = ResultFile("table_7_2", "tables/table_7_2.csv")


def test_book_shaped_outputs_match(tmp_path: Path, book_results: dict):
    report = run_report(tmp_path, book_results, demo=False)
    corpus_keys = [k for k in report.index if k.startswith(("table_6", "table_7", "hyperparameter_study"))]
    corpus_keys += [
        "corpus.unique_images",
        "corpus.rekognition_sample",
        "corpus.rekognition_protest",
        "corpus.rekognition_crowd",
        "corpus.legend_manual",
        "corpus.legend_rekognition",
        "corpus.emotion_positives.anger",
        "corpus.emotion_positives.enthusiasm",
        "corpus.emotion_evoked_percent.none",
        "corpus.emotion_evoked_percent.exactly_one",
    ]
    not_matching = report.loc[corpus_keys].query("verdict != @MATCHES")
    assert not_matching.empty, not_matching[["book_value", "run_value", "verdict", "note"]].to_string()
    # 35 + 19 + 46 = 100: the book's "about 50 %" cannot hold together with the other two
    assert report.loc["corpus.emotion_evoked_percent.more_than_one", "verdict"] == DIFFERS
    # the book's fear positives (49) disagree with its own Table 7.1 split (38 + 10)
    assert report.loc["corpus.emotion_positives.fear", "verdict"] == DIFFERS
    assert list(report["section"].unique()) == [section.key for section in SECTIONS]


def test_demo_run_is_not_comparable_but_section_3_and_table_4_1_are(tmp_path: Path, book_results: dict):
    linear = tmp_path / "results" / "tables" / "figure_3_1_linear_model.csv"
    pd.DataFrame([{"model": "book", "book_specification": True, "term": "white_pct", "estimate": -0.0066}]).to_csv(
        linear, index=False
    )
    book_results["linear_model"] = linear
    report = run_report(tmp_path, book_results, demo=True)
    corpus_rows = report[report["section"].isin(["corpus", "table_6_1", "table_6_2", "table_7_1", "table_7_2"])]
    assert len(corpus_rows) > 50
    assert set(corpus_rows["verdict"]) == {DEMO_DATA}
    assert corpus_rows["book_value"].notna().all()
    assert corpus_rows["difference"].isna().all()
    assert report.loc["figure_3_1.white_pct_coefficient", "verdict"] == MATCHES
    markdown = (tmp_path / "results" / "report" / "replication_report.md").read_text()
    assert "demo corpus" in markdown and DEMO_DATA in markdown


def test_absent_tables_are_missing_not_errors(tmp_path: Path, book_results: dict):
    del book_results["table_6_1"], book_results["grid_runs"], book_results["study_epochs"]
    report = run_report(tmp_path, book_results, demo=False)
    assert report.loc["table_6_1.tp", "verdict"] == MISSING
    assert report.loc["table_6_1.tp", "note"] == "results/tables/table_6_1.csv is not produced by this run"
    assert report.loc["hyperparameter_study.best_learning_rate", "verdict"] == MISSING
    assert report.loc["table_4_1.resnet18.top1_error", "verdict"] == MISSING
    assert report.loc["table_6_2.tp", "verdict"] == MATCHES


def test_a_produced_table_without_the_row_says_so(tmp_path: Path, book_results: dict):
    table = pd.read_csv(book_results["table_7_2"])
    table[table["task"] != "sadness"].to_csv(book_results["table_7_2"], index=False)
    report = run_report(tmp_path, book_results, demo=False)
    assert report.loc["table_7_2.sadness.recall", "verdict"] == MISSING
    assert report.loc["table_7_2.sadness.recall", "note"] == "results/tables/table_7_2.csv has no matching row"


def test_markdown_defines_verdicts_and_links_relatively(tmp_path: Path, book_results: dict):
    run_report(tmp_path, book_results, demo=False)
    markdown = (tmp_path / "results" / "report" / "replication_report.md").read_text()
    assert "printed precision" in markdown and "2 standard deviations" in markdown
    assert "[table_6_1.csv](../tables/table_6_1.csv)" in markdown
    assert "[figure_7_1.png](../figures/figure_7_1.png)" in markdown
    assert "figure_7_4.png (not produced by this run)" in markdown
    headings = [line[3:] for line in markdown.splitlines() if line.startswith("## ")]
    assert headings == [section.title for section in SECTIONS]


@pytest.mark.parametrize(
    ("run", "book", "decimals", "expected"),
    [
        (0.924, 0.92, 2, True),
        (0.926, 0.92, 2, False),
        (85.28, 85.3, 1, True),
        (8148, 8148, 0, True),
        (8147, 8148, 0, False),
    ],
)
def test_matches_means_equal_at_printed_precision(run, book, decimals, expected):
    assert matches_at_precision(run, book, decimals) is expected


def test_verdict_without_sd_never_says_within_spread():
    measure = Measure("k", "table_7_2", "q", 0.92, 2, FILE)
    assert verdict(measure, RunValue(0.90), demo=False) == DIFFERS
    assert verdict(measure, RunValue(0.90, sd=0.01), demo=False) == WITHIN_SPREAD
    assert verdict(measure, RunValue(None, note="x"), demo=True) == MISSING


def test_reference_covers_the_books_tables(reference: dict):
    keys = [m.key for m in book_measures(reference)]
    assert len(keys) == len(set(keys))
    assert len([k for k in keys if k.startswith("table_4_1.")]) == 2 * 21
    assert {"table_6_1.tp", "table_6_2.recall", "corpus.unique_images", "corpus.rekognition_sample"} <= set(keys)
    assert "table_7_2.sadness.recall" in keys and "table_7_1.fear.negative.train" in keys
    assert "hyperparameter_study.lr0.01_momentum0.9.min_val_loss" in keys


def test_each_file_name_means_one_path_and_the_registry_has_them_all():
    assert set(REPORT_FILES) == {file.name for section in SECTIONS for file in (*section.reads, *section.links)}
    clash = Section("x", "X", links=(ResultFile("table_7_2", "tables/other.csv"),), reads=(), measures=None, values=None)
    with pytest.raises(ValueError, match="table_7_2 is tables/other.csv, elsewhere tables/table_7_2.csv"):
        result_files([*SECTIONS, clash])


def test_a_measure_must_come_from_a_file_its_section_reads(reference: dict):
    stray = Section(
        "stray",
        "Stray",
        links=(),
        reads=(),
        measures=lambda reference, options: [Measure("stray.n", "stray", "n", 1.0, 0, FILE)],
        values=lambda run: {},
    )
    with pytest.raises(ValueError, match="stray.n"):
        book_measures(reference, sections=[stray])


def test_two_sections_may_not_find_the_same_value():
    def finder(key: str) -> Section:
        return Section(key, key, (), (), lambda reference, options: [], lambda run: {"same.key": RunValue(1.0)})

    with pytest.raises(ValueError, match="same.key"):
        run_values([finder("a"), finder("b")], run_tables({}, RunOptions(EMOTIONS)))


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("results/finetune/legend/lr0.01_m0.9_b8/seed1/epochs.csv", True),
        ("./results/finetune/celebrity/s0/seed12/epochs.csv", True),
        ("results/finetune/legend/epochs.csv", False),
        ("results/finetune/legend/s0/seed1/summary.json", False),
    ],
)
def test_a_file_pattern_matches_each_runs_file(path: str, expected: bool):
    study_epochs = REPORT_FILES["study_epochs"]
    assert study_epochs.many
    assert study_epochs.matches(path) is expected
    assert REPORT_FILES["table_7_2"].matches("results/tables/table_7_2.csv")
    assert not REPORT_FILES["table_7_2"].matches("results/tables/table_7_2.md")


def test_the_rules_code_input_lists_every_module_of_the_report():
    modules = report_modules()
    assert "replication/report/engine.py" in modules
    for section in SECTIONS:
        path = Path(__import__(section.values.__module__, fromlist=["_"]).__file__)
        assert path.relative_to(REPO / "images_as_data").as_posix() in modules
    assert all((REPO / "images_as_data" / module).is_file() for module in modules)
