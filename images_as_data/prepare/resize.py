"""Working images: one upright RGB PNG per cluster root, shorter side fixed.

Every later stage (labels, splits, training, figures) reads these instead of the raw
files, so decoding quirks are settled once, here:

- EXIF orientation is applied (``ImageOps.exif_transpose``), so a phone photo stored
  sideways becomes upright;
- only the first frame of an animation is kept;
- everything becomes RGB (``common.pixels.to_rgb``, which the stores of folder tasks and
  of images to label use on raw files too): CMYK is converted, transparency (RGBA, LA,
  palette or RGB with a transparent colour) is composited on white, not dropped to black,
  and 16-bit, 32-bit and float greyscale is scaled to 8 bits, not clipped;
- the shorter side is scaled to ``short_side``, keeping the aspect ratio, with PIL's
  bilinear filter: the authors' ``Resize(256)`` (torchvision's default on a PIL image),
  so the store's own ``Resize(256)`` of a working image changes nothing. Smaller
  images are scaled *up*: all working images then share one shorter side, as the
  book's ``Resize(256)`` transform assumes, and the inventory has already excluded
  images too small to carry signal (``inventory.min_side``);
- JPEGs much larger than needed are decoded at a reduced scale (PIL draft mode);
- PNGs are written without metadata (no EXIF, ICC profile or timestamps), so the same
  input gives byte-identical output. ICC profiles are dropped without colour
  conversion: pixel values are kept as stored.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
from PIL import ExifTags, Image, ImageOps

from ..common.atomic import atomic_dir, atomic_path, write_csv
from ..common.parallel import parallel_map
from ..common.pixels import to_rgb
from .inventory import read_inventory, shard_of

logger = logging.getLogger(__name__)

MANIFEST_COLUMNS = ["image_id", "cluster_id", "path", "width", "height", "orig_width", "orig_height"]


def scaled_size(width: int, height: int, short_side: int) -> tuple[int, int]:
    """(width, height) with the shorter side equal to ``short_side`` and the aspect ratio kept."""
    scale = short_side / min(width, height)
    if width <= height:
        return short_side, max(1, round(height * scale))
    return max(1, round(width * scale)), short_side


# EXIF orientations that turn the image by 90 degrees (width and height swap).
SWAPPING_ORIENTATIONS = {5, 6, 7, 8}


def upright(image: Image.Image, copy: bool = True) -> tuple[Image.Image, bool]:
    """Apply the EXIF orientation; also say whether width and height swapped.

    With ``copy`` the result is a new image; without, ``image`` itself is turned in place
    and returned (a copy of a decoded photo costs about a third of its reduced decode).
    An unreadable EXIF block is ignored: the image is kept as stored.
    """
    try:
        orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
        if copy:
            return ImageOps.exif_transpose(image), orientation in SWAPPING_ORIENTATIONS
        ImageOps.exif_transpose(image, in_place=True)
        return image, orientation in SWAPPING_ORIENTATIONS
    except Exception as error:  # noqa: BLE001 - broken EXIF must not lose the image
        logger.warning("ignoring unreadable EXIF orientation of %s: %s", getattr(image, "filename", "?"), error)
        return (image.copy() if copy else image), False


@contextmanager
def decoded_rgb(path: str | os.PathLike, short_side: int | None = None) -> Iterator[tuple[Image.Image, tuple[int, int]]]:
    """The first frame of ``path`` as upright RGB and its full upright size, usable inside the
    ``with`` block only (PIL invalidates a file's pixels when it closes the file): no copy.

    With ``short_side``, a JPEG may be decoded at a reduced scale (never below
    ``short_side`` on its shorter side); without it the full resolution is decoded.
    """
    with Image.open(path) as image:
        stored = image.size
        draft_to(image, short_side)
        image.seek(0)
        image.load()
        yield upright_rgb(image, stored, copy=False)


def open_rgb(path: str | os.PathLike, short_side: int | None = None) -> tuple[Image.Image, tuple[int, int]]:
    """Decode the first frame of ``path`` as upright RGB (a new image: see :func:`decoded_rgb`);
    also return its full upright size."""
    with decoded_rgb(path, short_side) as (rgb, full_size):
        return rgb.copy(), full_size


def draft_to(image: Image.Image, short_side: int | None) -> None:
    """Before loading: let a JPEG decode at a reduced scale, its shorter side still at least ``short_side``.

    libjpeg scales in the DCT domain by 1/2, 1/4 or 1/8 and still reads the whole file,
    so a truncated or corrupt JPEG fails as it would at full size.
    """
    if short_side is not None and image.format == "JPEG":
        image.draft(image.mode, scaled_size(*image.size, short_side))


def upright_rgb(image: Image.Image, stored: tuple[int, int], copy: bool = True) -> tuple[Image.Image, tuple[int, int]]:
    """A loaded frame as upright RGB without metadata, and the upright size of the file's
    ``stored`` (header) size, which a draft decode does not keep. Without ``copy`` an RGB
    frame is turned in place and returned itself (see :func:`upright`)."""
    turned, swapped = upright(image, copy)
    rgb = to_rgb(turned)
    rgb.info = {}
    return rgb, ((stored[1], stored[0]) if swapped else stored)


def to_short_side(rgb: Image.Image, short_side: int) -> Image.Image:
    """``rgb`` with its shorter side at ``short_side``, as torchvision's ``Resize(short_side)``
    resizes a PIL image: PIL's bilinear filter (antialiased when shrinking). It is also the
    cheapest of PIL's good filters: Lanczos took 2.5 ms of a working image's 7 (prepare_bench)."""
    size = scaled_size(rgb.width, rgb.height, short_side)
    return rgb if rgb.size == size else rgb.resize(size, Image.Resampling.BILINEAR)


def encode_png(rgb: Image.Image, compression: int) -> bytes:
    """An RGB image as PNG bytes, without metadata.

    OpenCV's libpng with every row filtered by the Average filter: at level 1 the files
    are as small as PIL's, which tries all five filters on every row, in half the time
    (bench/prepare_bench.py, encoding table). PNG is lossless at every level and with
    every filter: the pixels are the same, only size and time change.
    """
    bgr = cv2.cvtColor(np.asarray(rgb), cv2.COLOR_RGB2BGR)
    ok, encoded = cv2.imencode(
        ".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, compression, cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_AVG]
    )
    if not ok:
        raise RuntimeError(f"OpenCV could not encode a {rgb.width} x {rgb.height} PNG")
    return encoded.tobytes()


def make_working_image(source: str, destination: str, short_side: int, png_compression: int = 1) -> dict:
    """Write the working PNG of ``source`` to ``destination``; return its sizes.

    PNG is lossless at every compression level: the level trades file size for time only
    (bench/prepare_bench.py measures it), the pixels every later stage reads are the same.
    """
    with decoded_rgb(source, short_side) as (rgb, (orig_width, orig_height)):
        resized = to_short_side(rgb, short_side)
        encoded = encode_png(resized, png_compression)
    Path(destination).parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(destination) as tmp:
        Path(tmp).write_bytes(encoded)
    return {"width": resized.width, "height": resized.height, "orig_width": orig_width, "orig_height": orig_height}


def _make_one(job: tuple[str, str], short_side: int, png_compression: int) -> dict:
    return make_working_image(job[0], job[1], short_side, png_compression)


@dataclass(frozen=True)
class WorkingSettings:
    """Config section ``working``."""

    short_side: int = 256
    workers: int = 0
    png_compression: int = 1


def cluster_roots(inventory: pd.DataFrame, clusters: pd.DataFrame) -> pd.DataFrame:
    """image_id, cluster_id and raw path of every cluster root, sorted by image_id."""
    roots = clusters.loc[clusters["is_root"].astype(str).str.lower() == "true", ["image_id", "cluster_id"]]
    merged = roots.merge(inventory[["image_id", "path"]], on="image_id", how="left", validate="one_to_one")
    missing = merged.loc[merged["path"].isna(), "image_id"].tolist()
    if missing:
        raise ValueError(
            f"clusters.csv names roots missing from inventory.csv (e.g. {missing[:3]}); "
            "rerun the inventory and dedupe rules together"
        )
    return merged.sort_values("image_id").reset_index(drop=True)


def working_path(images_dir: str | os.PathLike, image_id: str) -> str:
    """Where the working PNG of ``image_id`` lives: ``<images_dir>/<image_id>.png``."""
    return f"{Path(images_dir).as_posix()}/{image_id}.png"


def build_working_images(
    inventory: pd.DataFrame,
    clusters: pd.DataFrame,
    images_dir: str | os.PathLike,
    settings: WorkingSettings,
    threads: int = 1,
    progress_every: int = 500,
    shard: tuple[int, int] = (0, 1),
) -> pd.DataFrame:
    """Write a working PNG for every cluster root (of ``shard``: index, count) into ``images_dir``
    (replaced atomically).

    Returns the manifest; its ``path`` column points at the final PNG paths.
    """
    roots = cluster_roots(inventory, clusters)
    index, n_shards = shard
    if n_shards > 1:
        roots = roots[shard_of(roots["image_id"].tolist(), n_shards) == index].reset_index(drop=True)
    workers = settings.workers or threads
    logger.info("making %d working images (short side %d, %d workers)", len(roots), settings.short_side, workers)
    with atomic_dir(images_dir) as staging:
        jobs = [(path, working_path(staging, image_id)) for image_id, path in zip(roots["image_id"], roots["path"])]
        sizes = parallel_map(
            partial(_make_one, short_side=settings.short_side, png_compression=settings.png_compression),
            jobs,
            workers,
            progress_every=progress_every,
            label="working images",
        )
    manifest = pd.DataFrame(sizes, columns=["width", "height", "orig_width", "orig_height"])
    manifest.insert(0, "image_id", roots["image_id"].to_numpy())
    manifest.insert(1, "cluster_id", roots["cluster_id"].to_numpy())
    manifest.insert(2, "path", [working_path(images_dir, image_id) for image_id in roots["image_id"]])
    return manifest[MANIFEST_COLUMNS]


def write_working_images(
    inventory_csv: str | os.PathLike,
    clusters_csv: str | os.PathLike,
    images_dir: str | os.PathLike,
    manifest_csv: str | os.PathLike,
    settings: WorkingSettings,
    threads: int = 1,
    shard: tuple[int, int] = (0, 1),
) -> pd.DataFrame:
    """Read the inventory and clusters, write the working images (of one shard) and the manifest."""
    inventory = read_inventory(inventory_csv)
    clusters = pd.read_csv(clusters_csv, dtype={"image_id": str, "cluster_id": str}, keep_default_na=False)
    manifest = build_working_images(inventory, clusters, images_dir, settings, threads=threads, shard=shard)
    write_csv(manifest, manifest_csv)
    return manifest


def gather_working_images(
    shard_dirs: list[str | os.PathLike], shard_manifests: list[str | os.PathLike], images_dir: str | os.PathLike, manifest_csv: str | os.PathLike
) -> pd.DataFrame:
    """The working images of all shards in ``images_dir`` (hard links: no copy of the pixels,
    copies where the file system has no links) and their joined manifest."""
    manifest = pd.concat([read_manifest(path) for path in shard_manifests], ignore_index=True).sort_values("image_id").reset_index(drop=True)
    with atomic_dir(images_dir) as staging:
        for shard_dir in shard_dirs:
            for source in sorted(Path(shard_dir).rglob("*.png")):
                target = staging / source.relative_to(shard_dir)
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(source, target)
                except OSError:
                    shutil.copy2(source, target)
    manifest["path"] = [working_path(images_dir, image_id) for image_id in manifest["image_id"]]
    missing = [path for path in manifest["path"] if not Path(path).is_file()]
    if missing:
        raise RuntimeError(f"working image shards lack {len(missing)} images of their manifests (e.g. {missing[:3]}); rerun working_images_shard")
    write_csv(manifest, manifest_csv)
    logger.info("gathered %d working images from %d shards", len(manifest), len(shard_dirs))
    return manifest


def read_manifest(path: str | os.PathLike) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"image_id": str, "cluster_id": str, "path": str}, keep_default_na=False)
