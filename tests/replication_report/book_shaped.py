"""Tables shaped like the other stages' outputs, holding the book's numbers, and a helper that
writes the report from them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from images_as_data.replication.book_reference import load_book_reference
from images_as_data.replication.report import ResultFile, RunOptions, write_replication_report
from images_as_data.replication.report.engine import RunTables

from ..conftest import REPO

REFERENCE_PATH = REPO / "config" / "book_reference.yaml"
EMOTIONS = ("fear", "anger", "disgust", "sadness", "enthusiasm")


def book_reference() -> dict:
    return load_book_reference(REFERENCE_PATH)


def run_tables(frames: dict[ResultFile, pd.DataFrame], options: RunOptions = RunOptions(EMOTIONS)) -> RunTables:
    """What a section's `values` gets: these tables (the others not produced) and the book's reference."""
    return RunTables({file.name: frame for file, frame in frames.items()}, book_reference(), options)


def confusion_frame(section: dict, simulated: bool = False) -> pd.DataFrame:
    row = dict(section["counts"])
    return pd.DataFrame([{**row, "accuracy": 0.0, "simulated": simulated}])


def table_7_1_frame(reference: dict) -> pd.DataFrame:
    rows = []
    for entry in reference["table_7_1"]:
        for split in ("train", "val"):
            rows.append({"task": entry["task"], "class": entry["class"], "split": split, "n": entry[split]})
        rows.append({"task": entry["task"], "class": entry["class"], "split": "total", "n": entry["train"] + entry["val"]})
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


def epoch_curves(runs: pd.DataFrame, task: str = "legend") -> list[pd.DataFrame]:
    """One epochs.csv table per run (as the fine-tuning stage writes them) whose extremes are ``runs``'."""
    return [
        pd.DataFrame(
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
        for i, run in runs.iterrows()
    ]


def write_study_epochs(root: Path, runs: pd.DataFrame, task: str = "legend") -> list[Path]:
    paths = []
    for curve in epoch_curves(runs, task):
        first = curve.iloc[0]
        path = root / "results" / "finetune" / task / first["setting"] / f"seed{first['seed']}" / "epochs.csv"
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


def write_book_shaped_results(root: Path, reference: dict, n_unique: int = 8148) -> dict[str, Path | list[Path]]:
    """The stages' tables under root/results, holding the book's numbers, by report file name."""
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
    paths: dict[str, Path | list[Path]] = {}
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


def run_report(root: Path, paths: dict, demo: bool, study_task: str | None = None) -> pd.DataFrame:
    """Write the report under root/results/report and return its CSV indexed by key."""
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
