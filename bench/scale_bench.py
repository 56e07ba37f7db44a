"""Benchmark: inventory and dedupe of a 100,000-image corpus on this machine, in shards, and a
projection to 1 million and 75 million images on K cluster nodes (issue 13).

Not a test. Builds ``--n`` JPEGs (``--size``, quality 85) like ``bench/prepare_bench.py``'s
``mixed`` corpus (distinct collages of crops of real photographs, and ``--repost-share``
reposts of them of issue 12's kinds), from a pool of 4,000 tiles so that a hundred thousand
files take minutes to make, keeping them in ``--corpus`` for reruns. Then runs what the
workflow runs, timing each part (wall and CPU, this process and its workers):

- the inventory in ``--shards`` shards, one after the other (on a cluster each is its own
  job at the same time: ``inventory.shards``), each reading, checking, hashing and
  analysing its files with one decode;
- the gather (``inventory``): the shards joined into inventory.csv and views.csv;
- dedupe from the analyses (the one job over all images): search, pixel checks and
  verification of candidate pairs, clusters;

and, for the projection, the inventory's CPU cost per image on ``--photo-sample`` photos of
1200x900. The projection: shards scale out (files / (nodes x cores) x CPU per image); the
dedupe job does not: its search grows as measured by ``bench/dedupe_bench.py``
(about n^1.16 from 100,000 to 1,000,000 codes), its verification with the number of
candidate pairs (linearly for the reposts, with the square of the corpus for random pairs
of close hashes: the projection gives both bounds), and its memory with the images.

    .venv/bin/python bench/scale_bench.py --n 100000 --corpus /tmp/scale_corpus
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import reposts  # noqa: E402  (bench/ is not a package)
from prepare_bench import cpu_seconds, make_file, photos, random_crop  # noqa: E402

from images_as_data.common.parallel import parallel_map  # noqa: E402
from images_as_data.prepare.dedupe import Analyser, DedupeSettings, dedupe, read_views  # noqa: E402
from images_as_data.prepare.inventory import InventoryRules, gather_inventory, inventory_and_cache, read_inventory, write_inventory_shard  # noqa: E402

# dedupe_bench.py's search section: time x14.6 for x10 codes from 100,000 to 1,000,000.
SEARCH_EXPONENT = np.log10(14.6)


def own_peak_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def tile_pool(size: tuple[int, int], n_tiles: int, seed: int) -> list[Image.Image]:
    """Crops of real photographs with a random tone, at a quarter of the picture size."""
    if ("pool", size, n_tiles, seed) not in _POOL:
        rng = np.random.default_rng([seed, 7])
        names = sorted(photos())
        tile = (size[0] // 2, size[1] // 2)
        _POOL[("pool", size, n_tiles, seed)] = [random_crop(photos()[names[rng.integers(len(names))]], rng, 0.3, tile) for _ in range(n_tiles)]
    return _POOL[("pool", size, n_tiles, seed)]


_POOL: dict = {}


def make_scaled_file(job: tuple) -> str:
    """File ``index``: a distinct picture, 2 x 2 tiles of the pool (each maybe mirrored) in a
    random tone, or (``share`` of the files) a repost of one of them; JPEG quality 85."""
    index, seed, folder, share, n, size, n_tiles = job
    rng = np.random.default_rng([seed, index])
    path = Path(folder) / f"{index // 1000:04d}" / f"img_{index:07d}"
    path.parent.mkdir(parents=True, exist_ok=True)
    n_distinct = max(1, round(n * (1 - share)))
    if index < n_distinct:
        picture(index, seed, size, n_tiles).save(path.with_suffix(".jpg"), format="JPEG", quality=85)
        return str(path.with_suffix(".jpg"))
    kind = reposts.REPOST_KINDS[index % len(reposts.REPOST_KINDS)]
    data, extension = reposts.REPOSTS[kind](picture(int(rng.integers(n_distinct)), seed, size, n_tiles), rng)
    path.with_suffix(f".{extension}").write_bytes(data)
    return str(path.with_suffix(f".{extension}"))


def picture(index: int, seed: int, size: tuple[int, int], n_tiles: int) -> Image.Image:
    rng = np.random.default_rng([seed, index, 1])
    pool = tile_pool(size, n_tiles, seed)
    image = Image.new("RGB", size)
    tile = (size[0] // 2, size[1] // 2)
    for position in ((0, 0), (tile[0], 0), (0, tile[1]), tile):
        chosen = pool[int(rng.integers(len(pool)))]
        image.paste(chosen.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if rng.random() < 0.5 else chosen, position)
    gain, lift = rng.uniform(0.75, 1.25), rng.uniform(-20, 20)
    return image.point(lambda value: max(0, min(255, round(value * gain + lift))))


def build_corpus(folder: Path, n: int, size: tuple[int, int], share: float, seed: int, workers: int, n_tiles: int = 4000) -> float:
    marker = folder / f".complete_{n}_{size[0]}x{size[1]}_{share:g}_{seed}_{n_tiles}"
    if marker.exists():
        return 0.0
    started = time.perf_counter()
    jobs = [(i, seed, str(folder), share, n, size, n_tiles) for i in range(n)]
    parallel_map(make_scaled_file, jobs, workers, progress_every=max(1, n // 10), label="corpus")
    marker.write_text("")
    return time.perf_counter() - started


class Clock:
    def __init__(self) -> None:
        self.rows: list[dict] = []

    def __call__(self, label: str, n: int, work):
        cpu, wall, resident = cpu_seconds(), time.perf_counter(), current_mb()
        result = work()
        wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
        # memory the part added to this process at its peak (its workers hold one image each)
        grew = max(0.0, own_peak_mb() - resident)
        row = {"part": label, "images": n, "wall_s": wall, "cpu_s": cpu, "cpu_ms_per_image": 1000 * cpu / max(n, 1), "added_peak_mb": grew}
        self.rows.append(row)
        per_image = f"{row['cpu_ms_per_image']:6.2f} CPU ms/image" if n else ""
        print(f"{label:<38} {wall:8.1f} s wall {cpu:8.1f} s CPU {per_image}", flush=True)
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--size", default="480x360")
    parser.add_argument("--repost-share", type=float, default=0.1)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--corpus", default="/tmp/scale_corpus")
    parser.add_argument("--photo-sample", type=int, default=300)
    parser.add_argument("--nodes", default="1,10,100")
    parser.add_argument("--cores-per-node", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--reuse-inventory", action="store_true", help="time dedupe on the shards of an earlier run")
    parser.add_argument("--scratch", default=None, help="folder for the photo sample (default: a temporary one)")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    print(f"{time.strftime('%c')} | {platform.processor() or platform.machine()} | nproc {os.cpu_count()} | load {os.getloadavg()[0]:.2f} | "
          f"{args.n} files {args.size}, repost share {args.repost_share:g}, {args.shards} shards, workers {args.workers}")  # fmt: skip
    corpus = Path(args.corpus) / "raw"
    built = build_corpus(corpus, args.n, size, args.repost_share, args.seed, args.workers)
    print(f"corpus {'built in %.0f s' % built if built else 'reused'}: {sum(1 for _ in corpus.rglob('img_*'))} files")
    settings = DedupeSettings(by_url=False)
    analyser = Analyser(settings)
    clock = Clock()
    # the inventory's outputs stay beside the corpus: --reuse-inventory times dedupe alone
    work = Path(args.corpus) / f"inventory_{args.shards}_shards"
    work.mkdir(exist_ok=True)
    shard_csvs = [work / f"{index + 1}-of-{args.shards}.csv" for index in range(args.shards)]
    reuse = args.reuse_inventory and all(path.exists() for path in shard_csvs)
    for index in range(0 if reuse else args.shards):
        shard_csv = shard_csvs[index]
        shard = (index, args.shards)
        part = clock(f"inventory shard {index + 1} of {args.shards}", 0, lambda: write_inventory_shard(
            corpus, shard_csv, InventoryRules(), workers=args.workers, progress_every=10_000, analyser=analyser, shard=shard))  # fmt: skip
        clock.rows[-1]["images"] = len(part)
        clock.rows[-1]["cpu_ms_per_image"] = 1000 * clock.rows[-1]["cpu_s"] / len(part)
    if reuse:
        print(f"inventory shards reused from {work}")
    clock("gather (inventory.csv, views.csv)", args.n, lambda: gather_inventory(shard_csvs, work / "inventory.csv", work / "views.csv"))
    inventory = read_inventory(work / "inventory.csv")
    views = read_views(work / "views.csv")
    result = clock("dedupe from the analyses", args.n, lambda: dedupe(inventory, settings, workers=args.workers, views=views))
    with tempfile.TemporaryDirectory(dir=args.scratch) as photos_dir:
        photo_folder = Path(photos_dir) / "raw"
        jobs = [(i, args.seed + 1, str(photo_folder), "mixed", 0.0, args.photo_sample) for i in range(args.photo_sample)]
        parallel_map(make_file, jobs, args.workers)
        clock(f"inventory + analysis, {args.photo_sample} photos 1200x900", args.photo_sample,
              lambda: inventory_and_cache(photo_folder, InventoryRules(), workers=args.workers, analyser=analyser))  # fmt: skip
    table = pd.DataFrame(clock.rows).set_index("part")
    print()
    print(table.round(2).to_markdown())
    stats = result.stats
    clusters = result.clusters
    print(f"\ndedupe: {stats['candidate_pairs']} candidate pairs ({stats['candidate_pairs'] / args.n:.2f} per image), "
          f"{stats['verified_pairs']} verified, {stats['pixel_checks']} pixel checks; {int(clusters['is_root'].sum())} clusters "
          f"of {len(clusters)} kept images; largest cluster {clusters['cluster_id'].value_counts().max()}")  # fmt: skip

    views_mb = (work / "views.csv").stat().st_size / 2**20
    added = table.loc["dedupe from the analyses", "added_peak_mb"]
    print(f"views.csv {views_mb:.0f} MB; dedupe's peak memory grew by {added:.0f} MB, {added / views_mb:.1f}x views.csv")
    shard_rows = table[table.index.str.startswith("inventory shard")]
    inventory_ms_small = 1000 * shard_rows["cpu_s"].sum() / shard_rows["images"].sum() if len(shard_rows) else float("nan")
    inventory_ms_photo = table.iloc[-1]["cpu_ms_per_image"]
    dedupe_row = table.loc["dedupe from the analyses"]
    verify_share = stats["verified_pairs"] / max(1, args.n)
    print(f"\nprojection (per-image CPU: inventory {inventory_ms_photo:.2f} ms at 1200x900, {inventory_ms_small:.2f} ms at {args.size}; "
          f"dedupe {1000 * dedupe_row['cpu_s'] / args.n:.2f} ms per image at {args.n} images with {verify_share:.2f} verifications "
          f"per image: reading the analyses {stats['analysis_seconds']:.1f} s, search {stats['search_seconds']:.1f} s, pixel checks "
          f"{stats['pixel_seconds']:.1f} s, verification {stats['verify_seconds']:.1f} s (wall); nodes of {args.cores_per_node} cores):")  # fmt: skip
    rows = []
    search_s = stats["search_seconds"]
    # verification and pixel checks: CPU spread over a node's cores; they grow with the
    # candidate pairs, linearly for true reposts and with the square of the corpus for
    # random pairs of close hashes: the two bounds of the projection
    checks_cpu_s = max(0.0, dedupe_row["cpu_s"] - search_s - stats["analysis_seconds"])
    for total in (1_000_000, 75_000_000):
        growth = total / args.n
        fixed_s = search_s * growth**SEARCH_EXPONENT + stats["analysis_seconds"] * growth
        low_s, high_s = fixed_s + checks_cpu_s * growth / args.cores_per_node, fixed_s + checks_cpu_s * growth**2 / args.cores_per_node
        for nodes in (int(v) for v in args.nodes.split(",")):
            inventory_s = total * inventory_ms_photo / 1000 / (nodes * args.cores_per_node)
            rows.append({
                "images": f"{total:,}", "nodes": nodes, "inventory_shards_h": inventory_s / 3600,
                "dedupe_job_h (linear)": low_s / 3600, "dedupe_job_h (quadratic)": high_s / 3600,
                "dedupe_memory_gb": dedupe_row["added_peak_mb"] * growth / 1024,
            })  # fmt: skip
    print(pd.DataFrame(rows).round(2).to_markdown(index=False))


if __name__ == "__main__":
    main()
