"""Inventory of the raw corpus: one row per file, kept or excluded with a reason.

Checks run in a fixed order and the first failing one names the reason:

1. the file name makes a usable image id (:func:`image_id_problem`),
2. at least ``min_bytes`` bytes (the book drops files under 5 kB),
3. PIL can identify it as an image,
4. at most ``max_pixels`` pixels, read from the header *before* any decoding,
5. the first frame decodes completely (truncated or corrupt files fail here),
6. the shorter side has at least ``min_side`` pixels.

Every reason starts with one of the ``REASON_*`` phrases below, so downstream code
(and the demo corpus' ground truth) can match on the phrase.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import warnings
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Iterator

import pandas as pd
from PIL import Image, ImageFile, UnidentifiedImageError

from ..common.atomic import write_csv
from ..common.hashing import file_sha256
from ..common.image_ids import image_id_problem, printable_id
from ..common.parallel import parallel_map

logger = logging.getLogger(__name__)

INVENTORY_COLUMNS = [
    "image_id",
    "path",
    "bytes",
    "sha256",
    "format",
    "width",
    "height",
    "mode",
    "n_frames",
    "status",
    "reason",
]

KEPT = "kept"
EXCLUDED = "excluded"

REASON_INVALID_ID = "invalid image id"
REASON_NOT_REGULAR = "not a regular file"
REASON_TOO_SMALL_FILE = "under "  # + "<min_bytes> bytes"
REASON_NOT_IMAGE = "not an image"
REASON_TOO_MANY_PIXELS = "over "  # + "<max_pixels> pixels"
REASON_UNREADABLE = "unreadable"
REASON_TOO_FEW_PIXELS = "too few pixels"

# Short names of the reasons, for logs and summaries, by leading phrase.
REASON_CATEGORIES = {
    REASON_INVALID_ID: "invalid image id",
    REASON_NOT_REGULAR: "not a regular file",
    REASON_TOO_SMALL_FILE: "under min_bytes",
    REASON_NOT_IMAGE: "not an image",
    REASON_TOO_MANY_PIXELS: "over max_pixels",
    REASON_UNREADABLE: "unreadable",
    REASON_TOO_FEW_PIXELS: "too few pixels",
}



@dataclass(frozen=True)
class InventoryRules:
    """Exclusion thresholds (config section ``inventory``)."""

    min_bytes: int = 5000
    max_pixels: int = 40_000_000
    min_side: int = 32


# Snakemake's bookkeeping file in a directory() output (the generated demo folder): not data.
SNAKEMAKE_MARKER = ".snakemake_timestamp"


def find_raw_files(images_root: str | os.PathLike) -> list[str]:
    """All file ids under ``images_root`` (recursive, hidden files included), sorted.

    Symbolic links to folders are not followed (they could loop); links to files are listed.
    Snakemake's marker file of a generated folder is not an image of the corpus and is skipped.
    """
    root = Path(images_root)
    if not root.is_dir():
        raise FileNotFoundError(
            f"data.images: the raw image folder '{root}' does not exist or is not a folder; "
            "set data.images in the config to the folder holding your images"
        )
    found = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames:
            if os.path.islink(os.path.join(dirpath, name)):
                logger.warning("not following the linked folder %s", os.path.join(dirpath, name))
        for name in filenames:
            if name != SNAKEMAKE_MARKER:
                found.append(Path(dirpath, name).relative_to(root).as_posix())
    return sorted(found)


@contextlib.contextmanager
def _pil_limits(max_pixels: int | None) -> Iterator[None]:
    """Set PIL's decompression-bomb limit and forbid loading truncated files, then restore."""
    previous_pixels = Image.MAX_IMAGE_PIXELS
    previous_truncated = ImageFile.LOAD_TRUNCATED_IMAGES
    Image.MAX_IMAGE_PIXELS = max_pixels
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with warnings.catch_warnings():
            # PIL only warns between its limit and twice its limit; make that an error too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    finally:
        Image.MAX_IMAGE_PIXELS = previous_pixels
        ImageFile.LOAD_TRUNCATED_IMAGES = previous_truncated



def _describe(error: BaseException) -> str:
    message = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def inspect_file(image_id: str, images_root: str, rules: InventoryRules) -> dict:
    """Inventory row of one raw file (never raises for a bad file; the reason says why)."""
    path = Path(images_root, image_id)
    row = dict.fromkeys(INVENTORY_COLUMNS)
    row.update(image_id=printable_id(image_id), path=printable_id(str(path)))
    reason = _check_file(path, image_id, rules, row) or _check_image(path, rules, row)
    row.update(status=EXCLUDED if reason else KEPT, reason=reason or "")
    return row


