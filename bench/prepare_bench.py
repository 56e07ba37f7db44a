"""Benchmark: image preparation at real photo sizes, each stage beside decode baselines (issue 13).

Not a test. Builds ``--n`` JPEGs of 1200x900 pixels (quality 85) from the photographs that
installed packages ship (scikit-image's data module, scikit-learn's samples, matplotlib's
portrait: see ``bench/reposts.py``), in one of two corpora (``--corpus``):

- ``mixed`` (default): distinct pictures, each a 2 x 2 collage of random crops of random
  photographs with a random tone (so no two share half their content: different pictures
  by dedupe's rule), and ``--repost-share`` of the files reposts of them, of the kinds of
  issue 12's table (re-encoded, resized, mirrored, letterboxed, captioned, turned,
  screenshotted, cropped...), as a corpus collected from social media has;
- ``crops``: the corpus of issue 13's first measurement, random crops of 40-100 % of the
  side of 8 photographs, jittered: many of them share more than half their content with
  another, so by dedupe's rule most files have a duplicate (a stress test of the
  verification).

On the same files and the same number of worker processes (``--workers``) it times

- **PIL full decode** and **PIL draft decode ~256** (baselines), and the **authors'
  dedupe** (baseline, serial as in the book's script: RGB histogram of every image, files
  sorted by size, RMS against the next 10 neighbours);
- **inventory, before**: the inventory's checks with a full decode, as before issue 13, and
  **dedupe, before**: dedupe decoding each file again for its analysis;
- **inventory + analysis, one decode**: the inventory with dedupe's analyser (the workflow's
  ``inventory_shard`` jobs), and **dedupe from the analyses**: search, pixel checks of
  candidate pairs, clusters (the ``dedupe`` job);
- **working images** at PNG compression 1 (the default) and 6 (before), and the **tensor
  store** from the raw JPEGs (``finetune.data.decode_images`` at the store size);

and prints images/s (wall), CPU ms per image (this process and its workers) and ratios. On
the ``mixed`` corpus a second table times the inventory and dedupe together under several
dedupe configurations (issue 12's views and the verification switched off in turn, down to
one hash per image), with the share of the corpus's reposts each finds. Two more tables
compare working-image encodings (PNG levels, JPEG, WebP) by time, size and pixel change,
and resize filters. Run (about 3 minutes for 1,500 images on 2 cores)::

    .venv/bin/python bench/prepare_bench.py --n 1500 --workers 2
    .venv/bin/python bench/prepare_bench.py --n 400 --corpus crops
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import resource
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
from PIL import Image, ImageEnhance

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import reposts  # noqa: E402  (bench/ is not a package)

from images_as_data.common.parallel import parallel_map  # noqa: E402
from images_as_data.finetune.data import decode_images  # noqa: E402
from images_as_data.prepare.dedupe import Analyser, DedupeSettings, dedupe  # noqa: E402
from images_as_data.prepare.inventory import INVENTORY_COLUMNS, VIEW_COLUMNS, InventoryRules, inventory_and_cache  # noqa: E402
from images_as_data.prepare.resize import WorkingSettings, build_working_images, encode_png, open_rgb, scaled_size, to_short_side  # noqa: E402

SIZE = (1200, 900)
CROP_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry", "hubble_deep_field", "retina", "coins")
_PHOTOS: dict[str, dict[str, Image.Image]] = {}


def photos() -> dict[str, Image.Image]:
    if "all" not in _PHOTOS:
        _PHOTOS["all"] = {name: photo for name, photo in reposts.source_photos().items() if not name.startswith("_")}
    return _PHOTOS["all"]


def random_crop(photo: Image.Image, rng: np.random.Generator, low: float, size: tuple[int, int]) -> Image.Image:
    """A crop of ``low``-100 % of the photograph's side at the target's aspect ratio, resized to ``size``."""
    aspect = size[0] / size[1]
    width = min(photo.width, round(photo.height * aspect)) * rng.uniform(low, 1.0)
    height = width / aspect
    left, top = rng.uniform(0, max(0.0, photo.width - width)), rng.uniform(0, max(0.0, photo.height - height))
    picture = photo.crop((round(left), round(top), round(left + width), round(top + height))).resize(size, Image.Resampling.BICUBIC)
    picture = ImageEnhance.Brightness(picture).enhance(rng.uniform(0.7, 1.3))
    return ImageEnhance.Color(picture).enhance(rng.uniform(0.6, 1.4))


def collage(rng: np.random.Generator, size: tuple[int, int] = SIZE) -> Image.Image:
    names = sorted(photos())
    picture = Image.new("RGB", size)
    tile = (size[0] // 2, size[1] // 2)
    for position in ((0, 0), (tile[0], 0), (0, tile[1]), tile):
        picture.paste(random_crop(photos()[names[rng.integers(len(names))]], rng, 0.3, tile), position)
    return picture


def make_file(job: tuple) -> tuple[str, str, str]:
    """(path, picture, kind) of file ``index`` of the corpus (``job``: index, seed, folder,
    corpus, repost share, number of files[, size])."""
    index, seed, folder, corpus, repost_share, n, *rest = job
    size = tuple(rest[0]) if rest else SIZE
    rng = np.random.default_rng([seed, index])
    path = Path(folder) / f"{index // 500:03d}" / f"img_{index:06d}"
    path.parent.mkdir(parents=True, exist_ok=True)
    if corpus == "crops":
        picture = random_crop(photos()[CROP_PHOTOS[index % len(CROP_PHOTOS)]], rng, 0.4, SIZE)
        picture.save(path.with_suffix(".jpg"), format="JPEG", quality=85)
        return str(path.with_suffix(".jpg")), f"crop{index}", "crop"
    n_distinct = max(1, round(n * (1 - repost_share)))
    if index < n_distinct:
        collage(rng, size).save(path.with_suffix(".jpg"), format="JPEG", quality=85)
        return str(path.with_suffix(".jpg")), f"picture{index}", "original"
    original = int(rng.integers(n_distinct))
    kind = reposts.REPOST_KINDS[index % len(reposts.REPOST_KINDS)]
    data, extension = reposts.REPOSTS[kind](collage(np.random.default_rng([seed, original]), size), rng)
    path.with_suffix(f".{extension}").write_bytes(data)
    return str(path.with_suffix(f".{extension}")), f"picture{original}", kind


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(label: str, n: int, work: Callable[[], object]) -> dict:
    cpu, wall = cpu_seconds(), time.perf_counter()
    work()
    wall = time.perf_counter() - wall
    cpu = cpu_seconds() - cpu
    row = {"stage": label, "images_per_s": n / wall, "cpu_ms_per_image": 1000 * cpu / n, "seconds": wall}
    print(f"{label:<44} {row['images_per_s']:8.0f} images/s {row['cpu_ms_per_image']:7.1f} CPU ms/image", flush=True)
    return row


def full_decode(path: str) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.convert("RGB").size


def draft_decode(path: str) -> tuple[int, int]:
    with Image.open(path) as image:
        image.draft("RGB", (image.width * 256 // min(image.size), image.height * 256 // min(image.size)))
        return image.convert("RGB").size


def histogram(path: str) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB").histogram(), dtype=np.float64)


def authors_dedupe(paths: list[str], window: int = 10) -> int:
    """The book's script: sort by file size, histogram RMS == 0 against the next neighbours."""
    ordered = sorted(paths, key=os.path.getsize)
    histograms = [histogram(path) for path in ordered]
    matches = 0
    for i, first in enumerate(histograms):
        for second in histograms[i + 1 : i + 1 + window]:
            matches += int(np.sqrt(np.mean((first - second) ** 2)) == 0)
    return matches


