"""Benchmark: reposts of real photographs, ours against imagededup and plain pHash, and a scaling run.

Not a test. Two sections (``--sections``):

**reposts**: the set of bench/reposts.py (every source photograph with one copy of each
repost kind of issue 12 and the hard negatives), deduplicated by

- **ours**: ``images_as_data.prepare.dedupe.dedupe`` with the default settings, and with
  ``verify: none`` (the same candidate views accepted unchecked) to show what the
  pixel check adds;
- **imagededup** (``PHash``, ``DHash``, ``WHash``, ``AHash``) at its default threshold
  (``max_distance_threshold=10``), duplicates as it reports them, clustered by
  connected components as a user would (its CNN method needs model weights that
  cannot be downloaded here);
- **plain pHash**: ``imagehash.phash`` within 8 bits, connected components: what this
  project did before issue 12.

Scores: recall per repost kind (the copy is in its original's cluster), and false
merges: pairs of images showing different pictures (different photographs, or a hard
negative and its source) in one cluster, and the number of clusters mixing pictures.

**scaling**: ``--n-scaling`` images made from the same photographs: each source gives
several pictures that are not duplicates of each other (the whole photograph, corner
crops overlapping under half, a 2x zoom), and each picture gets a heavy-tailed number
of reposts (random kinds of bench/reposts.py with random settings). Reports the time,
candidate pairs per image, the decisions taken, the largest cluster against the largest
repost family, and clusters mixing different source photographs or pictures.

Run (about 25 minutes here, most of it the scaling run)::

    .venv/bin/python bench/repost_bench.py --out /tmp/repost_bench --n-scaling 30000
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import platform
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

import imagehash
import numpy as np
import pandas as pd
from PIL import Image
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import reposts  # noqa: E402  (bench/ is not a package)

from images_as_data.prepare.dedupe import DedupeSettings, dedupe  # noqa: E402
from images_as_data.prepare.inventory import InventoryRules, build_inventory  # noqa: E402

RULES = InventoryRules(min_bytes=100)


# --- methods ---------------------------------------------------------------------------------


def components(ids: list[str], pairs: list[tuple[str, str]]) -> pd.Series:
    """Cluster label per image: connected components of the reported duplicate pairs."""
    index = {image_id: i for i, image_id in enumerate(ids)}
    left = [index[a] for a, b in pairs]
    right = [index[b] for a, b in pairs]
    graph = coo_matrix((np.ones(len(left)), (left, right)), shape=(len(ids), len(ids)))
    _, labels = connected_components(graph, directed=False)
    return pd.Series(labels, index=ids).astype(str)


def ours(raw: Path, workers: int, **settings) -> tuple[pd.Series, pd.DataFrame, float]:
    inventory = build_inventory(raw, RULES, workers=workers)
    started = time.perf_counter()
    result = dedupe(inventory, DedupeSettings(**settings), workers=workers)
    seconds = time.perf_counter() - started
    return result.clusters.set_index("image_id")["cluster_id"], result.pairs, seconds


def flat_copy(raw: Path, ids: list[str], folder: Path) -> dict[str, str]:
    """imagededup reads one folder: copy the files flat, name -> image_id."""
    folder.mkdir(parents=True, exist_ok=True)
    names = {}
    for image_id in ids:
        name = image_id.replace("/", "__")
        shutil.copyfile(raw / image_id, folder / name)
        names[name] = image_id
    return names


def imagededup_method(name: str, flat: Path, names: dict[str, str]) -> tuple[pd.Series, float]:
    from imagededup import methods

    method = getattr(methods, name)(verbose=False)
    started = time.perf_counter()
    found = method.find_duplicates(image_dir=flat, max_distance_threshold=10)
    seconds = time.perf_counter() - started
    pairs = [(names[a], names[b]) for a, duplicates in found.items() for b in duplicates]
    return components(sorted(names.values()), pairs), seconds


def plain_phash(raw: Path, ids: list[str], max_distance: int = 8) -> tuple[pd.Series, float]:
    started = time.perf_counter()
    hashes = []
    for image_id in ids:
        with Image.open(raw / image_id) as image:
            hashes.append(imagehash.phash(image.convert("RGB")).hash.flatten())
    bits = np.packbits(np.array(hashes), axis=1)
    distance = np.bitwise_count(bits[:, None, :] ^ bits[None, :, :]).sum(axis=2)
    i, j = np.nonzero(np.triu(distance <= max_distance, k=1))
    seconds = time.perf_counter() - started
    return components(ids, [(ids[a], ids[b]) for a, b in zip(i, j)]), seconds


# --- scores ----------------------------------------------------------------------------------


def score(clusters: pd.Series, planted: pd.DataFrame) -> dict[str, float]:
    """Recall per repost kind, and merges of different pictures."""
    rows = planted.set_index("image_id")
    original = {source: f"{source}/original.jpg" for source in planted["source"]}
    scores: dict[str, float] = {}
    for kind in reposts.REPOST_KINDS:
        copies = rows[rows["kind"] == kind]
        found = [clusters[image_id] == clusters[original[source]] for image_id, source in zip(copies.index, copies["source"])]
        scores[kind] = round(float(np.mean(found)), 3)
    pictures = rows["picture"].reindex(clusters.index)
    false_pairs = mixed = 0
    for _, members in pictures.groupby(clusters.to_numpy()):
        counts = members.value_counts().to_numpy()
        if len(counts) > 1:
            mixed += 1
            false_pairs += int((counts.sum() ** 2 - (counts**2).sum()) // 2)
    scores["false_merge_pairs"] = false_pairs
    scores["mixed_clusters"] = mixed
    copies = rows[rows["kind"].isin(reposts.REPOST_KINDS)]
    scores["all_kinds"] = round(
        float(np.mean([clusters[i] == clusters[original[s]] for i, s in zip(copies.index, copies["source"])])), 3
    )
    return scores


METHODS = ("ours", "ours_unverified", "imagededup", "phash")


def run_reposts(out: Path, workers: int, seed: int, methods: tuple[str, ...] = METHODS) -> pd.DataFrame:
    raw = out / "reposts"
    shutil.rmtree(raw, ignore_errors=True)
    planted = pd.DataFrame([dataclasses.asdict(p) for p in reposts.build_repost_set(raw, seed=seed)])
    planted.to_csv(out / "reposts_planted.csv", index=False)
    ids = sorted(planted["image_id"])
    results = {}
    if "ours" in methods:
        clusters, pairs, seconds = ours(raw, workers)
        pairs.to_csv(out / "reposts_pairs.csv", index=False)
        clusters.rename("cluster_id").to_csv(out / "reposts_clusters.csv")
        results["ours (default)"] = (clusters, seconds)
    if "ours_unverified" in methods:
        clusters, _, seconds = ours(raw, workers, verify="none")
        results["ours, verify: none"] = (clusters, seconds)
    if "imagededup" in methods:
        flat = out / "reposts_flat"
        shutil.rmtree(flat, ignore_errors=True)
        names = flat_copy(raw, ids, flat)
        for name in ("PHash", "DHash", "WHash", "AHash"):
            results[f"imagededup {name} (d <= 10)"] = imagededup_method(name, flat, names)
    if "phash" in methods:
        results["plain pHash (d <= 8), before issue 12"] = plain_phash(raw, ids)
    rows = []
    for method, (clusters, seconds) in results.items():
        rows.append({"method": method, "seconds": round(seconds, 1), **score(clusters, planted)})
    return pd.DataFrame(rows)


# --- scaling ---------------------------------------------------------------------------------

VIEW_BOXES = {  # pictures of one source that are not duplicates of each other
    "whole": (0.0, 0.0, 1.0, 1.0),
    "top_left": (0.0, 0.0, 0.6, 0.6),
    "bottom_right": (0.4, 0.4, 1.0, 1.0),
    "zoom2": (0.25, 0.25, 0.75, 0.75),
}


def family_sizes(n_families: int, total: int, rng: np.random.Generator) -> np.ndarray:
    """Heavy-tailed repost counts (Pareto) summing to ``total``, one per family, each at least 1."""
    raw = rng.pareto(1.2, size=n_families) + 1
    sizes = np.maximum(1, np.floor(raw / raw.sum() * total)).astype(int)
    sizes[np.argmax(sizes)] += total - sizes.sum()
    return sizes


def build_scaling_set(outdir: Path, total: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    photos = reposts.source_photos()
    photos["motorcycle_right"] = photos.pop("_stereo_right")
    families = [(name, view) for name in photos for view in VIEW_BOXES]
    sizes = family_sizes(len(families), total, rng)
    kinds = list(reposts.REPOSTS)
    rows = []
    for (name, view), size in zip(families, sizes):
        picture = reposts.crop_fraction(photos[name], *VIEW_BOXES[view])
        picture.thumbnail((400, 400), Image.Resampling.LANCZOS)
        folder = outdir / name / view
        folder.mkdir(parents=True, exist_ok=True)
        for k in range(size):
            kind = "original" if k == 0 else kinds[int(rng.integers(len(kinds)))]
            data, extension = reposts.jpeg(picture, 92) if kind == "original" else reposts.REPOSTS[kind](picture, rng)
            image_id = f"{name}/{view}/{k:05d}_{kind}.{extension}"
            (outdir / image_id).write_bytes(data)
            rows.append({"image_id": image_id, "source": name, "picture": f"{name}/{view}", "kind": kind})
    return pd.DataFrame(rows)


def run_scaling(out: Path, total: int, workers: int, seed: int) -> dict:
    raw = out / "scaling"
    shutil.rmtree(raw, ignore_errors=True)
    started = time.perf_counter()
    planted = build_scaling_set(raw, total, seed)
    built = time.perf_counter() - started
    inventory = build_inventory(raw, RULES, workers=workers)
    started = time.perf_counter()
    result = dedupe(inventory, DedupeSettings(), workers=workers)
    seconds = time.perf_counter() - started
    planted.to_csv(out / "scaling_planted.csv", index=False)
    result.clusters.to_csv(out / "scaling_clusters.csv", index=False)
    result.pairs.to_csv(out / "scaling_pairs.csv", index=False)
    clusters = result.clusters.set_index("image_id")["cluster_id"]
    truth = planted.set_index("image_id")
    sizes = clusters.value_counts()
    largest = sizes.index[0]
    family = truth["picture"].value_counts()
    per_cluster_sources = truth["source"].groupby(clusters.reindex(truth.index).to_numpy()).nunique()
    per_cluster_pictures = truth["picture"].groupby(clusters.reindex(truth.index).to_numpy()).nunique()
    recall = float(np.mean([clusters[i] == clusters[truth.index[(truth["picture"] == p) & (truth["kind"] == "original")][0]]
                            for i, p in zip(truth.index, truth["picture"])]))  # fmt: skip
    return {
        "images": len(planted),
        "pictures (families)": int(truth["picture"].nunique()),
        "set built in s": round(built, 1),
        "dedupe seconds": round(seconds, 1),
        "images per second": round(len(planted) / seconds, 1),
        "candidate pairs per image": round(result.stats["candidate_pairs"] / len(planted), 2),
        "pairs verified": result.stats["verified_pairs"],
        "pixel checks (full decodes)": result.stats["pixel_checks"],
        "clusters": int(len(sizes)),
        "largest cluster": int(sizes.iloc[0]),
        "largest cluster's pictures": dict(Counter(truth.loc[clusters.index[clusters == largest], "picture"]).most_common(3)),
        "largest family": f"{family.index[0]} ({int(family.iloc[0])} images)",
        "clusters mixing source photographs": int((per_cluster_sources > 1).sum()),
        "clusters mixing pictures of one source": int(((per_cluster_pictures > 1) & (per_cluster_sources == 1)).sum()),
        "images in their picture's original's cluster": round(recall, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="working folder (images are written there)")
    parser.add_argument("--sections", default="reposts,scaling")
    parser.add_argument("--n-scaling", type=int, default=30_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--methods", default=",".join(METHODS), help=f"reposts section: methods compared, of {','.join(METHODS)} (all by default)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    args.out.mkdir(parents=True, exist_ok=True)
    print(time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime()))
    print(f"{platform.platform()}, {platform.processor() or platform.machine()}, workers {args.workers}, seed {args.seed}")
    pd.set_option("display.width", 250)
    if "reposts" in args.sections:
        table = run_reposts(args.out, args.workers, args.seed, tuple(args.methods.split(",")))
        table.to_csv(args.out / "reposts_scores.csv", index=False)
        kinds = list(reposts.REPOST_KINDS)
        print("\nrecall per repost kind (share of copies in their original's cluster), 21 photographs:\n")
        print(table.set_index("method")[kinds[:8]].to_markdown())
        print()
        print(table.set_index("method")[kinds[8:] + ["all_kinds"]].to_markdown())
        print("\nfalse merges (pairs of different pictures in one cluster) and time:\n")
        print(table.set_index("method")[["false_merge_pairs", "mixed_clusters", "seconds"]].to_markdown())
    if "scaling" in args.sections:
        found = run_scaling(args.out, args.n_scaling, args.workers, args.seed)
        print("\nscaling run:\n")
        for key, value in found.items():
            print(f"- {key}: {value}")
    print(time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime()))


if __name__ == "__main__":
    main()
