"""Workflow steps of fine-tuning that need torch: tensor stores, training, labelling new images.

Each function reads a rule's inputs, computes and writes its outputs atomically; scripts in
scripts/ call exactly one of them. Tables and figures are in `reporting` (no torch import,
so those jobs start fast).
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

import pandas as pd
import torch

from ..common.atomic import atomic_path, write_csv, write_text
from .data import DEFAULT_MAX_ASPECT, FULL_IMAGE, ImageStore, TensorStore, build_store
from .grid import Setting
from .model import fetch_imagenet_weights
from .predict import list_new_images, predict_with_run
from .tables import chosen_run_dir
from .train import TrainOptions, fine_tune

log = logging.getLogger(__name__)
PathLike = str | os.PathLike


def build_store_file(
    split_csv: PathLike,
    store_path: PathLike,
    size: int,
    threads: int = 1,
    crop_source: str = FULL_IMAGE,
    max_aspect: float = DEFAULT_MAX_ASPECT,
) -> None:
    """Decode a task's images once into its tensor store."""
    store = build_store(split_csv, size, threads, crop_source, max_aspect)
    scaled = int((store.scales < 1).sum())
    log.info(
        "%s store of %d images (%s) at %d px, canvas %s, %.1f MB, from %s",
        crop_source, len(store.image_ids), store.classes, size, "x".join(map(str, store.images.shape[-2:])),
        store.images.numel() / 1e6, split_csv,
    )  # fmt: skip
    if scaled:
        log.info("%d image(s) longer than finetune.max_aspect (%g) x %d px were scaled down to fit", scaled, max_aspect, size)
    store.save(store_path)


def train_and_save(
    store_path: PathLike,
    outputs: dict[str, PathLike],
    task: str,
    setting_id: str,
    seed: int,
    options: dict,
    threads: int = 1,
) -> dict:
    """Run one (task, setting, seed) and write epochs.csv, model.pt, summary.json and predictions.csv.

    ``checkpoint.pt`` beside them holds the run after each epoch; a rerun of a killed job
    resumes from it. It is removed once the outputs are written.
    """
    # CPU seconds of the process so far: Python, Snakemake's script preamble and the imports.
    imports_cpu = time.process_time()
    torch.set_num_threads(threads)
    store = TensorStore.load(store_path)
    store_cpu = time.process_time() - imports_cpu
    checkpoint = checkpoint_path(outputs)
    logged_start_up = False

    def on_epoch(row: dict) -> None:
        nonlocal logged_start_up
        if not logged_start_up:
            before_training = time.process_time() - row["cpu_seconds"]
            log.info(
                "start-up before the first batch: %.1f s CPU (Python and imports %.1f s, reading the store %.1f s, "
                "model and optimiser %.1f s)", before_training, imports_cpu, store_cpu, before_training - imports_cpu - store_cpu,
            )  # fmt: skip
            logged_start_up = True
        log.info(
            "epoch %d: train loss %.4f acc %.3f | val loss %.4f acc %.3f (%.1f s, %.1f s CPU)",
            row["epoch"], row["train_loss"], row["train_accuracy"], row["val_loss"], row["val_accuracy"], row["seconds"],
            row["cpu_seconds"],
        )  # fmt: skip

    result = fine_tune(
        store,
        Setting.parse(setting_id),
        TrainOptions.from_config(options),
        int(seed),
        task=task,
        on_epoch=on_epoch,
        checkpoint=checkpoint,
    )
    write_csv(result.epochs, outputs["epochs"])
    with atomic_path(outputs["model"]) as tmp:
        torch.save(result.state_dict, tmp)
    write_csv(result.predictions, outputs["predictions"])
    write_text(json.dumps(result.summary, indent=2) + "\n", outputs["summary"])
    checkpoint.unlink(missing_ok=True)
    log.info("best epoch %d, val accuracy %.3f", result.summary["best_epoch"], result.summary["val_accuracy"])
    # Snakemake's benchmark files sample CPU time only in a job's first 15 s, then every 30 s
    # (README, "What the workflow does"), so the job's own count is logged.
    log.info("CPU time of this job: %.1f s (all threads, from the process's start)", time.process_time())
    return result.summary


def checkpoint_path(outputs: dict[str, PathLike]) -> Path:
    """Where a run keeps its checkpoint: beside its outputs (not one of them, so Snakemake
    does not delete it before rerunning a killed job)."""
    return Path(outputs["model"]).with_name("checkpoint.pt")


def write_new_image_list(
    source: str | None, out_csv: PathLike, manifest_csv: PathLike | None = None, aggregated_csv: PathLike | None = None
) -> None:
    images = list_new_images(source, manifest_csv, aggregated_csv)
    log.info("%d images to label from %s", len(images), source or "the unannotated corpus clusters")
    write_csv(images, out_csv)


def build_image_store_file(
    images_csv: PathLike,
    store_path: PathLike,
    size: int,
    threads: int = 1,
    crop_source: str = FULL_IMAGE,
    max_aspect: float = DEFAULT_MAX_ASPECT,
) -> None:
    """Decode the images to label once, for every task's predictions (rule predict_store)."""
    images = pd.read_csv(images_csv, dtype=str, keep_default_na=False)
    store = ImageStore.decode(images, size, threads, crop_source, max_aspect)
    unreadable = sum(1 for error in store.errors if error)
    log.info(
        "%s store of %d images to label at %d px, canvas %s, %.1f MB; %d unreadable",
        crop_source, len(images), size, "x".join(map(str, store.images.shape[-2:])), store.images.numel() / 1e6, unreadable,
    )  # fmt: skip
    store.save(store_path)


def write_predictions(
    grid_runs_csv: PathLike,
    task: str,
    settings: list[str],
    store_path: PathLike,
    out_csv: PathLike,
    batch: int = 64,
    threads: int = 1,
    device: str = "auto",
) -> None:
    """Label the new images, decoded once for all tasks (ImageStore), with the task's chosen
    model (book Section 7.7)."""
    torch.set_num_threads(threads)
    images = ImageStore.load(store_path)
    run_dir = chosen_run_dir(grid_runs_csv, task, settings)
    table = predict_with_run(run_dir, images, batch=batch, threads=threads, device=device)
    unreadable = table[table["status"] != "ok"]
    for row in unreadable.itertuples():
        log.warning("unreadable: %s (%s)", row.path, row.reason)
    log.info("labelled %d images with %s; %d unreadable", len(table) - len(unreadable), run_dir, len(unreadable))
    write_csv(table, out_csv)


def fetch_weights(backbone: str, weights: str, cache_dir: PathLike) -> None:
    path = fetch_imagenet_weights(backbone, cache_dir, weights)
    log.info("ImageNet weights for %s cached at %s", backbone, path)
