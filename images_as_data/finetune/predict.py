"""Labelling new images with a trained model (book Section 7.7), in batches."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pandas as pd
import torch
from torch import nn

from ..common.listing import list_tree
from .data import CENTRE_SQUARE, DEFAULT_MAX_ASPECT, FULL_IMAGE, ImageStore, eval_batch
from .model import build_model
from .train import resolve_device

log = logging.getLogger(__name__)


def unlabelled_images(manifest_csv: str | os.PathLike, aggregated_csv: str | os.PathLike) -> pd.DataFrame:
    """Working images whose cluster has no annotation: the corpus images still to be labelled."""
    manifest = pd.read_csv(manifest_csv, dtype=str, keep_default_na=False)
    annotated = set(pd.read_csv(aggregated_csv, dtype=str, keep_default_na=False)["cluster_id"])
    new = manifest[~manifest["cluster_id"].isin(annotated)]
    return new[["image_id", "path"]].reset_index(drop=True)


def images_in_folder(folder: str | os.PathLike) -> pd.DataFrame:
    """Every non-hidden file under a folder, links followed (unreadable ones are reported when predicting)."""
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"predict.images: folder {root} does not exist")
    files = [Path(entry.path) for entry in list_tree(root, outside="follow") if entry.usable and not entry.path.rsplit("/", 1)[-1].startswith(".")]
    return pd.DataFrame({"image_id": [p.as_posix() for p in files], "path": [str(root / p) for p in files]})


def images_in_list(csv: str | os.PathLike) -> pd.DataFrame:
    """A CSV with a `path` column (and optionally `image_id`, else the path is the id)."""
    table = pd.read_csv(csv, dtype=str, keep_default_na=False)
    if "path" not in table.columns:
        raise ValueError(f"predict.images: {csv} needs a 'path' column")
    if "image_id" not in table.columns:
        table["image_id"] = table["path"]
    return table[["image_id", "path"]]


def list_new_images(
    source: str | None, manifest_csv: str | os.PathLike | None = None, aggregated_csv: str | os.PathLike | None = None
) -> pd.DataFrame:
    """The images to label: unannotated corpus images (source None), a folder, or a CSV list."""
    if source is None:
        return unlabelled_images(manifest_csv, aggregated_csv)
    if Path(source).is_dir():
        return images_in_folder(source)
    if Path(source).suffix.lower() == ".csv":
        return images_in_list(source)
    raise ValueError(f"predict.images: {source} is neither a folder nor a .csv list of images")


def load_trained_model(model_path: str | os.PathLike, summary: dict, device: torch.device) -> nn.Module:
    """Rebuild the run's architecture and load its saved state_dict (weights_only)."""
    model = build_model(summary["backbone"], len(summary["classes"]), weights="none")
    model.load_state_dict(torch.load(model_path, map_location="cpu", weights_only=True))
    return model.to(device).eval()


@torch.no_grad()
def label_store(model: nn.Module, store: ImageStore, classes: list[str], crop_size: int, batch: int = 64) -> pd.DataFrame:
    """Predicted class and per-class probabilities of every image of a decoded store, `batch`
    images at a time (read from the memory-mapped store as they are needed); images that
    could not be read get status "unreadable" and the reason."""
    device = next(model.parameters()).device
    readable = [index for index, error in enumerate(store.errors) if not error]
    probabilities: dict[int, list[float]] = {}
    for start in range(0, len(readable), batch):
        rows = torch.tensor(readable[start : start + batch], dtype=torch.long)
        logits = model(eval_batch(store.images[rows].to(device), store.geometry[rows], crop_size))
        probabilities.update(zip(rows.tolist(), torch.softmax(logits.float(), dim=1).cpu().tolist()))
    table = []
    for index, (image_id, path, error) in enumerate(zip(store.image_ids, store.paths, store.errors)):
        row: dict = {"image_id": image_id, "path": path}
        if error:
            row.update(status="unreadable", reason=error, predicted="")
        else:
            probs = probabilities[index]
            row.update(status="ok", reason="", predicted=classes[max(range(len(classes)), key=probs.__getitem__)])
            row.update({f"prob_{name}": p for name, p in zip(classes, probs)})
        table.append(row)
    columns = ["image_id", "path", "status", "reason", "predicted"] + [f"prob_{name}" for name in classes]
    return pd.DataFrame(table, columns=columns)


def label_images(
    model: nn.Module,
    images: pd.DataFrame,
    classes: list[str],
    store_size: int,
    crop_size: int,
    batch: int = 64,
    threads: int = 1,
    crop_source: str = FULL_IMAGE,
    max_aspect: float = DEFAULT_MAX_ASPECT,
) -> pd.DataFrame:
    """label_store over images decoded here, `batch` at a time, as the run's store decoded
    them (`crop_source`, `max_aspect`), so a training image gets the same probabilities here
    as in the run's validation pass."""
    tables = []
    for start in range(0, len(images), batch):
        chunk = ImageStore.decode(images.iloc[start : start + batch], store_size, threads, crop_source, max_aspect)
        tables.append(label_store(model, chunk, classes, crop_size, batch))
    columns = ["image_id", "path", "status", "reason", "predicted"] + [f"prob_{name}" for name in classes]
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=columns)


def run_store_description(summary: dict) -> dict:
    """How a run's store decoded its images (runs from before the full-image store have no
    crop_source: theirs was the centre square)."""
    return {
        "store_size": summary["store_size"],
        "crop_source": summary.get("crop_source", CENTRE_SQUARE),
        "max_aspect": float(summary.get("max_aspect", DEFAULT_MAX_ASPECT)),
    }


def predict_with_run(
    run_dir: str | os.PathLike, images: ImageStore | pd.DataFrame, batch: int = 64, threads: int = 1, device: str = "auto"
) -> pd.DataFrame:
    """Label images with the model of one fine-tuning run and record which model and config did it.

    `images` decoded once for all tasks (an ImageStore) are used as they are when they were
    decoded as the run's store was; otherwise (a table, or a run trained with other store
    settings) they are decoded here as the run's store was.
    """
    run = Path(run_dir)
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    model = load_trained_model(run / "model.pt", summary, resolve_device(device))
    decoding = run_store_description(summary)
    if isinstance(images, ImageStore) and images.description() == decoding:
        table = label_store(model, images, summary["classes"], summary["crop_size"], batch)
    else:
        if isinstance(images, ImageStore):
            log.warning("%s was trained on a store decoded as %s, the images to label as %s: decoding them again",
                        run, decoding, images.description())  # fmt: skip
            images = pd.DataFrame({"image_id": images.image_ids, "path": images.paths})
        table = label_images(
            model, images, summary["classes"], decoding["store_size"], summary["crop_size"], batch, threads,
            crop_source=decoding["crop_source"], max_aspect=decoding["max_aspect"],
        )  # fmt: skip
    table.insert(2, "task", summary["task"])
    table["model"] = (run / "model.pt").as_posix()
    table["setting"] = summary["setting"]
    table["seed"] = summary["seed"]
    table["config_hash"] = summary["config_hash"]
    return table
