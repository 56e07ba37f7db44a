"""Memory (a rule's ``mem_mb``) of the jobs that hold decoded images, from the data's size.

Kept free of torch so that the workflow's start-up stays fast: rules/common.smk calls these
from its resource functions.
"""

from __future__ import annotations

import math
import os

FULL_IMAGE, CENTRE_SQUARE = "full_image", "centre_square"  # finetune.crop_source
# An interpreter with torch, torchvision and PIL loaded, with their buffers (bench/store_bench.py
# measured ~0.75 GB after building a small store).
PROCESS_MB = 1000
# What one decoding thread holds besides the store when not told (rules pass what the
# largest image allowed, inventory.max_pixels, takes): a 12-megapixel image and its copy.
DECODE_MB_PER_THREAD = 100


def store_bytes_per_image(size: int, crop_source: str, max_aspect: float) -> int:
    """The most bytes one image takes in a tensor store: 3 x S x W uint8, W = S for centre
    squares and at most max_aspect x S for whole images (the canvas is as wide as the widest
    image, which is not known before the images are read)."""
    width = size if crop_source == CENTRE_SQUARE else math.floor(size * max_aspect)
    return 3 * size * width


def table_rows(path: str | os.PathLike) -> int:
    """Data rows of a CSV (lines after the header); 0 when it does not exist yet (Snakemake
    evaluates resources again once a job's inputs exist)."""
    if not os.path.exists(path):
        return 0
    with open(path, "rb") as table:
        return max(0, sum(1 for _ in table) - 1)


def store_build_mem_mb(
    n_images: int, size: int, crop_source: str, max_aspect: float, threads: int = 1, per_thread_mb: int = DECODE_MB_PER_THREAD
) -> int:
    """Memory of a job decoding `n_images` into a store: the store, filled in place, plus the
    process and one image being decoded per thread."""
    store_mb = math.ceil(n_images * store_bytes_per_image(size, crop_source, max_aspect) / 1e6)
    return PROCESS_MB + per_thread_mb * max(1, threads) + store_mb


def store_reader_mem_mb(store_path: str | os.PathLike, base_mb: int) -> int:
    """Memory of a job reading a store (training, predictions): `base_mb` for the model and
    its batches plus the store file, whose pages the job maps (0 while it does not exist)."""
    size = os.path.getsize(store_path) if os.path.exists(store_path) else 0
    return int(base_mb) + math.ceil(size / 1e6)
