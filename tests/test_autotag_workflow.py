"""The autotag rules run offline with Snakemake on a tiny corpus: the demo's four taggers
(Rekognition, Google and Azure simulated, CLIP with random weights)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml

from images_as_data.autotag.compare import run_vs_finetuned

from .conftest import REPO
from .test_autotag import build_tiny_corpus
from .test_envs import rule_blocks

SNAKEFILE = f"""
from snakemake.utils import validate

configfile: "config.yaml"
validate(config, "{REPO}/config/schema.yaml", set_default=True)

include: "{REPO}/rules/common.smk"
include: "{REPO}/rules/prepare.smk"
include: "{REPO}/rules/labels.smk"
include: "{REPO}/rules/autotag.smk"

rule all:
    input: autotag_targets()
"""


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "snakemake", "--cores", "1", "--directory", str(workdir),
               "--snakefile", str(workdir / "Snakefile"), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def make_workdir(root: Path) -> Path:
    corpus = build_tiny_corpus(root / "corpus", n=16)
    # Sources first, stage outputs after: an input newer than the outputs would rerun dedupe.
    stage_paths = {"metadata": "metadata.csv", "inventory": "results/inventory/inventory.csv",
                   "clusters": "results/dedupe/clusters.csv", "aggregated": "results/labels/aggregated.csv"}
    for name, relative in stage_paths.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(corpus[name], root / relative)
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config["data"]["metadata"] = "metadata.csv"
    config["autotag"].update(cache_dir="cache", n_most_shared=12)
    (root / "config.yaml").write_text(yaml.safe_dump(config))
    (root / "Snakefile").write_text(SNAKEFILE)
    return root


def test_demo_tables_and_figures_come_out_offline_marked_simulated(tmp_path):
    workdir = make_workdir(tmp_path)
    run = snakemake(workdir)
    assert run.returncode == 0, run.stderr[-3000:]
    results = workdir / "results"
    for table in ("table_6_1", "table_6_2"):
        assert "Simulated responses" in (results / "tables" / f"{table}.md").read_text()
        row = pd.read_csv(results / "tables" / f"{table}.csv").iloc[0]
        assert row["simulated"] and row["n_images"] == 12 and row["tn"] + row["fp"] + row["fn"] + row["tp"] == 12
    for figure in ("figure_6_3", "autotag_pr_curve"):
        assert (results / "figures" / f"{figure}.png").stat().st_size and (results / "figures" / f"{figure}.pdf").is_file()
    assert pd.read_csv(results / "autotag" / "labels.csv")["simulated"].all()
    assert "no fine-tuned predictions" in (results / "tables" / "autotag_vs_finetuned.csv").read_text()
    assert (results / "logs" / "autotag" / "fetch.log").read_text().count("autotag estimate") == 1
    # 12 images: Rekognition's two APIs, Google, Azure and CLIP (random weights count as simulated).
    assert len(list((workdir / "cache" / "simulated").rglob("*.json"))) == 12 * 5
    labels = pd.read_csv(results / "autotag" / "labels.csv")
    assert set(labels["service"]) == {"rekognition", "google", "azure", "clip"}
    assert labels.groupby("service")["confidence"].max().le(100).all()
    top = pd.read_csv(results / "tables" / "figure_6_4.csv")
    assert list(top["service"].unique()) == ["rekognition", "google", "azure", "clip"]
    assert top.groupby("service")["rank"].max().le(10).all() and top["simulated"].all()
    assert set(top.loc[top["service"] == "clip", "marker"]) == {"random weights, not a trained model"}
    for figure in ("figure_6_4",):
        assert (results / "figures" / f"{figure}.png").stat().st_size and (results / "figures" / f"{figure}.pdf").is_file()
    for service, proxy, note in [("google", "Protest", "Simulated responses"), ("azure", "crowd", "Simulated responses"),
                                 ("clip", "a photo of a protest", "Random weights")]:
        row = pd.read_csv(results / "tables" / f"table_6_1_{service}.csv").iloc[0]
        assert (row["service"], row["autotag_target"], row["n_images"], bool(row["simulated"])) == (service, proxy, 12, True)
        assert note in (results / "tables" / f"table_6_1_{service}.md").read_text()
    sweep = pd.read_csv(results / "tables" / "autotag_threshold_sweep.csv")
    assert sweep.groupby("service")["threshold"].nunique().to_dict() == dict.fromkeys(["azure", "clip", "google", "rekognition"], 101)
    assert "random init" in pd.read_csv(results / "autotag" / "requests.csv").query("service == 'clip'")["model_version"].iloc[0]

    # With a fine-tuned model (Table 7.2 names its run), both are scored on its held-out images.
    run_dir = workdir / "results" / "finetune" / "protest" / "lr0.01_m0.9_b8" / "seed1"
    run_dir.mkdir(parents=True)
    sample = pd.read_csv(results / "autotag" / "sample.csv")[["image_id"]]
    held_out = sample.assign(predicted="positive", split=["train", "train"] + ["val"] * (len(sample) - 2))
    held_out.to_csv(run_dir / "predictions.csv", index=False)
    table_7_2 = results / "tables" / "table_7_2.csv"
    pd.DataFrame({"task": ["protest"], "model_run": [str(run_dir)]}).to_csv(table_7_2, index=False)
    inputs = {name: str(results / "autotag" / f"{name}.csv") for name in ("sample", "labels", "celebrities", "requests")}
    side_by_side = run_vs_finetuned(
        yaml.safe_load((workdir / "config.yaml").read_text())["autotag"],
        {**inputs, "table_7_2": str(table_7_2)},
        tmp_path / "side_by_side.csv",
    )
    rows = side_by_side[side_by_side["task"] == "protest"]
    assert rows["method"].tolist() == ["autotagger"] * 4 + ["fine-tuned"]
    assert rows["service"].tolist()[:4] == ["rekognition", "google", "azure", "clip"]
    assert set(rows["n_images"]) == {len(sample) - 2}
    assert rows.set_index("method").loc["fine-tuned", "recall"] == 1.0


def test_pretrained_clip_weights_are_fetched_by_a_localrule_before_tagging(tmp_path):
    workdir = make_workdir(tmp_path)
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    config["autotag"]["clip"].update(weights="pretrained", model="ViT-B-32", pretrained="openai", image_size=None,
                                     checkpoint_sha256="40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af")
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    run = snakemake(workdir, "-n", "results/autotag/clip/responses.jsonl")
    assert run.returncode == 0, run.stderr[-3000:]
    plan = run.stdout + run.stderr
    assert "rule autotag_clip_weights:" in plan and "rule autotag_clip:" in plan
    assert "input: results/autotag/sample.csv, resources/weights/open_clip/ViT-B-32/openai/checkpoint.pt" in plan
    # Downloads and cloud calls run where Snakemake runs; CLIP itself may go to a (GPU) node.
    blocks = rule_blocks(REPO / "rules" / "autotag.smk")
    assert "localrule: True" in blocks["autotag_clip_weights"][1] and "localrule" not in blocks["autotag_clip"][1]
    local = (REPO / "rules" / "autotag.smk").read_text().split("localrules:")[1].split("\n\n")[0]
    assert "autotag_fetch," in local and "autotag_fetch_service," in local


def test_the_estimate_survives_a_run_stopped_by_max_calls(tmp_path):
    """Snakemake deletes a failed job's outputs; the estimate is its own rule's output, so it
    stays (and is shown) when the fetch stops at autotag.max_calls."""
    workdir = make_workdir(tmp_path)
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    config["autotag"].update(max_calls=0, services=["rekognition"])
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    run = snakemake(workdir)
    assert run.returncode != 0
    assert "autotag.max_calls is 0" in run.stderr
    estimate = pd.read_csv(workdir / "results" / "autotag" / "estimate.csv")
    assert estimate["calls_needed"].tolist() == [12, 12] and (estimate["max_calls"] == 0).all()
    assert "calls_needed" in run.stdout + run.stderr  # printed, not only written
    assert not (workdir / "results" / "autotag" / "responses.jsonl").exists()
    assert not list((workdir / "cache").rglob("*.json"))