def _check_file(path: Path, image_id: str, rules: InventoryRules, row: dict) -> str | None:
    """Fill bytes and sha256; return why the file is excluded before opening it, if it is."""
    try:
        info = path.stat()
    except OSError as error:
        return f"{REASON_NOT_REGULAR} ({_describe(error)})"
    if not stat.S_ISREG(info.st_mode):
        return f"{REASON_NOT_REGULAR} (e.g. a broken link, a pipe or a socket)"
    row["bytes"] = info.st_size
    try:
        row["sha256"] = file_sha256(path)
    except OSError as error:
        return f"{REASON_UNREADABLE} (cannot read the file: {_describe(error)})"
    problem = image_id_problem(image_id)
    if problem:
        return f"{REASON_INVALID_ID} ({problem}); rename the file"
    if info.st_size < rules.min_bytes:
        return f"{REASON_TOO_SMALL_FILE}{rules.min_bytes} bytes"
    return None


def _check_image(path: Path, rules: InventoryRules, row: dict) -> str | None:
    """Fill format, size, mode and frames; return why the image is excluded, if it is."""
    # The header is read with PIL's guard off: our own pixel check below is the guard,
    # and it must see the size to record it. Decoding happens only after that check.
    with _pil_limits(None):
        try:
            image = Image.open(path)
        except UnidentifiedImageError:
            return f"{REASON_NOT_IMAGE} (PIL cannot identify it)"
        except Exception as error:  # noqa: BLE001 - any decoder failure excludes the file
            return f"{REASON_UNREADABLE} (header: {_describe(error)})"
    with image:
        row.update(format=image.format, width=image.width, height=image.height, mode=image.mode)
        if image.width * image.height > rules.max_pixels:
            return f"{REASON_TOO_MANY_PIXELS}{rules.max_pixels} pixels ({image.width} x {image.height})"
        # From here PIL's own guard is a backstop for frames larger than the header said.
        with _pil_limits(rules.max_pixels):
            try:
                image.load()
                # Counting frames of an animation seeks through (decodes) every frame.
                row["n_frames"] = getattr(image, "n_frames", 1)
            except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
                return f"{REASON_TOO_MANY_PIXELS}{rules.max_pixels} pixels ({_describe(error)})"
            except Exception as error:  # noqa: BLE001 - any decoder failure excludes the file
                return f"{REASON_UNREADABLE} (truncated or corrupt: {_describe(error)})"
    shorter = min(image.width, image.height)
    if shorter < rules.min_side:
        return f"{REASON_TOO_FEW_PIXELS} (shorter side {shorter} < {rules.min_side})"
    return None


def build_inventory(
    images_root: str | os.PathLike,
    rules: InventoryRules,
    workers: int = 1,
    progress_every: int = 500,
) -> pd.DataFrame:
    """Inventory every file under ``images_root``, one row each, sorted by image_id."""
    ids = find_raw_files(images_root)
    logger.info("found %d raw files under %s", len(ids), images_root)
    rows = parallel_map(
        partial(inspect_file, images_root=str(images_root), rules=rules),
        ids,
        workers,
        progress_every=progress_every,
        label="inventory",
    )
    inventory = pd.DataFrame(rows, columns=INVENTORY_COLUMNS)
    for column in ("bytes", "width", "height", "n_frames"):
        inventory[column] = inventory[column].astype("Int64")
    inventory = inventory.sort_values("image_id", kind="stable").reset_index(drop=True)
    log_counts(inventory)
    return inventory


def log_counts(inventory: pd.DataFrame) -> None:
    """Log raw = kept + excluded and the count per exclusion reason; fail if they do not add up."""
    kept = int((inventory["status"] == KEPT).sum())
    excluded = int((inventory["status"] == EXCLUDED).sum())
    if kept + excluded != len(inventory):
        raise RuntimeError(f"inventory counts do not reconcile: {len(inventory)} raw != {kept} kept + {excluded} excluded")
    logger.info("raw files %d = kept %d + excluded %d", len(inventory), kept, excluded)
    reasons = inventory.loc[inventory["status"] == EXCLUDED, "reason"].map(reason_category)
    for reason, count in reasons.value_counts().sort_index().items():
        logger.info("  excluded, %s: %d", reason, count)


def reason_category(reason: str) -> str:
    """Short name of an exclusion reason (e.g. 'unreadable', 'under min_bytes')."""
    for prefix, category in REASON_CATEGORIES.items():
        if reason.startswith(prefix):
            return category
    return reason


def write_inventory(
    images_root: str | os.PathLike,
    output_csv: str | os.PathLike,
    rules: InventoryRules,
    workers: int = 1,
    progress_every: int = 500,
) -> pd.DataFrame:
    """Build the inventory and write it atomically to ``output_csv``."""
    inventory = build_inventory(images_root, rules, workers=workers, progress_every=progress_every)
    write_csv(inventory, output_csv)
    return inventory


def read_inventory(path: str | os.PathLike) -> pd.DataFrame:
    """Read an inventory CSV written by :func:`write_inventory`, checking its columns."""
    inventory = pd.read_csv(path, dtype={"image_id": str, "path": str, "sha256": str, "reason": str}, keep_default_na=False, na_values=[""])
    missing = [column for column in INVENTORY_COLUMNS if column not in inventory.columns]
    if missing:
        raise ValueError(f"{path}: missing inventory columns {missing}; rerun the inventory rule")
    return inventory
