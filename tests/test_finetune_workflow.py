"""The fine-tuning and prediction rules as a Snakemake DAG on tiny synthetic split tables."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
import yaml

from images_as_data.finetune.synthetic import write_shape_task

from .conftest import REPO

SNAKEMAKE = Path(sys.executable).with_name("snakemake")

CONFIG = {
    "demo": {"generate": False},
    "tasks": {"three": {"type": "presplit", "path": "unused"}},
    "finetune": {
        "store_size": 40, "crop_size": 32, "epochs": 2, "seeds": [1],
        "grid": {"lr": [0.01], "momentum": [0.9], "batch": [8]},
        "study": {"task": "three", "lr": [0.01, 0.001], "momentum": [0.9], "batch": [8]},
        "device": "cpu", "threads": 1, "store_threads": 1,
    },
    "predict": {"device": "cpu", "threads": 1},
}  # fmt: skip


def write_project(root: Path) -> None:
    (root / "config.yaml").write_text(yaml.safe_dump(CONFIG))
    (root / "Snakefile").write_text(textwrap.dedent(f"""
            from snakemake.utils import validate
            configfile: "config.yaml"
            validate(config, "{REPO}/config/schema.yaml", set_default=True)
            include: "{REPO}/rules/common.smk"
            include: "{REPO}/rules/prepare.smk"
            include: "{REPO}/rules/labels.smk"
            include: "{REPO}/rules/finetune.smk"
            include: "{REPO}/rules/predict.smk"
            rule all:
                input: finetune_targets()
            """))
    splits = root / "results" / "splits"
    splits.mkdir(parents=True)
    write_shape_task(root / "img3", ["bar", "negative", "triangle"], {"train": 12, "val": 4}, size=40).to_csv(
        splits / "three.csv", index=False
    )
    corpus = write_shape_task(root / "corpus", ["positive", "negative"], {"new": 2}, size=40)
    (root / "corpus" / "broken.png").write_text("not an image")
    manifest = pd.DataFrame({"image_id": corpus["image_id"].tolist() + ["broken.png", "labelled.png"],
                             "path": corpus["path"].tolist() + [str(root / "corpus" / "broken.png"), "x.png"]})  # fmt: skip
    manifest["cluster_id"] = manifest["image_id"]
    (root / "results" / "working").mkdir(parents=True)
    manifest.to_csv(root / "results" / "working" / "manifest.csv", index=False)
    (root / "results" / "labels" / "aggregated").mkdir(parents=True)
    pd.DataFrame({"cluster_id": ["labelled.png"], "n_annotators": [1]}).to_csv(
        root / "results" / "labels" / "aggregated" / "annotated.csv", index=False
    )


@pytest.mark.slow
def test_dag_runs_from_split_tables_to_table_7_2_figures_and_predictions(tmp_path):
    write_project(tmp_path)
    completed = subprocess.run(
        [str(SNAKEMAKE), "--cores", "2", "--snakefile", "Snakefile", "--quiet", "rules"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-4000:]
    results = tmp_path / "results"
    runs = pd.read_csv(results / "tables" / "grid_runs.csv")
    assert sorted(runs["setting"]) == ["lr0.001_m0.9_b8", "lr0.01_m0.9_b8"]  # the grid plus the study
    table = pd.read_csv(results / "tables" / "table_7_2.csv")
    assert table["task"].tolist() == ["three"] and table["setting"].tolist() == ["lr0.01_m0.9_b8"]
    for name in ["figure_7_4", "figure_7_5", "tasks_vs_baseline", "confusion_three", "errors_three"]:
        assert (results / "figures" / f"{name}.png").exists() and (results / "figures" / f"{name}.pdf").exists()
    epochs = pd.read_csv(results / "finetune" / "three" / "lr0.001_m0.9_b8" / "seed1" / "epochs.csv")
    assert {"train_loss", "train_accuracy", "val_loss", "val_accuracy", "val_precision", "val_recall", "val_f1",
            "lr_epoch", "seconds", "cpu_seconds"} <= set(epochs.columns)  # fmt: skip
    predictions = pd.read_csv(results / "predictions" / "three.csv")
    assert len(predictions) == 5  # 4 new images + 1 unreadable; the annotated one is left out
    assert predictions.set_index("image_id").loc["broken.png", "status"] == "unreadable"
    assert (results / "logs" / "finetune" / "three" / "lr0.01_m0.9_b8" / "seed1.log").exists()
