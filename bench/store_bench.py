"""Benchmark: building a tensor store, peak memory against the tensor's size, and speed.

Not a test. Writes ``--n`` distinct pictures of 1200x900 pixels (JPEG quality 85: collages
of the photographs installed packages ship, bench/prepare_bench.py's ``mixed`` corpus
without reposts) and a split CSV, then in a
fresh subprocess per run builds and saves the task's store (``finetune.data.build_store`` +
``TensorStore.save``, as rule finetune_store does) and reports:

- the build's peak resident memory (``getrusage`` maxrss) above the process before the build
  (interpreter, torch, a warm-up build of a few images), against the tensor's size;
- images/s and CPU ms per image of the build, beside PIL's draft decode of the same files
  (JPEG DCT reduction to a shorter side >= 256, as prepare_bench's baseline) on the same
  number of threads;
- the time to load the store back (memory-mapped);
- what the workflow builds corpus tasks' stores from: the working images (PNG, shorter side
  256, ``prepare.resize.make_working_image``), decoded into a store at 256 (no resize),
  beside PIL's decode of the same PNGs.

Run (about a minute for 2,000 images on 2 cores)::

    PYTHONPATH=. .venv/bin/python bench/store_bench.py --n 2000 --threads 2
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from images_as_data.common.parallel import parallel_map
from images_as_data.finetune.data import decode_images
from images_as_data.prepare.resize import make_working_image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from prepare_bench import SIZE, draft_decode, make_file  # noqa: E402

MEASURE = """
import json, resource, sys, time
import torch
from images_as_data.finetune.data import TensorStore, build_store
torch.set_num_threads(1)
warm, split, out, size, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
build_store(warm, size, threads=threads)
usage = lambda: resource.getrusage(resource.RUSAGE_SELF)
cpu = lambda u: u.ru_utime + u.ru_stime
before, start = usage(), time.perf_counter()
store = build_store(split, size, threads=threads)
store.save(out)
after, wall = usage(), time.perf_counter() - start
loading = time.perf_counter()
loaded = TensorStore.load(out)
load_s = time.perf_counter() - loading
print(json.dumps({"tensor_mb": store.images.numel() / 1e6, "canvas": list(store.images.shape),
                  "peak_growth_mb": (after.ru_maxrss - before.ru_maxrss) / 1024, "process_mb": before.ru_maxrss / 1024,
                  "seconds": wall, "cpu_s": cpu(after) - cpu(before), "load_s": load_s, "file_mb": __import__("os").path.getsize(out) / 1e6}))
"""


def pil_png_decode(path: str) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as image:
        return image.convert("RGB").size


def _working(job: tuple[str, str]) -> str:
    make_working_image(job[0], job[1], 256)
    return job[1]


def write_split(folder: Path, paths: list[str]) -> Path:
    table = pd.DataFrame({"image_id": [Path(p).name for p in paths], "path": paths,
                          "label": ["ab"[i % 2] for i in range(len(paths))],
                          "split": [("train", "val")[i % 4 // 2] for i in range(len(paths))]})  # fmt: skip
    table.to_csv(folder / "split.csv", index=False)
    return folder / "split.csv"


def _make(job: tuple[int, str, int]) -> str:
    index, folder, n = job
    return make_file((index, 0, folder, "mixed", 0.0, n))[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--store-size", type=int, default=256)
    parser.add_argument("--photos", help="folder to keep the generated photos in and reuse (default: a temporary one)")
    args = parser.parse_args()
    print(f"{time.strftime('%c')} | nproc {os.cpu_count()} | load {os.getloadavg()[0]:.2f} | {args.n} photos "
          f"{SIZE[0]}x{SIZE[1]} JPEG q85 | store {args.store_size} | threads {args.threads}")  # fmt: skip
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        raw = Path(args.photos) if args.photos else root / "raw"
        paths = sorted(str(p) for p in raw.glob("*/*.jpg"))[: args.n]
        if len(paths) < args.n:
            paths = parallel_map(_make, [(i, str(raw), args.n) for i in range(args.n)], args.threads)
        (root / "warm").mkdir()
        split = write_split(root, paths)
        warm = write_split(root / "warm", paths[:8])
        start = time.perf_counter()
        parallel_map(draft_decode, paths, args.threads)
        draft = args.n / (time.perf_counter() - start)
        result = subprocess.run(
            [sys.executable, "-c", MEASURE, str(warm), str(split), str(root / "store.pt"), str(args.store_size), str(args.threads)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        row = json.loads(result.stdout.strip().splitlines()[-1])
        pngs = parallel_map(_working, [(p, str(root / "working" / f"{i:06d}.png")) for i, p in enumerate(paths)], args.threads)
        start = time.perf_counter()
        parallel_map(pil_png_decode, pngs, args.threads)
        png_baseline = len(pngs) / (time.perf_counter() - start)
        start = time.perf_counter()
        decode_images(pngs, args.store_size, args.threads)
        from_working = len(pngs) / (time.perf_counter() - start)
    speed = args.n / row["seconds"]
    print(f"canvas {'x'.join(map(str, row['canvas']))}: tensor {row['tensor_mb']:.0f} MB, file {row['file_mb']:.0f} MB")
    print(f"peak memory of the build above the warm process ({row['process_mb']:.0f} MB): {row['peak_growth_mb']:.0f} MB "
          f"= {row['peak_growth_mb'] / row['tensor_mb']:.2f}x the tensor")  # fmt: skip
    print(f"build and save: {speed:.0f} images/s, {1000 * row['cpu_s'] / args.n:.2f} CPU ms/image; "
          f"PIL draft decode ~256: {draft:.0f} images/s -> {speed / draft:.2f}x")  # fmt: skip
    print(f"load (memory-mapped): {1000 * row['load_s']:.0f} ms")
    print(f"store from working PNGs (decode_images): {from_working:.0f} images/s; PIL decode of the PNGs: "
          f"{png_baseline:.0f} images/s -> {from_working / png_baseline:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
