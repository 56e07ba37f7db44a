"""End to end: the whole default DAG on the tiny demo corpus (tests/configs/tiny.yaml), from
the generated raw files through inventory, dedupe, labels and splits to Tables 7.1/7.2,
predictions, provenance sidecars and the replication report (fixture `tiny_run`)."""

from __future__ import annotations

import hashlib
import json
import os
import re

import pandas as pd
import pytest
import yaml

from images_as_data.common.listing import SNAKEMAKE_MARKER
from images_as_data.prepare.inventory import reason_category

pytestmark = pytest.mark.slow

# planted.csv's expected_reason codes -> the inventory's reason categories; the generator's
# "unreadable" covers files that are no image at all as well as damaged images.
PLANTED_REASONS = {
    "min_bytes": {"under min_bytes"},
    "unreadable": {"unreadable", "not an image"},
    "max_pixels": {"over max_pixels"},
    "min_side": {"too few pixels"},
}
# Replication report sections whose numbers come from the corpus (or simulated Rekognition).
CORPUS_SECTIONS = {"corpus", "table_6_1", "table_6_2", "figure_6_4", "table_7_1", "table_7_2", "hyperparameter_study"}
DEMO_VERDICT = "not comparable: demo data"
SIMULATED_VERDICT = "not comparable: simulated Rekognition responses"
SIMULATED_TAGGER_VERDICT = "not comparable: simulated tagger responses"  # Figure 6.4


@pytest.fixture(scope="module")
def tiny_config(tiny_run) -> dict:
    return yaml.safe_load(tiny_run.configfile.read_text())


