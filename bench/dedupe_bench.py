"""Benchmark: our dedupe (hashes + multi-index search) against the authors' method.

Not a test. It generates one demo corpus with planted duplicates for the largest size,
runs the inventory once (shared by both methods, not timed), and for each size takes
a nested subset: the first ``n`` distinct pictures in a seeded random order, their
planted copies, and the planted defects. On the same kept images it then times

- **ours**: decode once per distinct file, perceptual hash + pixel hash, exact/pixel/near
  matching with multi-index search, clusters (``images_as_data.dedupe.dedupe``; URLs off,
  since the authors' method does not use them either);
- **authors**: the book's script as described (Section 6.1): sort files by size, compare
  each image's colour histogram with its next ``--window`` neighbours in that order, and
  call two images identical when the RMS difference of the histograms is 0.

It prints throughput, growth from the smallest to the largest size, each method's recall
on the planted copies by the match the generator expects (exact, pixel, near, and
reposts with a credit line that only a URL reveals for sure), false merges of distinct
originals, and the speed ratio. Example::

    .venv/bin/python bench/dedupe_bench.py --sizes 1000,2000,5000,10000
"""

from __future__ import annotations

import argparse
import logging
import math
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from images_as_data.dedupe import DedupeSettings, dedupe
from images_as_data.demo_corpus import generate_demo_corpus
from images_as_data.inventory import KEPT, InventoryRules, build_inventory

# planted.csv expected_match -> the column reporting its recall
EXPECTED_MATCHES = {"exact": "exact", "pixel": "pixel", "near": "near", "url": "repost"}


def authors_method(kept: pd.DataFrame, window: int) -> pd.Series:
    """Cluster label per image: histogram RMS == 0 against the next ``window`` files by size."""
    ordered = kept.sort_values(["bytes", "image_id"]).reset_index(drop=True)
    histograms = []
    for path in ordered["path"]:
        with Image.open(path) as image:
            histograms.append(np.asarray(image.convert("RGB").histogram(), dtype=np.float64))
    left, right = [], []
    for i in range(len(ordered)):
        for j in range(i + 1, min(i + 1 + window, len(ordered))):
            rms = math.sqrt(float(np.mean((histograms[i] - histograms[j]) ** 2)))
            if rms == 0:
                left.append(i)
                right.append(j)
    graph = coo_matrix((np.ones(len(left)), (left, right)), shape=(len(ordered), len(ordered)))
    _, labels = connected_components(graph, directed=False)
    return pd.Series(labels, index=ordered["image_id"])


def our_method(inventory: pd.DataFrame, settings: DedupeSettings, workers: int) -> pd.Series:
    clusters, _ = dedupe(inventory, settings, workers=workers)
    return clusters.set_index("image_id")["cluster_id"]


def copies_of(planted: pd.DataFrame) -> pd.DataFrame:
    """Planted copies (rows with an original) and the match the generator expects."""
    return planted[planted["of_image_id"] != ""]


def nested_subset(inventory: pd.DataFrame, planted: pd.DataFrame, n_images: int, seed: int) -> pd.DataFrame:
    """Inventory rows of the first ``n_images`` distinct pictures (seeded order), their copies and the defects."""
    copies = copies_of(planted)
    defects = planted[(planted["of_image_id"] == "") & (planted["kind"] != "original")]
    distinct = sorted(set(inventory["image_id"]) - set(copies["image_id"]) - set(defects["image_id"]))
    order = np.random.default_rng(seed).permutation(len(distinct))
    chosen = {distinct[i] for i in order[:n_images]}
    chosen |= set(copies.loc[copies["of_image_id"].isin(chosen), "image_id"]) | set(defects["image_id"])
    return inventory[inventory["image_id"].isin(chosen)].reset_index(drop=True)


def score(clusters: pd.Series, planted: pd.DataFrame) -> dict[str, float]:
    """Recall per expected match type and merges of distinct originals."""
    copies = copies_of(planted)
    copies = copies[copies["image_id"].isin(clusters.index) & copies["of_image_id"].isin(clusters.index)]
    scores: dict[str, float] = {}
    for expected, name in EXPECTED_MATCHES.items():
        rows = copies[copies["expected_match"] == expected]
        found = (clusters.loc[rows["image_id"]].to_numpy() == clusters.loc[rows["of_image_id"]].to_numpy()).sum()
        scores[f"recall_{name}"] = round(found / len(rows), 3) if len(rows) else float("nan")
        scores[f"planted_{name}"] = len(rows)
    original = dict(zip(copies["image_id"], copies["of_image_id"]))
    truth = pd.Series([original.get(i, i) for i in clusters.index], index=clusters.index)
    scores["false_merges"] = int((truth.groupby(clusters.to_numpy()).nunique() - 1).sum())
    return scores


def timed(function, *args):
    started = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,2000,5000,10000", help="comma-separated numbers of distinct pictures")
    parser.add_argument("--size-range", default="150,320", help="min,max side of generated images (small = fast)")
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--window", type=int, default=10, help="neighbours compared by the authors' method")
    parser.add_argument("--workers", type=int, default=1, help="processes for our method (the authors' is serial)")
    parser.add_argument("--workdir", default=None, help="keep the corpus here (default: a temporary folder)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    sizes = sorted(int(size) for size in args.sizes.split(","))
    size_range = tuple(int(side) for side in args.size_range.split(","))

    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        corpus = Path(args.workdir or scratch) / "corpus"
        _, generation = timed(
            lambda: generate_demo_corpus(
                corpus, n_images=max(sizes), seed=args.seed, size_range=size_range,
                leaders_per_class=2, legend_external_per_class=0,
            )
        )
        planted = pd.read_csv(corpus / "planted.csv", dtype=str, keep_default_na=False)
        full_inventory, inventory_seconds = timed(build_inventory, corpus / "raw", InventoryRules(), args.workers)
        print(f"corpus of {max(sizes)} distinct pictures: generated in {generation:.0f} s, "
              f"{len(full_inventory)} files, inventory in {inventory_seconds:.1f} s", flush=True)
        settings = DedupeSettings(by_url=False)
        for n_images in sizes:
            inventory = nested_subset(full_inventory, planted, n_images, args.seed)
            kept = inventory[inventory["status"] == KEPT]
            ours, ours_seconds = timed(our_method, inventory, settings, args.workers)
            theirs, theirs_seconds = timed(authors_method, kept, args.window)
            for method, clusters, seconds in (("ours", ours, ours_seconds), ("authors", theirs, theirs_seconds)):
                rows.append(
                    {"n_images": n_images, "kept": len(kept), "method": method, "seconds": round(seconds, 2),
                     "images_per_s": round(len(kept) / seconds, 1), **score(clusters, planted)}
                )
            print(f"n_images={n_images} done", flush=True)
    table = pd.DataFrame(rows)
    print()
    print(table.to_markdown(index=False))
    print()
    smallest, largest = sizes[0], sizes[-1]
    if largest != smallest:
        for method in ("ours", "authors"):
            seconds = table[table["method"] == method].set_index("n_images")["seconds"]
            print(f"{method}: time grows x{seconds[largest] / seconds[smallest]:.2f} from {smallest} to {largest} "
                  f"pictures (x{largest / smallest:.0f} the images)")
    for n_images in sizes:
        seconds = table[table["n_images"] == n_images].set_index("method")["seconds"]
        print(f"n_images={n_images}: authors' time / our time = {seconds['authors'] / seconds['ours']:.2f}")


if __name__ == "__main__":
    main()
