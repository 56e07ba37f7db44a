"""What watching the image tree costs: `snakemake -n` on a project whose data.images holds
100,000 files in date folders, beside the same project with 10 files; and the listing alone
(walk + stat + CSV, what every Snakemake start does) at 100,000 and 1,000,000 files.

Files are empty (a listing reads sizes and times, never content). Run:

    .venv/bin/python bench/listing_bench.py --files 100000 --listing-sizes 100000,1000000
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
sys.path.insert(0, str(REPO))

from images_as_data.common.listing import list_tree, listing_csv  # noqa: E402

WORKFLOW = ["Snakefile", "rules", "scripts", "images_as_data", "config", "report", "envs", "profiles"]
CONFIG = {
    "demo": {"generate": False},
    "data": {"images": "data/raw", "annotations": "data/labels.csv", "metadata": None},
    "labels": {"emotions": []},
    "tasks": {"protest": {"type": "binary", "column": "protest"}},
    "finetune": {"study": {"task": None}},
    "autotag": {"enabled": False},
}


def make_tree(root: Path, n_files: int, per_folder: int = 1000) -> None:
    for index in range(n_files):
        folder = root / f"2020-{index // per_folder // 28 + 1:02d}-{index // per_folder % 28 + 1:02d}"
        if index % per_folder == 0:
            folder.mkdir(parents=True, exist_ok=True)
        (folder / f"img_{index:07d}.jpg").touch()


def make_project(root: Path, n_files: int) -> Path:
    root.mkdir(parents=True)
    for name in WORKFLOW:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, root / name)
    make_tree(root / "data" / "raw", n_files)
    (root / "data" / "labels.csv").write_text("image_id,annotator,protest\n")
    (root / "bench.yaml").write_text(yaml.safe_dump(CONFIG))
    return root


def dry_run(project: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [str(SNAKEMAKE), "-n", "--configfile", "bench.yaml", "--replace-workflow-config"],
        cwd=project, capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(done.stdout[-3000:] + done.stderr[-3000:])
    return seconds


def best_of(repeats: int, function) -> float:
    return min(function() for _ in range(repeats))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--listing-sizes", default="100000,1000000")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="listing_bench_") as tmp:
        rows = []
        for n_files in (10, args.files):
            project = make_project(Path(tmp) / f"project_{n_files}", n_files)
            first = dry_run(project)  # writes the snapshot
            unchanged = best_of(args.repeats, lambda: dry_run(project))
            (project / "data/raw/2020-01-01/img_new.jpg").touch()
            added = dry_run(project)  # rewrites the snapshot
            rows.append((n_files, first, unchanged, added))
            print(f"snakemake -n, {n_files} files: first {first:.2f} s, unchanged {unchanged:.2f} s, one file added {added:.2f} s", flush=True)
            shutil.rmtree(project)
        print("\n| files under data.images | first `-n` (writes the listing) | `-n`, nothing changed | `-n`, one file added |")
        print("|---:|---:|---:|---:|")
        for n_files, first, unchanged, added in rows:
            print(f"| {n_files:,} | {first:.2f} s | {unchanged:.2f} s | {added:.2f} s |")
        print("\n| files | list_tree (walk + stat) | listing CSV | total | listing size |")
        print("|---:|---:|---:|---:|---:|")
        for size in (int(s) for s in args.listing_sizes.split(",")):
            root = Path(tmp) / f"tree_{size}"
            make_tree(root, size)
            started = time.perf_counter()
            entries = list_tree(root)
            walked = time.perf_counter()
            data = listing_csv(entries)
            done = time.perf_counter()
            assert len(entries) == size
            print(f"| {size:,} | {walked - started:.2f} s | {done - walked:.2f} s | {done - started:.2f} s | {len(data) / 1e6:.1f} MB |", flush=True)
            shutil.rmtree(root)
    print(f"\nmachine: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
