"""Benchmarks: our neighbour search, and our dedupe against the authors' method.

Not a test. Two sections (``--sections``):

**search**: the near-duplicate search alone (``images_as_data.prepare.hamming.search_near_pairs``)
on random 64-bit codes with 1% planted near copies (distances 0 to ``d + 2``), for each
of ``--search-sizes``: multi-index hashing against the search it replaced (``d + 1``
chunks that must match exactly; kept in this file only) and comparing all pairs.
All pairs is timed at the smallest size and extrapolated as ``n^2``; the exact-chunk
search runs while its time, extrapolated by its candidate count, fits
``--baseline-budget`` seconds, and is estimated beyond that. Where they run, all three
must return the same pairs.

**pipeline**: the whole dedupe on images. It generates one demo corpus with planted
duplicates for the largest of ``--sizes``, runs the inventory once (shared by both
methods, not timed), and for each size takes a nested subset: the first ``n`` distinct pictures in a seeded random order, their
planted copies, and the planted defects. On the same kept images it then times

- **ours**: decode once per distinct file, perceptual hash + pixel hash, exact/pixel/near
  matching with multi-index search, clusters (``images_as_data.prepare.dedupe.dedupe``; URLs off,
  since the authors' method does not use them either);
- **authors**: the book's script as described (Section 6.1): sort files by size, compare
  each image's colour histogram with its next ``--window`` neighbours in that order, and
  call two images identical when the RMS difference of the histograms is 0.

It prints throughput, growth from the smallest to the largest size, each method's recall
on the planted copies by the match the generator expects (exact, pixel, near, and
reposts with a credit line that only a URL reveals for sure), false merges of distinct
originals, and the speed ratio. Example::

    .venv/bin/python bench/dedupe_bench.py --search-sizes 10000,100000,1000000 --sizes 1000,2000,5000,10000
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

from images_as_data.demo.corpus import generate_demo_corpus
from images_as_data.prepare.dedupe import DedupeSettings, dedupe
from images_as_data.prepare.hamming import search_near_pairs
from images_as_data.prepare.inventory import KEPT, InventoryRules, build_inventory

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
    clusters = dedupe(inventory, settings, workers=workers).clusters
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


# --- neighbour search alone -------------------------------------------------------------


def planted_codes(n_codes: int, max_distance: int, seed: int) -> tuple[np.ndarray, list[tuple[int, int, int]]]:
    """Random 64-bit codes (n x 64 booleans) with 1% of them planted near another, at distances 0..d+2."""
    rng = np.random.default_rng(seed)
    words = rng.integers(0, np.iinfo(np.uint64).max, size=n_codes, dtype=np.uint64, endpoint=True)
    bits = np.unpackbits(words.view(np.uint8).reshape(n_codes, 8), axis=1).astype(bool)
    planted = []
    for pair in range(n_codes // 200):
        source, copy, distance = 2 * pair, 2 * pair + 1, pair % (max_distance + 3)
        bits[copy] = bits[source]
        bits[copy, rng.choice(64, size=distance, replace=False)] ^= True
        planted.append((source, copy, distance))
    return bits, planted


def exact_chunk_pairs(bits: np.ndarray, max_distance: int) -> tuple[np.ndarray, int]:
    """The previous search, kept as the baseline: ``d + 1`` chunks that must match exactly.

    Returns the pairs and the candidate pairs verified (pairs sharing a bucket, once per chunk).
    """
    packed = np.packbits(bits, axis=1)
    edges = np.linspace(0, bits.shape[1], max_distance + 2).round().astype(int)
    found, candidates = [np.zeros((0, 3), dtype=np.int64)], 0
    for start, stop in zip(edges[:-1], edges[1:]):
        _, bucket_of = np.unique(np.packbits(bits[:, start:stop], axis=1), axis=0, return_inverse=True)
        bucket_of = bucket_of.ravel()
        order = np.argsort(bucket_of, kind="stable")
        for bucket in np.split(order, np.flatnonzero(np.diff(bucket_of[order])) + 1):
            if len(bucket) > 1:
                candidates += len(bucket) * (len(bucket) - 1) // 2
                found.append(close_pairs_among(np.sort(bucket), packed, max_distance))
    return np.unique(np.concatenate(found), axis=0), candidates


def exact_chunk_candidates(bits: np.ndarray, max_distance: int) -> int:
    """Candidate pairs the baseline would verify (bucket sizes only, no verification)."""
    edges = np.linspace(0, bits.shape[1], max_distance + 2).round().astype(int)
    total = 0
    for start, stop in zip(edges[:-1], edges[1:]):
        _, sizes = np.unique(np.packbits(bits[:, start:stop], axis=1), axis=0, return_counts=True)
        total += int((sizes.astype(np.int64) * (sizes - 1) // 2).sum())
    return total


def close_pairs_among(members: np.ndarray, packed: np.ndarray, max_distance: int) -> np.ndarray:
    """(i, j, distance), i < j, comparing every pair of ``members`` (sorted), in blocks of rows."""
    found = [np.zeros((0, 3), dtype=np.int64)]
    block = max(1, (1 << 22) // max(1, len(members) * packed.shape[1]))
    for start in range(0, len(members) - 1, block):
        rows, columns = members[start : start + block], members[start + 1 :]
        distance = np.bitwise_count(packed[rows][:, None, :] ^ packed[columns][None, :, :]).sum(axis=-1, dtype=np.int64)
        upper = np.arange(len(rows))[:, None] <= np.arange(len(columns))[None, :]
        r, c = np.nonzero(upper & (distance <= max_distance))
        found.append(np.column_stack([rows[r], columns[c], distance[r, c]]))
    return np.concatenate(found)


def all_close_pairs(words: np.ndarray, max_distance: int, block: int = 256) -> np.ndarray:
    """(i, j, distance), i < j, comparing every pair of 64-bit codes (one popcount per pair)."""
    found = [np.zeros((0, 3), dtype=np.int64)]
    for start in range(0, len(words) - 1, block):
        distance = np.bitwise_count(words[start : start + block, None] ^ words[None, start + 1 :]).astype(np.int64)
        r, c = np.nonzero(distance <= max_distance)
        upper = c >= r
        r, c = r[upper], c[upper]
        found.append(np.column_stack([start + r, start + 1 + c, distance[r, c]]))
    return np.concatenate(found)


def search_scaling(sizes: list[int], max_distance: int, seed: int, baseline_budget: float) -> pd.DataFrame:
    """Seconds and candidates per code: multi-index hashing, the exact-chunk baseline, all pairs.

    All pairs is timed at the smallest size and extrapolated as ``n^2``; the baseline
    runs while its time, extrapolated from the smallest size by its candidate count,
    fits ``baseline_budget`` seconds, and is reported as an estimate beyond that.
    """
    rows = []
    baseline_rate = all_pairs_seconds = None
    for n_codes in sizes:
        bits, planted = planted_codes(n_codes, max_distance, seed)
        expected = {(i, j) for i, j, distance in planted if distance <= max_distance}

        def row(method, seconds, measured, chunks, lookups, candidates, pairs=None) -> dict:
            found = None if pairs is None else {(i, j) for i, j, _ in pairs.tolist()}
            return {
                "n_codes": n_codes, "method": method, "measured": measured, "seconds": round(seconds, 2),
                "chunks": chunks, "lookups_per_code": round(lookups / n_codes, 1),
                "candidates_per_code": round(candidates / n_codes, 1),
                "pairs_found": "" if found is None else len(found),
                "planted_recall": "" if found is None else round(len(expected & found) / len(expected), 3),
            }

        (ours, stats), seconds = timed(search_near_pairs, bits, max_distance)
        rows.append(row("multi-index", seconds, True, stats.n_chunks, stats.lookups, stats.candidates, ours))
        baseline = f"{max_distance + 1} exact chunks"
        exact_lookups = (max_distance + 1) * n_codes
        candidates = exact_chunk_candidates(bits, max_distance)
        if baseline_rate is None or candidates * baseline_rate <= baseline_budget:
            (theirs, candidates), seconds = timed(exact_chunk_pairs, bits, max_distance)
            assert np.array_equal(theirs, ours), "the baseline and multi-index hashing disagree"
            baseline_rate = baseline_rate or seconds / candidates
            rows.append(row(baseline, seconds, True, max_distance + 1, exact_lookups, candidates, theirs))
        else:
            rows.append(row(baseline, candidates * baseline_rate, False, max_distance + 1, exact_lookups, candidates))
        all_pairs = n_codes * (n_codes - 1) // 2
        if all_pairs_seconds is None:
            brute, seconds = timed(all_close_pairs, np.packbits(bits, axis=1).view(np.uint64).ravel(), max_distance)
            assert np.array_equal(brute, ours), "all pairs and multi-index hashing disagree"
            all_pairs_seconds = seconds / all_pairs
            rows.append(row("all pairs", seconds, True, 0, 0, all_pairs, brute))
        else:
            rows.append(row("all pairs", all_pairs * all_pairs_seconds, False, 0, 0, all_pairs))
        print(f"search n_codes={n_codes} done", flush=True)
    return pd.DataFrame(rows)


def print_search_scaling(table: pd.DataFrame) -> None:
    print()
    print(table.to_markdown(index=False))
    print()
    sizes = sorted(table["n_codes"].unique())
    for method, rows in table.groupby("method", sort=False):
        rows = rows.set_index("n_codes")
        steps = [
            f"{small} -> {large} codes (x{large / small:g}): time x{rows.loc[large, 'seconds'] / rows.loc[small, 'seconds']:.1f}, "
            f"candidates per code x{rows.loc[large, 'candidates_per_code'] / rows.loc[small, 'candidates_per_code']:.1f}"
            for small, large in zip(sizes, sizes[1:])
        ]
        print(f"{method}: " + "; ".join(steps))


def pipeline_comparison(args: argparse.Namespace) -> None:
    """Our dedupe against the authors' method on nested subsets of one generated corpus."""
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sections", default="search,pipeline", help="which benchmarks: search, pipeline or both")
    parser.add_argument("--search-sizes", default="10000,100000,1000000", help="comma-separated numbers of codes")
    parser.add_argument("--max-distance", type=int, default=8, help="search radius in bits (64-bit codes)")
    parser.add_argument("--baseline-budget", type=float, default=120, help="seconds the exact-chunk search may take")
    parser.add_argument("--sizes", default="1000,2000,5000,10000", help="comma-separated numbers of distinct pictures")
    parser.add_argument("--size-range", default="150,320", help="min,max side of generated images (small = fast)")
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--window", type=int, default=10, help="neighbours compared by the authors' method")
    parser.add_argument("--workers", type=int, default=1, help="processes for our method (the authors' is serial)")
    parser.add_argument("--workdir", default=None, help="keep the corpus here (default: a temporary folder)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    sections = set(args.sections.split(","))
    if "search" in sections:
        sizes = sorted(int(size) for size in args.search_sizes.split(","))
        print_search_scaling(search_scaling(sizes, args.max_distance, args.seed, args.baseline_budget))
    if "pipeline" in sections:
        pipeline_comparison(args)


if __name__ == "__main__":
    main()