# The workflow's encoder (OpenCV, Average filter) at a level, beside PIL's encoder and other formats.
ENCODINGS = {
    "PNG level 1, OpenCV (default)": ("workflow", {"compression": 1}),
    "PNG level 6, OpenCV": ("workflow", {"compression": 6}),
    "PNG level 0, PIL": ("PNG", {"compress_level": 0}),
    "PNG level 1, PIL (before)": ("PNG", {"compress_level": 1}),
    "PNG level 6, PIL (before that)": ("PNG", {"compress_level": 6}),
    "PNG level 9, PIL": ("PNG", {"compress_level": 9}),
    "JPEG quality 95": ("JPEG", {"quality": 95}),
    "WebP lossless": ("WEBP", {"lossless": True, "method": 0}),
    "WebP quality 90": ("WEBP", {"quality": 90, "method": 2}),
}


def encoding_table(paths: list[str], short_side: int) -> pd.DataFrame:
    """Time (encode only), size and pixel change of each working-image encoding, one process."""
    images = []
    for path in paths:
        rgb, _ = open_rgb(path, short_side)
        images.append(to_short_side(rgb, short_side))
    rows = []
    for label, (fmt, options) in ENCODINGS.items():
        started, size, errors = time.process_time(), 0, []
        encoded = []
        for image in images:
            if fmt == "workflow":
                encoded.append(encode_png(image, **options))
                continue
            buffer = io.BytesIO()
            image.save(buffer, format=fmt, **options)
            encoded.append(buffer.getvalue())
        seconds = time.process_time() - started
        for image, data in zip(images, encoded):
            size += len(data)
            with Image.open(io.BytesIO(data)) as decoded:
                errors.append(np.abs(np.asarray(decoded.convert("RGB"), dtype=np.int16) - np.asarray(image, dtype=np.int16)))
        rows.append({
            "encoding": label, "encode_ms_per_image": 1000 * seconds / len(images), "kb_per_image": size / 1000 / len(images),
            "mean_abs_change": float(np.mean([e.mean() for e in errors])), "max_abs_change": int(max(e.max() for e in errors)),
        })  # fmt: skip
    return pd.DataFrame(rows).set_index("encoding")


