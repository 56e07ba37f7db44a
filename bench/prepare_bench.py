"""Benchmark: image preparation at real photo sizes, each stage beside decode baselines.

Not a test. Builds ``--n`` distinct photographs of 1200x900 pixels (JPEG quality 85) from
the photos that scikit-image ships (``skimage.data``: astronaut, coffee, chelsea, rocket,
...): a random crop of 40-100 % of a source photo, resized to 1200x900, with a random
brightness/colour jitter, so every file is a different picture of real-photo statistics.
Then, on the same files and the same number of worker processes (``--workers``), it times

- **PIL full decode** (baseline): ``Image.open(path).convert("RGB")``;
- **PIL draft decode** (baseline): JPEG DCT-domain reduction to a shorter side >= 256, then
  ``convert("RGB")``;
- **authors' dedupe** (baseline, serial as in the book's script): RGB histogram of every
  image, files sorted by size, RMS against the next 10 neighbours;
- **inventory** (``prepare.inventory.build_inventory``), **dedupe**
  (``prepare.dedupe.dedupe``), **working images** (``prepare.resize.build_working_images``),
  **tensor store** (``finetune.data.decode_images`` at the store size, from the raw JPEGs).

For each it prints images/s (wall) and CPU ms per image (this process and its workers), and
ratios against the baselines. Run (about 2 minutes for 1,500 images on 2 cores)::

    .venv/bin/python bench/prepare_bench.py --n 1500 --workers 2
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
from PIL import Image, ImageEnhance

from images_as_data.common.parallel import parallel_map
from images_as_data.finetune.data import decode_images
from images_as_data.prepare.dedupe import DedupeSettings, dedupe
from images_as_data.prepare.inventory import InventoryRules, build_inventory
from images_as_data.prepare.resize import WorkingSettings, build_working_images

PHOTO_NAMES = ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry", "hubble_deep_field", "retina", "cat")
SIZE = (1200, 900)


def source_photos() -> list[Image.Image]:
    from skimage import data  # bench-only dependency (scikit-image)

    photos = []
    for name in PHOTO_NAMES:
        loader = getattr(data, name, None)
        if loader is None:
            continue
        array = loader()
        if array.ndim == 3 and array.shape[2] == 3:
            photos.append(Image.fromarray(array))
    return photos


def make_photo(index: int, photos: list[Image.Image], folder: Path, seed: int) -> Path:
    rng = np.random.default_rng([seed, index])
    photo = photos[index % len(photos)]
    scale = rng.uniform(0.4, 1.0)
    width, height = int(photo.width * scale), int(photo.height * scale)
    left = int(rng.integers(0, photo.width - width + 1))
    top = int(rng.integers(0, photo.height - height + 1))
    picture = photo.crop((left, top, left + width, top + height)).resize(SIZE, Image.Resampling.BICUBIC)
    picture = ImageEnhance.Brightness(picture).enhance(rng.uniform(0.7, 1.3))
    picture = ImageEnhance.Color(picture).enhance(rng.uniform(0.6, 1.4))
    path = folder / f"{index // 500:03d}" / f"photo_{index:06d}.jpg"
    path.parent.mkdir(parents=True, exist_ok=True)
    picture.save(path, format="JPEG", quality=85)
    return path


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
    print(f"{label:<34} {row['images_per_s']:8.0f} images/s {row['cpu_ms_per_image']:7.1f} CPU ms/image", flush=True)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--store-size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    photos = source_photos()
    print(f"{time.strftime('%c')} | {platform.processor() or platform.machine()} | nproc {os.cpu_count()} | "
          f"load {os.getloadavg()[0]:.2f} | {args.n} photos {SIZE[0]}x{SIZE[1]} JPEG q85 from {len(photos)} skimage photos | "
          f"workers {args.workers}")  # fmt: skip
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        raw = root / "raw"
        paths = [str(p) for p in parallel_map(_make, [(i, args.seed, str(raw)) for i in range(args.n)], args.workers, label="photos")]
        mean_kb = np.mean([os.path.getsize(p) for p in paths]) / 1000
        print(f"mean file size {mean_kb:.0f} kB")
        n = len(paths)
        rows = [
            timed("PIL full decode (baseline)", n, lambda: parallel_map(full_decode, paths, args.workers)),
            timed("PIL draft decode ~256 (baseline)", n, lambda: parallel_map(draft_decode, paths, args.workers)),
            timed("authors' dedupe, serial (baseline)", n, lambda: authors_dedupe(paths)),
        ]
        results: dict[str, pd.DataFrame] = {}

        def run_inventory() -> None:
            results["inventory"] = build_inventory(raw, InventoryRules(), workers=args.workers)

        def run_dedupe() -> None:
            results["clusters"] = dedupe(results["inventory"], DedupeSettings(by_url=False), workers=args.workers).clusters

        def run_working() -> None:
            build_working_images(results["inventory"], results["clusters"], root / "working", WorkingSettings(), threads=args.workers)

        rows.append(timed("inventory", n, run_inventory))
        rows.append(timed("dedupe", n, run_dedupe))
        rows.append(timed("working images", n, run_working))
        rows.append(timed("tensor store from raw JPEGs", n, lambda: decode_images(paths, args.store_size, args.workers)))
    table = pd.DataFrame(rows).set_index("stage")
    full, draft = table.loc["PIL full decode (baseline)", "images_per_s"], table.loc["PIL draft decode ~256 (baseline)", "images_per_s"]
    table["x_full_decode"] = table["images_per_s"] / full
    table["x_draft_decode"] = table["images_per_s"] / draft
    inventory_and_dedupe = 1 / (1 / table.loc["inventory", "images_per_s"] + 1 / table.loc["dedupe", "images_per_s"])
    print()
    print(table.round(2).to_string())
    authors = table.loc["authors' dedupe, serial (baseline)", "images_per_s"]
    print(f"\ninventory + dedupe together: {inventory_and_dedupe:.0f} images/s ({inventory_and_dedupe / authors:.2f}x the authors' serial dedupe)")


def _make(job: tuple[int, int, str]) -> Path:
    index, seed, folder = job
    return make_photo(index, _PHOTOS_CACHE.setdefault("photos", source_photos()), Path(folder), seed)


_PHOTOS_CACHE: dict[str, list[Image.Image]] = {}

if __name__ == "__main__":
    main()
