"""config/book.yaml end to end on data in the authors' published layout: every task as
`<task>/train/<class>/` and `<task>/test/<class>/` (test/ being their validation set), the
tweet corpus with its annotation sheet and share counts, and Rekognition responses in the
authors' recorded CSV format imported into the response cache. A shrinking overlay
(tests/configs/book_shrink.yaml: one epoch of one setting from random weights, small
images) keeps it to a few minutes; the run must reach the replication report."""

from __future__ import annotations

import subprocess
import sys
import time

import pandas as pd
import pytest
import yaml

from .authors_data import BOOK_TASKS, write_authors_tasks, write_corpus, write_recorded_responses
from .conftest import REPO, SNAKEMAKE, copy_workflow

pytestmark = pytest.mark.slow

OVERLAY = REPO / "tests" / "configs" / "book_shrink.yaml"
TRAIN, TEST = 4, 2  # images per class in the authors' train/ and test/ folders
FINE_TUNED = yaml.safe_load(OVERLAY.read_text())["finetune"]["tasks"]


@pytest.fixture(scope="module")
def book_run(tmp_path_factory):
    if not SNAKEMAKE.exists():
        pytest.skip(f"{SNAKEMAKE} is not installed (run install.sh)")
    workdir = copy_workflow(tmp_path_factory.mktemp("book") / "workflow")
    data = workdir / "data" / "book"
    write_authors_tasks(data, {"train": TRAIN, "test": TEST})
    truth = write_corpus(data)
    write_recorded_responses(truth, workdir / "labels_recorded.csv", workdir / "celebs_recorded.csv")
    # The README's way to replay the authors' recordings: import them into the response cache.
    imported = subprocess.run(
        [sys.executable, "-m", "images_as_data.autotag.recorded", "--images", "data/book/corpus",
         "--cache", "resources/autotag_cache", "--labels", "labels_recorded.csv", "--celebrities", "celebs_recorded.csv"],
        cwd=workdir, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr[-3000:]
    started = time.monotonic()
    run = subprocess.run(
        [str(SNAKEMAKE), "--cores", "2", "--configfile", "config/book.yaml", str(OVERLAY)],
        cwd=workdir, capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    seconds = time.monotonic() - started
    assert run.returncode == 0, f"book config run failed after {seconds:.0f} s:\n{run.stderr[-6000:]}"
    print(f"\nbook config run: {seconds:.0f} s")
    return workdir, truth, run


def test_the_book_config_asks_for_a_gpu_and_the_books_procedure():
    """(Its lint: tests/test_lint.py, on stand-in data folders.)"""
    config = yaml.safe_load((REPO / "config" / "book.yaml").read_text())
    assert config["finetune"]["gpu"] is True and config["finetune"]["device"] == "auto"
    assert config["finetune"]["crop_source"] == "full_image"
    assert {spec["val_folder"] for spec in config["tasks"].values()} == {"test"}


def test_the_run_reaches_the_replication_report(book_run):
    workdir, _, run = book_run
    report = pd.read_csv(workdir / "results" / "report" / "replication_report.csv", keep_default_na=False)
    assert "demo data" not in " ".join(report["verdict"])
    produced = report[report["verdict"] != "missing"]
    for section in ("corpus", "table_6_1", "table_6_2", "table_7_1", "table_7_2", "hyperparameter_study"):
        assert (produced["section"] == section).any(), section
    # Figure 7.4's losses are compared on the authors' scale (the overlay runs only lr 0.01, momentum 0.9).
    loss_row = report.set_index("key").loc["hyperparameter_study.lr0.01_momentum0.9.min_val_loss"]
    assert loss_row["verdict"] != "missing" and "authors' scale" in loss_row["note"]
    for name in ("figure_7_4", "figure_7_5", "figure_6_3", "figure_7_1", "figure_7_2"):
        assert (workdir / "results" / "figures" / f"{name}.png").stat().st_size > 0, name
    for name in ("table_6_1", "table_6_2", "table_7_1", "table_7_2"):
        assert (workdir / "results" / "tables" / f"{name}.md").stat().st_size > 0, name
    markdown = (workdir / "results" / "report" / "replication_report.md").read_text()
    assert "researcher's or the authors' own data" in markdown
    # Training jobs asked for a GPU (none here: device auto fell back to the CPU).
    assert "gpu=1" in run.stdout + run.stderr or "gpu: 1" in run.stdout + run.stderr


def test_table_7_1_takes_the_test_folders_as_the_validation_sets(book_run):
    workdir, _, _ = book_run
    table = pd.read_csv(workdir / "results" / "tables" / "table_7_1.csv", keep_default_na=False)
    book_tasks = list(yaml.safe_load((REPO / "config" / "book.yaml").read_text())["tasks"])
    assert list(table["task"].drop_duplicates()) == book_tasks and set(book_tasks) == set(BOOK_TASKS)
    split_rows = table[table["split"] != "total"]
    assert set(split_rows["split"]) == {"train", "val"}
    assert (split_rows.loc[split_rows["split"] == "train", "n"] == TRAIN).all()
    val = split_rows[split_rows["split"] == "val"]
    assert (val["n"] == TEST).all() and set(val["folder"]) == {"test"}
    assert val["note"].str.contains("validation set").all()
    assert "the given test/ folder, used as the validation set" in (workdir / "results" / "tables" / "table_7_1.md").read_text()


def test_tables_6_1_and_6_2_use_the_sheets_labels_and_the_replayed_responses(book_run):
    workdir, truth, _ = book_run
    annotated = truth[truth["annotated"]]
    tables = workdir / "results" / "tables"
    crowd = pd.read_csv(tables / "table_6_1.csv", dtype={"model_version": str}).iloc[0]
    # Crowd at 91.5 on every manual protest image, 12 elsewhere: a perfect proxy here.
    assert (crowd["n_images"], crowd["tp"], crowd["tn"], crowd["fp"], crowd["fn"]) == (
        len(annotated), annotated["protest"].sum(), (~annotated["protest"]).sum(), 0, 0)
    assert not crowd["simulated"] and crowd["model_version"] == "2.0"
    legend = pd.read_csv(tables / "table_6_2.csv").iloc[0]
    assert legend["tp"] == annotated["legend"].sum() and legend["fp"] == 0
    estimate = pd.read_csv(workdir / "results" / "autotag" / "estimate.csv")
    assert (estimate["backend"] == "replay").all() and (estimate["calls_needed"] == 0).all()
    requests = pd.read_csv(workdir / "results" / "autotag" / "requests.csv")
    celebrities = requests[requests["api"] == "recognize_celebrities"]
    assert celebrities["n_unrecognized_faces"].isna().all()  # the recordings cannot tell


def test_every_task_trained_from_its_full_image_store_with_both_loss_scales(book_run):
    workdir, _, _ = book_run
    grid = pd.read_csv(workdir / "results" / "tables" / "grid_runs.csv")
    assert sorted(grid["task"]) == sorted(FINE_TUNED)
    assert (grid["crop_source"] == "full_image").all() and (grid["n_val"] > 0).all()
    epochs = pd.read_csv(next((workdir / "results" / "finetune" / "legend").rglob("epochs.csv")))
    assert {"train_loss", "train_loss_authors", "val_loss", "val_loss_authors"} <= set(epochs.columns)
    table_7_2 = pd.read_csv(workdir / "results" / "tables" / "table_7_2.csv")
    assert sorted(table_7_2["task"]) == sorted(FINE_TUNED)
    side_by_side = pd.read_csv(workdir / "results" / "tables" / "autotag_vs_finetuned.csv")
    assert set(side_by_side["task"]) == {"protest", "legend"}
    # The tasks' images are the authors' folders, not the corpus: nothing to score side by side.
    fine_tuned = side_by_side[side_by_side["method"] == "fine-tuned"]
    assert (fine_tuned["n_images"] == 0).all() and fine_tuned["note"].str.contains("presplit folders").all()