RESIZE_FILTERS = {
    "bilinear (default: the authors' Resize)": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "Lanczos (before)": Image.Resampling.LANCZOS,
}


def filter_table(paths: list[str], short_side: int) -> pd.DataFrame:
    """Time of the working images' resize (from the drafted decode) by filter, and its change
    to the training inputs against the default (mean and largest grey-level difference)."""
    decoded = [open_rgb(path, short_side)[0] for path in paths]
    rows, reference = [], None
    for label, resample in RESIZE_FILTERS.items():
        started = time.process_time()
        resized = [np.asarray(rgb.resize(scaled_size(*rgb.size, short_side), resample), dtype=np.int16) for rgb in decoded]
        seconds = time.process_time() - started
        reference = resized if reference is None else reference
        changes = [np.abs(a - b) for a, b in zip(resized, reference)]
        rows.append({
            "filter": label, "resize_ms_per_image": 1000 * seconds / len(paths),
            "mean_abs_change": float(np.mean([c.mean() for c in changes])), "max_abs_change": int(max(c.max() for c in changes)),
        })  # fmt: skip
    return pd.DataFrame(rows).set_index("filter")


# Dedupe configurations timed side by side (config section ``dedupe``): what each of
# issue 12's views and the verification cost, down to one hash per image.
CONFIGURATIONS = {
    "default (issue 12's views, verified)": {},
    "crops: false": {"crops": False},
    "crops, rotations: false": {"crops": False, "rotations": False},
    "verify: none": {"verify": "none"},
    "one hash per image, verify: none": {"crops": False, "rotations": False, "mirror": False, "borders": False, "verify": "none"},
}


