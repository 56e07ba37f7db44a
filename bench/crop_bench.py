"""Training crops from the whole image (`finetune.crop_source: full_image`, the book's
procedure) against the centre-square store (`centre_square`), side by side on the same task
(see bench/README.md, "Crop source"):

(a) store: decoding time, bytes, canvas shape, on the demo corpus's protest task (aspect
    ratios 1:3 to 3:1, as the demo generator draws them);
(b) training speed: images/s of a training epoch (crops cut on the store's device), median
    of repeats, the two stores alternating so that machine load hits both alike;
(c) accuracy: validation accuracy (best epoch and last epoch) of ResNet-18 from random
    weights on that task, over several seeds; the evaluation transform is the same
    Resize + CenterCrop for both, so differences come from what training saw;
(d) memory at the book's sizes (store 256): bytes per image of both stores, computed from
    the same images' Resize(256) sizes.

Usage: .venv/bin/python bench/crop_bench.py [--images 800] [--epochs 10] [--seeds 1 2 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image

from images_as_data.demo.corpus import generate_demo_corpus
from images_as_data.finetune.data import CROP_SOURCES, build_store, resized_size
from images_as_data.finetune.grid import Setting
from images_as_data.finetune.train import Trainer, TrainOptions, fine_tune


def protest_split(demo: Path, seed: int = 0) -> pd.DataFrame:
    """Distinct annotated demo pictures (no planted copies or defects), any annotator yes =
    protest, balanced, 80/20 per class (as tests/test_finetune_demo.py)."""
    planted = pd.read_csv(demo / "planted.csv")
    copies_and_defects = set(planted.loc[planted["kind"] != "original", "image_id"])
    votes = pd.read_csv(demo / "annotations.csv").groupby("image_id")["protest"].max()
    votes = votes[~votes.index.isin(copies_and_defects)]
    rng = np.random.default_rng(seed)
    n = int(min((votes == 1).sum(), (votes == 0).sum()))
    rows = []
    for label, value in (("positive", 1), ("negative", 0)):
        ids = rng.permutation(sorted(votes.index[votes == value]))[:n]
        for rank, image_id in enumerate(ids):
            rows.append({"image_id": image_id, "path": str(demo / "raw" / image_id), "label": label,
                         "split": "val" if rank < n // 5 else "train", "cluster_id": image_id})  # fmt: skip
    return pd.DataFrame(rows)


def stores(split_csv: Path, size: int, max_aspect: float) -> tuple[dict, list[dict]]:
    """(a) Both stores of the task, with build time and size."""
    built, rows = {}, []
    for source in CROP_SOURCES:
        started = time.perf_counter()
        store = build_store(split_csv, size, threads=1, crop_source=source, max_aspect=max_aspect)
        seconds = time.perf_counter() - started
        built[source] = store
        rows.append({"crop_source": source, "images": len(store.image_ids), "canvas": "x".join(map(str, store.images.shape[-2:])),
                     "store_mb": store.images.numel() / 1e6, "build_s": seconds,
                     "scaled_down": int((store.scales < 1).sum())})  # fmt: skip
    return built, rows


def training_speed(built: dict, crop: int, batch: int, repeats: int) -> list[dict]:
    """(b) Images/s of one training epoch, the stores alternating."""
    trainers = {source: Trainer(store, Setting(0.01, 0.9, batch), TrainOptions(crop_size=crop, device="cpu"), seed=1)
                for source, store in built.items()}  # fmt: skip
    seconds: dict[str, list[float]] = {source: [] for source in trainers}
    for round_ in range(repeats + 1):
        for source, trainer in trainers.items():
            train = trainer.store.indices("train")
            started = time.perf_counter()
            trainer.train_epoch(train)
            if round_:  # the first round warms up
                seconds[source].append(time.perf_counter() - started)
    rows = []
    for source, trainer in trainers.items():
        n = len(trainer.store.indices("train"))
        rows.append({"crop_source": source, "train_images": n, "epoch_s": statistics.median(seconds[source]),
                     "images_per_s": n / statistics.median(seconds[source])})  # fmt: skip
    return rows


def accuracy(built: dict, crop: int, batch: int, epochs: int, seeds: list[int]) -> pd.DataFrame:
    """(c) Best-epoch and last-epoch validation accuracy per store and seed."""
    rows = []
    options = TrainOptions(crop_size=crop, epochs=epochs, step_size=max(1, int(epochs * 0.7)), device="cpu")
    for seed in seeds:
        for source, store in built.items():
            result = fine_tune(store, Setting(0.01, 0.9, batch), options, seed=seed, task=f"protest/{source}")
            rows.append({"crop_source": source, "seed": seed, "best_val_accuracy": result.summary["val_accuracy"],
                         "last_val_accuracy": result.epochs["val_accuracy"].iloc[-1],
                         "best_epoch": result.summary["best_epoch"]})  # fmt: skip
            print(f"  seed {seed}, {source}: best {rows[-1]['best_val_accuracy']:.3f} (epoch {rows[-1]['best_epoch']}), "
                  f"last {rows[-1]['last_val_accuracy']:.3f}", flush=True)  # fmt: skip
    return pd.DataFrame(rows)


def book_size_memory(split: pd.DataFrame, size: int, max_aspect: float) -> list[dict]:
    """(d) Bytes per image at the book's store size, from the images' own dimensions."""
    longs = []
    for path in split["path"]:
        with Image.open(path) as image:
            width, height = resized_size(*image.size, size)
        longs.append(min(max(width, height), int(size * max_aspect)))
    canvas = max(longs)
    per_image = {"centre_square": 3 * size * size, "full_image": 3 * size * canvas}
    # Share of the canvas holding image pixels (the rest is padding); the centre square has none.
    used = {"centre_square": 1.0, "full_image": float(np.mean(longs)) / canvas}
    return [{"crop_source": source, "store_size": size, "canvas": f"{size}x{canvas if source == 'full_image' else size}",
             "mb_per_1000_images": nbytes * 1000 / 1e6, "image_pixels_share": used[source]}
            for source, nbytes in per_image.items()]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=800, help="distinct demo pictures generated")
    parser.add_argument("--size-range", type=int, nargs=2, default=[150, 400])
    parser.add_argument("--store-size", type=int, default=56)
    parser.add_argument("--crop", type=int, default=48)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--max-aspect", type=float, default=3.0)
    parser.add_argument("--epochs", type=int, default=10, help="training epochs in (c); 0 skips (c)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} CPU thread(s); store {args.store_size}, crop {args.crop}, "
          f"batch {args.batch}, max_aspect {args.max_aspect:g}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        demo = Path(tmp) / "demo"
        started = time.perf_counter()
        generate_demo_corpus(demo, n_images=args.images, seed=2020, leaders_per_class=5, legend_external_per_class=0,
                             size_range=tuple(args.size_range))  # fmt: skip
        split = protest_split(demo)
        split_csv = Path(tmp) / "protest.csv"
        split.to_csv(split_csv, index=False)
        counts = split.groupby(["split", "label"]).size().to_dict()
        print(f"demo corpus generated in {time.perf_counter() - started:.0f} s; protest task {counts}")
        built, store_rows = stores(split_csv, args.store_size, args.max_aspect)
        print("\n(a) stores:")
        print(pd.DataFrame(store_rows).round(2).to_markdown(index=False))
        print("\n(b) training speed, one epoch:")
        print(pd.DataFrame(training_speed(built, args.crop, args.batch, args.repeats)).round(2).to_markdown(index=False))
        if args.epochs:
            print(f"\n(c) validation accuracy, {args.epochs} epochs, seeds {args.seeds}:")
            runs = accuracy(built, args.crop, args.batch, args.epochs, args.seeds)
            summary = runs.groupby("crop_source").agg(
                best_mean=("best_val_accuracy", "mean"), best_sd=("best_val_accuracy", "std"),
                last_mean=("last_val_accuracy", "mean"), last_sd=("last_val_accuracy", "std"),
            )  # fmt: skip
            print(summary.round(3).to_markdown())
        else:
            print("\n(c) skipped (--epochs 0)")
        print("\n(d) memory at the book's store size 256 (same images):")
        print(pd.DataFrame(book_size_memory(split, 256, args.max_aspect)).round(3).to_markdown(index=False))


if __name__ == "__main__":
    main()
