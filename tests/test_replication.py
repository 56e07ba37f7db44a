"""The replication report: book-shaped outputs match, perturbed ones differ, demo runs are not judged."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from images_as_data.replication.report import (
    DEMO_DATA,
    DIFFERS,
    MATCHES,
    MISSING,
    SIMULATED,
    WITHIN_SPREAD,
    Measure,
    RunValue,
    book_measures,
    load_book_reference,
    matches_at_precision,
    verdict,
    write_replication_report,
)

from .conftest import REPO

REFERENCE_PATH = REPO / "config" / "book_reference.yaml"
EMOTIONS = ["fear", "anger", "disgust", "sadness", "enthusiasm"]


@pytest.fixture(scope="module")
def reference() -> dict:
    return load_book_reference(REFERENCE_PATH)


def confusion_frame(section: dict, simulated: bool = False) -> pd.DataFrame:
    row = dict(section["counts"])
    return pd.DataFrame([{**row, "accuracy": 0.0, "simulated": simulated}])


def table_7_1_frame(reference: dict) -> pd.DataFrame:
    rows = []
    for entry in reference["table_7_1"]:
        for split in ("train", "val"):
            rows.append({"task": entry["task"], "class": entry["class"], "split": split, "n": entry[split]})
        rows.append(
            {"task": entry["task"], "class": entry["class"], "split": "total", "n": entry["train"] + entry["val"]}
        )
    leaders = reference["world_leaders"]
    for i in range(leaders["classes"]):
        for split, n in (("train", leaders["train_per_class"]), ("val", leaders["val_per_class"])):
            rows.append({"task": leaders["task"], "class": f"leader_{i}", "split": split, "n": n})
    return pd.DataFrame(rows)


def table_7_2_frame(reference: dict) -> pd.DataFrame:
    rows = [{**row, "accuracy_sd": 0.02, "test_accuracy": 0.5} for row in reference["table_7_2"]["rows"]]
    rows.append({"task": "world_leaders", "accuracy": 1.0, "f1": 1.0, "precision": 1.0, "recall": 1.0})
    return pd.DataFrame(rows)


def grid_runs_frame() -> pd.DataFrame:
    """Legend study runs whose extremes are the book's (lr 0.01) and whose best lr is 0.001."""
    best = {0.01: 0.85, 0.001: 0.95, 0.0001: 0.80}
    rows = []
    for seed in (1, 2):
        for lr in best:
            for momentum in (0.7, 0.9):
                for batch in (1, 4):
                    loss, accuracy = 0.3, best[lr]
                    if lr == 0.01 and momentum == 0.9:
                        loss, accuracy = (0.17, 0.60) if batch == 1 else (0.25, 0.55)
                    elif lr == 0.01:
                        loss, accuracy = (0.1, 0.85) if batch == 4 else (0.2, 0.7)
                    rows.append(
                        {
                            "task": "legend",
                            "lr": lr,
                            "momentum": momentum,
                            "batch": batch,
                            "seed": seed,
                            "min_val_loss": loss,
                            "max_val_accuracy": accuracy,
                        }
                    )
    return pd.DataFrame(rows)


def write_study_epochs(root: Path, runs: pd.DataFrame, task: str = "legend") -> list[Path]:
    """Per-run epochs.csv files (as the fine-tuning stage writes them) whose extremes are ``runs``'."""
    paths = []
    for i, run in runs.iterrows():
        curve = pd.DataFrame(
            {
                "task": task,
                "setting": f"s{i}",
                "lr": run["lr"],
                "momentum": run["momentum"],
                "batch": run["batch"],
                "seed": run["seed"],
                "epoch": [1, 2, 3],
                "val_loss": [run["min_val_loss"] + 0.3, run["min_val_loss"], run["min_val_loss"] + 0.1],
                "val_accuracy": [0.5, run["max_val_accuracy"] - 0.05, run["max_val_accuracy"]],
            }
        )
        path = root / "results" / "finetune" / task / f"s{i}" / f"seed{run['seed']}" / "epochs.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        curve.to_csv(path, index=False)
        paths.append(path)
    return paths


