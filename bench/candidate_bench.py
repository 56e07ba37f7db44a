"""Benchmark: what dedupe's candidate pairs are made of at scale, and what a tighter filter would lose.

Not a test. Dedupe verifies every candidate pair (about 10-15 ms of CPU each), and random
pairs of close hashes grow with the square of the corpus (``scale_bench.py``: 3.3 per image
at 100,000 images). This reads the inventory shards a ``scale_bench.py`` run left beside
its corpus (``--corpus``; the analyses are not redone), finds the candidate view pairs
(``dedupe.candidate_view_pairs``), and tells them apart with the corpus's ground truth
(``scale_bench.py`` makes file ``i`` a repost of a picture drawn from its own random
stream): how many are pairs of one picture, by the search that found them and by their
pHash and dHash distances. Then, for a filter on both distances (pHash distance plus half
the dHash distance at most ``s``), the random pairs left beside the share of one picture's
pairs kept, and, on the repost set of ``repost_bench.py`` (``--repost-seeds``), the links
between a repost and its original it would lose, by repost kind. Run::

    .venv/bin/python bench/candidate_bench.py --corpus /tmp/scale_corpus --n 100000 --repost-seeds 0-9
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import reposts  # noqa: E402  (bench/ is not a package)

from images_as_data.prepare.dedupe import Analyser, DedupeSettings, Files, analyses_from_views, candidate_view_pairs, read_views  # noqa: E402
from images_as_data.prepare.inventory import VIEW_COLUMNS, InventoryRules, gather_inventory, inventory_and_cache, read_inventory  # noqa: E402

THRESHOLDS = (12, 14, 16, 17, 18, 20)


def scaled_picture(index: int, n: int, share: float, seed: int) -> int:
    """The picture file ``index`` of a ``scale_bench.py`` corpus shows (make_scaled_file's draw)."""
    n_distinct = max(1, round(n * (1 - share)))
    return index if index < n_distinct else int(np.random.default_rng([seed, index]).integers(n_distinct))


def file_pairs(files: Files, picture: np.ndarray) -> pd.DataFrame:
    """One row per candidate file pair: one picture or not, the searches that found it, its
    smallest distances and its smallest score (pHash distance + dHash distance / 2) over its view pairs."""
    views = candidate_view_pairs(files)
    views = views.assign(
        a=np.minimum(views["a"], views["b"]), b=np.maximum(views["a"], views["b"]),
        score=views["distance"] + views["check_distance"] / 2,
    )  # fmt: skip
    pairs = views.groupby(["a", "b"]).agg(
        searches=("search", lambda found: ",".join(sorted(set(found)))), distance=("distance", "min"),
        check_distance=("check_distance", "min"), score=("score", "min"),
    ).reset_index()  # fmt: skip
    return pairs.assign(one_picture=picture[pairs["a"]] == picture[pairs["b"]])


def scale_tables(corpus: Path, n: int, share: float, seed: int) -> None:
    shards = sorted((corpus).glob("inventory_*_shards/*-of-*.csv"))
    if not shards:
        raise SystemExit(f"no inventory shards under {corpus}: run bench/scale_bench.py --corpus {corpus} first")
    with tempfile.TemporaryDirectory() as scratch:
        gather_inventory(shards, Path(scratch) / "inventory.csv", Path(scratch) / "views.csv")
        inventory, views = read_inventory(Path(scratch) / "inventory.csv"), read_views(Path(scratch) / "views.csv")
    settings = DedupeSettings(by_url=False)
    kept = inventory[inventory["status"] == "kept"]
    distinct = kept.sort_values("image_id").drop_duplicates("sha256").reset_index(drop=True)
    files = Files(distinct, analyses_from_views(distinct, views, settings), settings)
    index = distinct["image_id"].str.extract(r"img_(\d+)")[0].astype(int)
    picture = np.array([scaled_picture(i, n, share, seed) for i in index])
    started = time.perf_counter()
    pairs = file_pairs(files, picture)
    print(f"{len(distinct)} distinct files of {corpus}; {len(pairs)} candidate pairs ({len(pairs) / len(distinct):.2f} per file) "
          f"in {time.perf_counter() - started:.0f} s; of one picture: {int(pairs['one_picture'].sum())}")  # fmt: skip
    print("\ncandidate pairs by the searches that found them:")
    print(pd.crosstab(pairs["searches"], pairs["one_picture"]).to_markdown())
    print("\nby the pHash distance of their closest views:")
    print(pd.crosstab(pairs["distance"], pairs["one_picture"]).T.to_markdown())
    print("\nby the dHash distance of their closest views (2-bit bins):")
    print(pd.crosstab(pairs["check_distance"] // 2 * 2, pairs["one_picture"]).T.to_markdown())
    rows = []
    for limit in THRESHOLDS:
        kept_pairs = pairs[pairs["score"] <= limit]
        rows.append({"score_at_most": limit, "random_pairs": int((~kept_pairs["one_picture"]).sum()),
                     "one_picture_pairs_kept": kept_pairs["one_picture"].sum() / max(1, pairs["one_picture"].sum())})  # fmt: skip
    print("\na filter on pHash distance + dHash distance / 2:")
    print(pd.DataFrame(rows).round(3).to_markdown(index=False))


def repost_links(seeds: list[int]) -> None:
    """The closest candidate view pair between each repost of repost_bench.py's set and its original, by kind."""
    settings = DedupeSettings(by_url=False)
    links = []
    for seed in seeds:
        with tempfile.TemporaryDirectory() as scratch:
            raw = Path(scratch) / "raw"
            planted = pd.DataFrame([p.__dict__ for p in reposts.build_repost_set(raw, seed)]).set_index("image_id")
            full = inventory_and_cache(raw, InventoryRules(), workers=2, analyser=Analyser(settings))
        kept = full[full["status"] == "kept"]
        distinct = kept.sort_values("image_id").drop_duplicates("sha256").reset_index(drop=True)
        files = Files(distinct, analyses_from_views(distinct, kept[["image_id", "sha256", *VIEW_COLUMNS]], settings), settings)
        pairs = file_pairs(files, planted.loc[distinct["image_id"], "picture"].to_numpy())
        kinds = planted.loc[distinct["image_id"], "kind"].to_numpy()
        kind_a, kind_b = kinds[pairs["a"]], kinds[pairs["b"]]
        with_original = pairs["one_picture"] & ((kind_a == "original") | (kind_b == "original"))
        links.append(pairs[with_original].assign(kind=np.where(kind_a == "original", kind_b, kind_a)[with_original], seed=seed))
    links = pd.concat(links, ignore_index=True)
    rows = {}
    for limit in THRESHOLDS:
        rows[f"score <= {limit}"] = (links["score"] > limit).groupby(links["kind"]).sum()
    table = pd.DataFrame(rows).assign(links=links.groupby("kind").size())
    print(f"\nrepost-original links (closest view pairs) of repost_bench.py's set, seeds {seeds}, lost by the filter:")
    print(table.to_markdown())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="/tmp/scale_corpus", help="a scale_bench.py --corpus folder")
    parser.add_argument("--n", type=int, default=100_000, help="its --n")
    parser.add_argument("--repost-share", type=float, default=0.1, help="its --repost-share")
    parser.add_argument("--seed", type=int, default=0, help="its --seed")
    parser.add_argument("--repost-seeds", default="", help="repost_bench.py seeds, e.g. 0-9 (none by default)")
    args = parser.parse_args()
    print(time.strftime("%c"))
    scale_tables(Path(args.corpus), args.n, args.repost_share, args.seed)
    if args.repost_seeds:
        first, _, last = args.repost_seeds.partition("-")
        repost_links(list(range(int(first), int(last or first) + 1)))


if __name__ == "__main__":
    main()
