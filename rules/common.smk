# Shared names, wildcard constraints and input functions for every stage.

import os
from pathlib import Path

from images_as_data.config import validate_tasks

TASKS = validate_tasks(config)
RESULTS = "results"
LOGS = f"{RESULTS}/logs"
BENCH = f"{RESULTS}/benchmarks"


wildcard_constraints:
    task="|".join(TASKS) if TASKS else "[A-Za-z][A-Za-z0-9_]*",


def demo_outputs():
    return {
        "raw": f"{RESULTS}/demo/raw",
        "annotations": f"{RESULTS}/demo/annotations.csv",
        "metadata": f"{RESULTS}/demo/metadata.csv",
        "planted": f"{RESULTS}/demo/planted.csv",
        "leaders": f"{RESULTS}/demo/world_leaders",
        "legend_positive": f"{RESULTS}/demo/legend_external/positive",
        "legend_negative": f"{RESULTS}/demo/legend_external/negative",
    }


def raw_images():
    return config["data"]["images"]


def annotations_csv():
    return config["data"]["annotations"]


def metadata_csv():
    """The metadata CSV as a list (empty when the config has none), for use in `input:`."""
    path = config["data"].get("metadata")
    return [path] if path else []


def task_folders(wildcards):
    """Folders a task reads besides the corpus: external class folders or a class tree."""
    spec = config["tasks"][wildcards.task]
    folders = list((spec.get("external") or {}).values())
    if spec.get("path"):
        folders.append(spec["path"])
    return folders


def split_csvs():
    return expand(f"{RESULTS}/splits/{{task}}.csv", task=TASKS)


def prepare_targets():
    return [
        f"{RESULTS}/inventory/inventory.csv",
        f"{RESULTS}/dedupe/clusters.csv",
        f"{RESULTS}/working/manifest.csv",
    ]


def label_targets():
    figures = ["figure_4_2", "figure_4_3", "figure_7_1", "figure_7_2"]
    return (
        split_csvs()
        + expand(f"{RESULTS}/tables/table_7_1.{{ext}}", ext=["csv", "md"])
        + expand(f"{RESULTS}/figures/{{fig}}.{{ext}}", fig=figures, ext=["png", "pdf"])
    )


def result_tables(targets):
    """Names of the CSV tables under results/tables/ among targets (each gets a provenance sidecar)."""
    return sorted(
        {
            Path(t).stem
            for t in targets
            if t.startswith(f"{RESULTS}/tables/") and t.endswith(".csv")
        }
    )


def all_targets():
    targets = (
        prepare_targets()
        + label_targets()
        + finetune_targets()
        + autotag_targets()
        + replication_targets()
    )
    return targets + provenance_targets(result_tables(targets))