def corpus_frames(n_unique: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """An inventory with excluded small files and clusters with one duplicate per 100 images."""
    ids = [f"img_{i:05d}.jpg" for i in range(n_unique)]
    duplicates = [f"dup_{i:05d}.jpg" for i in range(0, n_unique, 100)]
    small = ["small_1.jpg", "small_2.jpg"]
    inventory = pd.DataFrame(
        {"image_id": ids + duplicates + small, "status": ["kept"] * (n_unique + len(duplicates)) + ["excluded"] * 2}
    )
    clusters = pd.DataFrame(
        {
            "image_id": ids + duplicates + small,
            "cluster_id": ids + [ids[i] for i in range(0, n_unique, 100)] + small,
            "is_root": [True] * n_unique + [False] * len(duplicates) + [True] * 2,
        }
    )
    return inventory, clusters


def aggregated_frame() -> pd.DataFrame:
    """100 annotated images: 35 evoke no emotion, 19 exactly one, 46 more than one."""
    rows = []
    for i in range(100):
        scores = dict.fromkeys(EMOTIONS, 0.0)
        if 35 <= i < 54:
            scores["fear"] = 2.5
        elif i >= 54:
            scores["fear"], scores["anger"] = 4.0, 1.0
        rows.append({"cluster_id": f"img_{i}", "n_annotators": 1, **scores})
    return pd.DataFrame(rows)


def write_book_shaped_results(root: Path, reference: dict, n_unique: int = 8148) -> dict[str, Path]:
    """Tables shaped like the other stages' outputs, holding the book's numbers."""
    inventory, clusters = corpus_frames(n_unique)
    frames = {
        "inventory": (inventory, "inventory/inventory.csv"),
        "clusters": (clusters, "dedupe/clusters.csv"),
        "aggregated": (aggregated_frame(), "labels/aggregated.csv"),
        "table_6_1": (confusion_frame(reference["table_6_1"]), "tables/table_6_1.csv"),
        "table_6_2": (confusion_frame(reference["table_6_2"]), "tables/table_6_2.csv"),
        "table_7_1": (table_7_1_frame(reference), "tables/table_7_1.csv"),
        "table_7_2": (table_7_2_frame(reference), "tables/table_7_2.csv"),
        "grid_runs": (grid_runs_frame(), "tables/grid_runs.csv"),
    }
    paths = {}
    for name, (frame, relative) in frames.items():
        path = root / "results" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(path, index=False)
        paths[name] = path
    paths["study_epochs"] = write_study_epochs(root, grid_runs_frame())
    figure = root / "results" / "figures" / "figure_7_1.png"
    figure.parent.mkdir(parents=True, exist_ok=True)
    figure.write_bytes(b"png")
    paths["figure_7_1"] = figure
    return paths


def run_report(root: Path, paths: dict[str, Path], demo: bool, study_task: str | None = None) -> pd.DataFrame:
    report_dir = root / "results" / "report"
    write_replication_report(
        REFERENCE_PATH,
        paths,
        demo,
        EMOTIONS,
        report_dir / "replication_report.md",
        report_dir / "replication_report.csv",
        study_task,
    )
    return pd.read_csv(report_dir / "replication_report.csv").set_index("key")


@pytest.fixture
def book_results(tmp_path: Path, reference: dict) -> dict[str, Path]:
    return write_book_shaped_results(tmp_path, reference)


def test_book_shaped_outputs_match(tmp_path: Path, book_results: dict[str, Path], reference: dict):
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
    assert report.loc["table_6_1.accuracy", "run_value"] == pytest.approx(100 * (321 + 374) / 815, abs=1e-6)
    # the book's fear positives (49) disagree with its own Table 7.1 split (38 + 10)
    assert report.loc["corpus.emotion_positives.fear", "run_value"] == 48
    assert report.loc["corpus.emotion_positives.fear", "verdict"] == DIFFERS


def test_perturbed_value_differs(tmp_path: Path, book_results: dict[str, Path]):
    table = pd.read_csv(book_results["table_6_1"])
    table["tp"] = 300
    table.to_csv(book_results["table_6_1"], index=False)
    report = run_report(tmp_path, book_results, demo=False)
    assert report.loc["table_6_1.tp", "verdict"] == DIFFERS
    assert report.loc["table_6_1.tp", "difference"] == -74
    assert report.loc["table_6_1.accuracy", "verdict"] == DIFFERS
    assert report.loc["table_6_1.tn", "verdict"] == MATCHES


def test_seed_spread_decides_between_within_spread_and_differs(tmp_path: Path, book_results: dict[str, Path]):
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


def test_demo_run_is_not_comparable_but_section_3_and_table_4_1_are(tmp_path: Path, book_results: dict[str, Path]):
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


def test_simulated_rekognition_tables_are_not_comparable(tmp_path: Path, book_results: dict[str, Path], reference):
    confusion_frame(reference["table_6_2"], simulated=True).to_csv(book_results["table_6_2"], index=False)
    report = run_report(tmp_path, book_results, demo=False)
    assert report.loc["table_6_2.recall", "verdict"] == SIMULATED
    assert report.loc["corpus.legend_rekognition", "verdict"] == SIMULATED
    assert report.loc["table_6_1.recall", "verdict"] == MATCHES


def test_long_confusion_table_reads_like_wide(tmp_path: Path, book_results: dict[str, Path]):
    long = pd.DataFrame(
        {"manual": ["no", "yes", "no", "yes"], "aws": ["no", "no", "yes", "yes"], "n": [321, 48, 72, 374]}
    )
    long.to_csv(book_results["table_6_1"], index=False)
    report = run_report(tmp_path, book_results, demo=False)
    assert report.loc["table_6_1.fn", "run_value"] == 48
    assert report.loc["table_6_1.precision", "verdict"] == MATCHES


def test_absent_tables_and_columns_are_missing_not_errors(tmp_path: Path, book_results: dict[str, Path]):
    del book_results["table_6_1"], book_results["grid_runs"], book_results["study_epochs"]
    pd.DataFrame({"task": ["protest"], "Klasse": ["positive"]}).to_csv(book_results["table_7_1"], index=False)
    report = run_report(tmp_path, book_results, demo=False)
    assert report.loc["table_6_1.tp", "verdict"] == MISSING
    assert "not produced by this run" in report.loc["table_6_1.tp", "note"]
    assert report.loc["hyperparameter_study.best_learning_rate", "verdict"] == MISSING
    assert report.loc["table_7_1.protest.positive.train", "verdict"] == MISSING
    assert "class" in report.loc["table_7_1.protest.positive.train", "note"]
    assert report.loc["table_6_2.tp", "verdict"] == MATCHES


def test_markdown_defines_verdicts_and_links_relatively(tmp_path: Path, book_results: dict[str, Path]):
    run_report(tmp_path, book_results, demo=False)
    markdown = (tmp_path / "results" / "report" / "replication_report.md").read_text()
    assert "printed precision" in markdown and "2 standard deviations" in markdown
    assert "[table_6_1.csv](../tables/table_6_1.csv)" in markdown
    assert "[figure_7_1.png](../figures/figure_7_1.png)" in markdown
    assert "figure_7_4.png (not produced by this run)" in markdown


def test_reference_covers_the_books_tables(reference: dict):
    keys = {m.key for m in book_measures(reference)}
    assert len([k for k in keys if k.startswith("table_4_1.")]) == 2 * 21
    assert {"table_6_1.tp", "table_6_2.recall", "corpus.unique_images", "corpus.rekognition_sample"} <= keys
    assert "table_7_2.sadness.recall" in keys and "table_7_1.fear.negative.train" in keys
    assert "hyperparameter_study.lr0.01_momentum0.9.min_val_loss" in keys


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
    measure = Measure("k", "table_7_2", "q", 0.92, 2, "table_7_2")
    assert verdict(measure, RunValue(0.90), demo=False) == DIFFERS
    assert verdict(measure, RunValue(0.90, sd=0.01), demo=False) == WITHIN_SPREAD
    assert verdict(measure, RunValue(None, note="x"), demo=True) == MISSING


def test_study_extremes_come_from_epoch_curves_of_the_configured_task(tmp_path: Path, book_results: dict[str, Path]):
    book_results["study_epochs"] = write_study_epochs(tmp_path, grid_runs_frame(), task="celebrity")
    book_results["grid_runs"].unlink()
    report = run_report(tmp_path, book_results, demo=False, study_task="celebrity")
    study = report[report["section"] == "hyperparameter_study"]
    assert len(study) == 5 and set(study["verdict"]) == {MATCHES}, study[["run_value", "verdict", "note"]]
    assert report.loc["hyperparameter_study.lr0.01_momentum0.9.min_val_loss", "seed_sd"] == 0


def test_run_summaries_without_extremes_leave_the_study_missing(tmp_path: Path, book_results: dict[str, Path]):
    del book_results["study_epochs"]
    summaries = grid_runs_frame().rename(columns={"min_val_loss": "val_loss", "max_val_accuracy": "val_accuracy"})
    summaries.to_csv(book_results["grid_runs"], index=False)
    report = run_report(tmp_path, book_results, demo=False)
    row = report.loc["hyperparameter_study.lr0.01_momentum0.7.max_val_accuracy"]
    assert row["verdict"] == MISSING and "min_val_loss" in row["note"]