def against_pictures(clusters: pd.DataFrame, picture_of: dict[str, str]) -> tuple[pd.DataFrame, int]:
    """The clusters with each file's picture and whether its cluster's root shows that picture
    (``with_root``), and the number of clusters mixing pictures."""
    clusters = clusters.assign(picture=clusters["image_id"].map(picture_of))
    root_picture = clusters.set_index("image_id")["picture"]
    clusters = clusters.assign(with_root=clusters["picture"] == clusters["cluster_id"].map(root_picture))
    return clusters, int((clusters.groupby("cluster_id")["picture"].nunique() > 1).sum())


def configuration_table(raw: Path, made: list[tuple[str, str, str]], workers: int) -> pd.DataFrame:
    """Inventory + analysis and dedupe from the analyses under each of :data:`CONFIGURATIONS`:
    images/s of the two together, and what each finds of the corpus's reposts."""
    picture_of = {Path(path).relative_to(raw).as_posix(): picture for path, picture, _ in made}
    reposts = {Path(path).relative_to(raw).as_posix() for path, _, kind in made if kind not in ("original", "crop")}
    rows = []
    for label, changes in CONFIGURATIONS.items():
        settings = DedupeSettings(by_url=False, **changes)
        cpu, started = cpu_seconds(), time.perf_counter()
        full = inventory_and_cache(raw, InventoryRules(), workers=workers, analyser=Analyser(settings))
        views = full.loc[full["status"] == "kept", ["image_id", "sha256", *VIEW_COLUMNS]]
        result = dedupe(full[INVENTORY_COLUMNS], settings, workers=workers, views=views)
        wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu
        clusters, mixed = against_pictures(result.clusters, picture_of)
        found = clusters["image_id"].isin(reposts) & clusters["with_root"]
        rows.append({
            "configuration": label, "images_per_s": len(full) / wall, "cpu_ms_per_image": 1000 * cpu / len(full),
            "verified_pairs": result.stats["verified_pairs"], "reposts_found": found.sum() / max(1, len(reposts)),
            "clusters_mixing_pictures": mixed,
        })  # fmt: skip
        print(f"{label:<44} {rows[-1]['images_per_s']:8.0f} images/s {rows[-1]['cpu_ms_per_image']:7.1f} CPU ms/image", flush=True)
    return pd.DataFrame(rows).set_index("configuration")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--corpus", choices=("mixed", "crops"), default="mixed")
    parser.add_argument("--repost-share", type=float, default=0.1)
    parser.add_argument("--store-size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"{time.strftime('%c')} | {platform.processor() or platform.machine()} | nproc {os.cpu_count()} | "
          f"load {os.getloadavg()[0]:.2f} | {args.n} files {SIZE[0]}x{SIZE[1]}, corpus {args.corpus}"
          f"{f', repost share {args.repost_share:g}' if args.corpus == 'mixed' else ''} | workers {args.workers}")  # fmt: skip
    settings = DedupeSettings(by_url=False)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        raw = root / "raw"
        jobs = [(i, args.seed, str(raw), args.corpus, args.repost_share, args.n) for i in range(args.n)]
        made = parallel_map(make_file, jobs, args.workers, label="files")
        paths = [path for path, _, _ in made]
        print(f"mean file size {np.mean([os.path.getsize(p) for p in paths]) / 1000:.0f} kB; "
              f"{sum(kind not in ('original', 'crop') for _, _, kind in made)} reposts")  # fmt: skip
        n = len(paths)
        rows = [
            timed("PIL full decode (baseline)", n, lambda: parallel_map(full_decode, paths, args.workers)),
            timed("PIL draft decode ~256 (baseline)", n, lambda: parallel_map(draft_decode, paths, args.workers)),
            timed("authors' dedupe, serial (baseline)", n, lambda: authors_dedupe(paths)),
        ]
        results: dict[str, object] = {}

        def run_inventory_before() -> None:
            results["inventory_before"] = inventory_and_cache(raw, InventoryRules(), workers=args.workers)[INVENTORY_COLUMNS]

        def run_dedupe_before() -> None:
            results["clusters_before"] = dedupe(results["inventory_before"], settings, workers=args.workers).clusters

        def run_inventory() -> None:
            full = inventory_and_cache(raw, InventoryRules(), workers=args.workers, analyser=Analyser(settings))
            results["inventory"] = full[INVENTORY_COLUMNS]
            results["views"] = full.loc[full["status"] == "kept", ["image_id", "sha256", *VIEW_COLUMNS]]

        def run_dedupe() -> None:
            result = dedupe(results["inventory"], settings, workers=args.workers, views=results["views"])
            results["clusters"], results["stats"] = result.clusters, result.stats

        def run_working(level: int) -> None:
            working = WorkingSettings(png_compression=level)
            build_working_images(results["inventory"], results["clusters"], root / f"working{level}", working, threads=args.workers)

        rows.append(timed("inventory, before (full decode)", n, run_inventory_before))
        rows.append(timed("dedupe, before (decodes again)", n, run_dedupe_before))
        rows.append(timed("inventory + analysis, one decode", n, run_inventory))
        rows.append(timed("dedupe from the analyses", n, run_dedupe))
        rows.append(timed("working images, PNG level 1 (default)", n, partial(run_working, 1)))
        rows.append(timed("working images, PNG level 6", n, partial(run_working, 6)))
        rows.append(timed("tensor store from raw JPEGs", n, lambda: decode_images(paths, args.store_size, args.workers)))
        configurations = configuration_table(raw, made, args.workers) if args.corpus == "mixed" else None
        same = results["clusters"].equals(results["clusters_before"])
        clusters = results["clusters"]
        encodings = encoding_table(paths[: min(200, n)], WorkingSettings().short_side)
        filters = filter_table(paths[: min(200, n)], WorkingSettings().short_side)
    table = pd.DataFrame(rows).set_index("stage")
    for baseline, column in (("PIL full decode (baseline)", "x_full_decode"), ("PIL draft decode ~256 (baseline)", "x_draft_decode")):
        table[column] = table["images_per_s"] / table.loc[baseline, "images_per_s"]
    print()
    print(table.round(2).to_markdown())

    def together(*stages: str) -> float:
        return 1 / sum(1 / table.loc[stage, "images_per_s"] for stage in stages)

    before = together("inventory, before (full decode)", "dedupe, before (decodes again)")
    now = together("inventory + analysis, one decode", "dedupe from the analyses")
    authors = table.loc["authors' dedupe, serial (baseline)", "images_per_s"]
    print(f"\ninventory + dedupe together: {now:.0f} images/s (before: {before:.0f}; {now / authors:.2f}x the authors' serial dedupe)")
    stats = results["stats"]
    print(f"dedupe work: {stats['candidate_pairs']} candidate pairs, {stats['verified_pairs']} verified, "
          f"{stats['pixel_checks']} pixel checks; {int(clusters['is_root'].sum())} clusters of {len(clusters)} kept images; "
          f"same clusters as before: {same}")  # fmt: skip
    if args.corpus == "mixed":
        picture_of = {Path(path).relative_to(raw).as_posix(): picture for path, picture, _ in made}
        clusters, mixed = against_pictures(clusters, picture_of)
        right_root = clusters["with_root"].mean()
        split = int((clusters.groupby("picture")["cluster_id"].nunique() > 1).sum())
        print(f"files in a cluster whose root shows their picture: {right_root:.3f}; pictures split over several clusters: {split}; "
              f"clusters mixing pictures: {mixed}")  # fmt: skip
    if configurations is not None:
        print("\ninventory + dedupe together by dedupe configuration (the corpus's reposts found: in their original's cluster):")
        print(configurations.round(3).to_markdown())
    print(f"\nworking-image encodings ({min(200, n)} images at short side {WorkingSettings().short_side}, encode only, one process):")
    print(encodings.round(2).to_markdown())
    print("\nworking-image resize filters (the same images, resize only, one process; changes against the default):")
    print(filters.round(2).to_markdown())


if __name__ == "__main__":
    main()