@pytest.fixture(scope="module")
def inventory(tiny_run) -> pd.DataFrame:
    return pd.read_csv(tiny_run.results / "inventory" / "inventory.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def planted(tiny_run) -> pd.DataFrame:
    return pd.read_csv(tiny_run.results / "demo" / "planted.csv", dtype=str, keep_default_na=False)


def files_under(folder) -> int:
    """Files of the corpus (not Snakemake's marker of a finished output folder)."""
    return sum(len([n for n in names if n != SNAKEMAKE_MARKER]) for _, _, names in os.walk(folder))


def test_inventory_counts_reconcile(tiny_run, inventory):
    raw = files_under(tiny_run.results / "demo" / "raw")
    counts = inventory["status"].value_counts()
    assert len(inventory) == raw and inventory["image_id"].is_unique
    assert set(counts.index) == {"kept", "excluded"}
    assert counts["kept"] + counts["excluded"] == raw
    log = (tiny_run.results / "logs" / "prepare" / "inventory.log").read_text()
    assert f"raw files {raw} = kept {counts['kept']} + excluded {counts['excluded']}" in log


def test_every_planted_defect_gets_its_expected_status_and_reason(inventory, planted):
    found = inventory.set_index("image_id")
    defects = planted[planted["expected_status"] != ""]
    assert {"tiny_file", "truncated_jpeg", "not_an_image", "over_pixel_limit", "small_side"} <= set(defects["kind"])
    for row in defects.itertuples():
        assert found.loc[row.image_id, "status"] == row.expected_status, (row.kind, row.image_id)
        if row.expected_status == "excluded":
            category = reason_category(found.loc[row.image_id, "reason"])
            assert category in PLANTED_REASONS[row.expected_reason], (row.kind, row.image_id, category)
    planted_excluded = set(defects.loc[defects["expected_status"] == "excluded", "image_id"])
    excluded = set(inventory.loc[inventory["status"] == "excluded", "image_id"])
    assert excluded == planted_excluded, "excluded without a planted defect"


def test_planted_copies_join_their_original_cluster(tiny_run, inventory, planted):
    clusters = pd.read_csv(tiny_run.results / "dedupe" / "clusters.csv", dtype=str).set_index("image_id")
    kept = set(inventory.loc[inventory["status"] == "kept", "image_id"])
    copies = planted[(planted["of_image_id"] != "") & planted["image_id"].isin(kept)]
    assert len(copies) >= 5
    assert set(clusters.index) == kept
    for row in copies.itertuples():
        assert clusters.loc[row.image_id, "cluster_id"] == clusters.loc[row.of_image_id, "cluster_id"], row.kind


def test_no_duplicate_cluster_crosses_splits(tiny_run, tiny_config):
    folder = tiny_run.results / "splits"
    assert sorted(path.stem for path in folder.glob("*.csv")) == sorted(tiny_config["tasks"])
    for path in folder.glob("*.csv"):
        splits = pd.read_csv(path, dtype=str)
        assert {"train", "val"} <= set(splits["split"]), path.name
        per_cluster = splits.groupby("cluster_id")["split"].nunique()
        assert (per_cluster == 1).all(), f"{path.name}: clusters in two splits: {list(per_cluster[per_cluster > 1].index)}"


def test_tables_7_1_and_7_2_have_every_task(tiny_run, tiny_config):
    tables = tiny_run.results / "tables"
    table_7_1 = pd.read_csv(tables / "table_7_1.csv")
    assert list(dict.fromkeys(table_7_1["task"])) == list(tiny_config["tasks"])
    assert (table_7_1["n"] > 0).all()
    table_7_2 = pd.read_csv(tables / "table_7_2.csv")
    assert list(table_7_2["task"]) == list(tiny_config["tasks"])
    assert table_7_2["accuracy"].between(0, 1).all()
    for name in ("table_7_1", "table_7_2"):
        assert (tables / f"{name}.md").stat().st_size > 0


def test_every_task_labels_the_new_images(tiny_run, tiny_config):
    new_images = pd.read_csv(tiny_run.results / "predictions" / "new_images.csv")
    assert len(new_images) > 0
    for task in tiny_config["tasks"]:
        predictions = pd.read_csv(tiny_run.results / "predictions" / f"{task}.csv")
        assert len(predictions) == len(new_images), task
        assert (predictions["status"] == "ok").all(), task
        assert predictions["predicted"].notna().all(), task


def test_every_table_csv_has_a_matching_provenance_sidecar(tiny_run):
    tables = sorted((tiny_run.results / "tables").glob("*.csv"))
    assert {"table_7_1", "table_7_2", "table_6_1", "table_4_1", "grid_runs"} <= {path.stem for path in tables}
    for table in tables:
        sidecar = table.with_suffix(".provenance.json")
        assert sidecar.exists(), f"{table.name} has no provenance sidecar"
        recorded = json.loads(sidecar.read_text())
        assert recorded["table"]["sha256"] == hashlib.sha256(table.read_bytes()).hexdigest(), table.name


def test_replication_report_marks_corpus_rows_not_comparable(tiny_run, tiny_config):
    report = pd.read_csv(tiny_run.results / "report" / "replication_report.csv", keep_default_na=False)
    corpus = report[report["section"].isin(CORPUS_SECTIONS)]
    assert set(corpus["verdict"]) <= {DEMO_VERDICT, SIMULATED_VERDICT, SIMULATED_TAGGER_VERDICT, "missing"}
    # The demo's Rekognition rows come from simulated responses, and the report says so.
    rekognition = report[report["section"].isin({"table_6_1", "table_6_2"})]
    assert len(rekognition) and (rekognition["verdict"] == SIMULATED_VERDICT).all()
    assert SIMULATED_VERDICT in (tiny_run.results / "report" / "replication_report.md").read_text()
    for task in tiny_config["tasks"]:
        rows = corpus[corpus["key"].str.contains(rf"^table_7_[12]\.{task}\.", regex=True)]
        assert len(rows) and (rows["verdict"] == DEMO_VERDICT).all(), task
    # Rows that do not depend on the corpus (Section 3, Table 4.1) are compared for real.
    compared = report[~report["section"].isin(CORPUS_SECTIONS)]
    assert len(compared) and set(compared["verdict"]) <= {"matches", "differs", "within spread"}
    assert DEMO_VERDICT in (tiny_run.results / "report" / "replication_report.md").read_text()


def test_one_pass_does_everything_including_the_side_by_side_with_the_fine_tuned_model(tiny_run):
    rerun = set(re.findall(r"^(?:local)?rule (\w+):$", tiny_run.second_pass_log, re.MULTILINE))
    assert rerun == set()
    side_by_side = pd.read_csv(tiny_run.results / "tables" / "autotag_vs_finetuned.csv").set_index(["task", "method"])
    assert side_by_side.loc[("protest", "fine-tuned"), "n_images"] > 0
    assert side_by_side.loc[("protest", "fine-tuned"), "n_images"] == side_by_side.loc[("protest", "autotagger"), "n_images"]
    dry_run = tiny_run.snakemake("--dry-run")
    assert dry_run.returncode == 0, dry_run.stderr[-3000:]
    assert "Nothing to be done" in dry_run.stdout + dry_run.stderr
