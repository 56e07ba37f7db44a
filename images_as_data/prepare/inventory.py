"""Inventory of the raw corpus: one row per file, kept or excluded with a reason.

Files are found by :func:`images_as_data.common.listing.list_tree`: links that point outside
``data.images`` are excluded ("link outside data.images") and never read; links inside are
used; linked folders inside are walked. Image ids are in Unicode NFC. Checks run in a fixed
order and the first failing one names the reason:

0. the entry is a regular file or a link to one inside the folder,
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
import json
import logging
import os
import stat
import warnings
import zlib
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Iterator, Protocol

import numpy as np
import pandas as pd
import PIL
from PIL import Image, ImageFile, UnidentifiedImageError

from ..common.atomic import write_csv
from ..common.hashing import file_sha256
from ..common.image_ids import image_id_problem, normalise_id, printable_id
from ..common.listing import BROKEN, LOOP, OUTSIDE, USABLE, Entry, list_tree
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

# dedupe's analysis of each kept image (prepare.dedupe.Analyser), written to views.csv
VIEW_COLUMNS = ["upright_width", "upright_height", "box_left", "box_top", "box_right", "box_bottom", "fill", "colour", "codes", "check_codes"]

KEPT = "kept"
EXCLUDED = "excluded"

REASON_INVALID_ID = "invalid image id"
REASON_LINK_OUTSIDE = "link outside data.images"
REASON_NOT_REGULAR = "not a regular file"
REASON_TOO_SMALL_FILE = "under "  # + "<min_bytes> bytes"
REASON_NOT_IMAGE = "not an image"
REASON_TOO_MANY_PIXELS = "over "  # + "<max_pixels> pixels"
REASON_UNREADABLE = "unreadable"
REASON_TOO_FEW_PIXELS = "too few pixels"

# Short names of the reasons, for logs and summaries, by leading phrase.
REASON_CATEGORIES = {
    REASON_INVALID_ID: "invalid image id",
    REASON_LINK_OUTSIDE: "link outside data.images",
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


def find_raw_files(images_root: str | os.PathLike) -> list[str]:
    """All file ids under ``images_root`` as on disk (recursive, hidden files included), sorted.

    The listing rule of :mod:`images_as_data.common.listing` applies (links outside the
    folder are listed, not followed). Snakemake's marker file of a generated folder is skipped.
    """
    return [entry.path for entry in list_raw_entries(images_root)]


def list_raw_entries(images_root: str | os.PathLike) -> list[Entry]:
    root = Path(images_root)
    if not root.is_dir():
        raise FileNotFoundError(
            f"data.images: the raw image folder '{root}' does not exist or is not a folder; "
            "set data.images in the config to the folder holding your images"
        )
    return list_tree(root, outside="exclude")


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


def inspect_file(
    raw_id: str,
    images_root: str,
    rules: InventoryRules,
    image_id: str | None = None,
    known_sha256: str | None = None,
    analyser: Analyser | None = None,
) -> dict:
    """Inventory row of one raw file (never raises for a bad file; the reason says why).

    ``raw_id`` is the path below ``images_root`` as on disk, ``image_id`` the id it is known
    by (its NFC form unless given). With ``known_sha256`` (the file is unchanged since it was
    last hashed) the file is not hashed again. With an ``analyser`` (dedupe's), a kept
    image's row also holds the analysis of :data:`VIEW_COLUMNS`, made from the same decode.
    """
    path = Path(images_root, raw_id)
    row = dict.fromkeys(INVENTORY_COLUMNS)
    row.update(image_id=image_id or normalise_id(printable_id(raw_id)), path=printable_id(str(path)))
    reason = _check_file(path, raw_id, rules, row, known_sha256) or _check_image(path, rules, row, analyser)
    row.update(status=EXCLUDED if reason else KEPT, reason=reason or "")
    if reason:
        row.update(dict.fromkeys(VIEW_COLUMNS))
    return row


class Analyser(Protocol):
    """What the inventory needs of dedupe's analysis (:class:`.dedupe.Analyser`)."""

    key: str

    def draft(self, image: Image.Image) -> None: ...

    def analyse(self, image: Image.Image, stored_size: tuple[int, int]) -> dict: ...


def _check_file(path: Path, image_id: str, rules: InventoryRules, row: dict, known_sha256: str | None = None) -> str | None:
    """Fill bytes and sha256; return why the file is excluded before opening it, if it is."""
    try:
        info = path.stat()
    except OSError as error:
        return f"{REASON_NOT_REGULAR} ({_describe(error)})"
    if not stat.S_ISREG(info.st_mode):
        return f"{REASON_NOT_REGULAR} (e.g. a broken link, a pipe or a socket)"
    row["bytes"] = info.st_size
    try:
        row["sha256"] = known_sha256 or file_sha256(path)
    except OSError as error:
        return f"{REASON_UNREADABLE} (cannot read the file: {_describe(error)})"
    problem = image_id_problem(image_id)
    if problem:
        return f"{REASON_INVALID_ID} ({problem}); rename the file"
    if info.st_size < rules.min_bytes:
        size = "an empty file" if info.st_size == 0 else f"{info.st_size} bytes"
        return f"{REASON_TOO_SMALL_FILE}{rules.min_bytes} bytes ({size})"
    return None


def _check_image(path: Path, rules: InventoryRules, row: dict, analyser: Analyser | None = None) -> str | None:
    """Fill format, size, mode and frames (and the analysis); return why the image is excluded, if it is.

    The decode is the check that the whole file decodes. With an analyser a JPEG is
    decoded at the reduced scale the analysis needs: libjpeg still reads every byte, so
    a truncated or corrupt file fails the same way (tests/test_inventory.py).
    """
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
        stored = image.size
        if analyser is not None:
            analyser.draft(image)
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
        shorter = min(stored)
        if shorter < rules.min_side:
            return f"{REASON_TOO_FEW_PIXELS} (shorter side {shorter} < {rules.min_side})"
        if analyser is not None:
            try:
                image.seek(0)
                row.update(analyser.analyse(image, stored))
            except Exception as error:  # noqa: BLE001 - the image is listed with the reason, not lost
                return f"{REASON_UNREADABLE} (decodes, but dedupe cannot analyse it: {_describe(error)})"
    return None


def _unreadable_row(entry: Entry, image_id: str, problem: str | None, images_root: str) -> dict:
    """The row of a listed entry that is not read: a file whose name is a problem, a link
    outside, a loop, a pipe."""
    row = dict.fromkeys(INVENTORY_COLUMNS)
    row.update(image_id=image_id, path=printable_id(str(Path(images_root, entry.path))), status=EXCLUDED)
    if problem:
        row.update(bytes=entry.bytes, reason=f"{REASON_INVALID_ID} ({problem}); rename the file")
        return row
    target = printable_id(entry.target)
    row["reason"] = {
        OUTSIDE: f"{REASON_LINK_OUTSIDE} (points to {target}; not read)",
        LOOP: f"{REASON_NOT_REGULAR} (a linked folder looping back to {target}; not walked)",
        BROKEN: f"{REASON_NOT_REGULAR} (a link to nothing: {target})",
    }.get(entry.kind, f"{REASON_NOT_REGULAR} (e.g. a pipe, a socket or a device)")
    return row


def assign_ids(entries: list[Entry]) -> dict[str, tuple[str, str | None]]:
    """Raw path -> (image id, problem). Ids are NFC; when several names become the same id
    (an NFC and an NFD spelling side by side), the NFC one keeps it and each other keeps its
    own spelling, with a problem that says to rename it."""
    by_id: dict[str, list[str]] = {}
    for entry in entries:
        by_id.setdefault(normalise_id(printable_id(entry.path)), []).append(entry.path)
    assigned: dict[str, tuple[str, str | None]] = {}
    for image_id, raws in by_id.items():
        keeper = next((raw for raw in raws if printable_id(raw) == image_id), raws[0])
        assigned[keeper] = (image_id, None)
        for raw in raws:
            if raw != keeper:
                problem = f"same name as '{image_id}' once both are in Unicode NFC"
                assigned[raw] = (printable_id(raw), problem)
    return assigned


# What makes a cached inventory row valid for a file whose size and time did not change: the
# rules, the decoder and the analysis. Hashes stay valid whatever the rules.
def rules_key(rules: InventoryRules, analyser: Analyser | None = None) -> str:
    return json.dumps({**asdict(rules), "pillow": PIL.__version__, "analysis": analyser.key if analyser else None}, sort_keys=True)


CACHE_COLUMNS = [*INVENTORY_COLUMNS, "mtime_ns", "kind", "rules_key", *VIEW_COLUMNS]


def _inspect_job(job: tuple[str, str, str | None], images_root: str, rules: InventoryRules, analyser: Analyser | None) -> dict:
    raw, image_id, known_sha256 = job
    return inspect_file(raw, images_root, rules, image_id=image_id, known_sha256=known_sha256, analyser=analyser)


def build_inventory(images_root: str | os.PathLike, rules: InventoryRules, **options) -> pd.DataFrame:
    """Inventory every file under ``images_root``, one row each, sorted by image_id
    (``options`` as :func:`inventory_and_cache`)."""
    return inventory_and_cache(images_root, rules, **options)[INVENTORY_COLUMNS]


def shard_of(names: list[str], n_shards: int) -> np.ndarray:
    """The shard (0 to n_shards - 1) of each name (a raw path, an image id): a hash of the
    name, so a file keeps its shard when others come and go."""
    return np.array([zlib.crc32(name.encode("utf-8", "surrogateescape")) % n_shards for name in names], dtype=np.int64)


def parse_shard(scatteritem: str) -> tuple[int, int]:
    """(index from 0, count) of Snakemake's scatter item ``"<i>-of-<n>"`` (i from 1)."""
    index, _, count = scatteritem.partition("-of-")
    return int(index) - 1, int(count)


def inventory_and_cache(
    images_root: str | os.PathLike,
    rules: InventoryRules,
    workers: int = 1,
    progress_every: int = 500,
    cache: pd.DataFrame | None = None,
    analyser: Analyser | None = None,
    shard: tuple[int, int] = (0, 1),
) -> pd.DataFrame:
    """The inventory with the columns of its cache (CACHE_COLUMNS).

    ``cache`` (a previous result, see :func:`read_cache`) saves work on files whose path, size
    and modification time are unchanged: their row is reused when the rules are the same,
    else only their sha256. ``shard`` (index, count) keeps the files of one shard (see
    :func:`shard_of`); ids are still assigned over the whole folder, so that two spellings
    of one name in different shards are told apart as in one.
    """
    images_root = str(images_root)
    entries = list_raw_entries(images_root)
    logger.info("found %d raw files under %s", len(entries), images_root)
    ids = assign_ids(entries)
    index, n_shards = shard
    if n_shards > 1:
        entries = [entry for entry, owner in zip(entries, shard_of([entry.path for entry in entries], n_shards)) if owner == index]
        logger.info("shard %d of %d: %d files", index + 1, n_shards, len(entries))
    key = rules_key(rules, analyser)
    listing = pd.DataFrame(
        {
            "path": [printable_id(str(Path(images_root, entry.path))) for entry in entries],
            "bytes": pd.array([entry.bytes for entry in entries], dtype="Int64"),
            "mtime_ns": pd.array([entry.mtime_ns for entry in entries], dtype="Int64"),
            "kind": pd.Series([entry.kind for entry in entries], dtype=object),
            "image_id": pd.Series([ids[entry.path][0] for entry in entries], dtype=object),
        }
    )
    problems = [ids[entry.path][1] for entry in entries]
    to_read = listing["kind"].isin(USABLE) & pd.Series([problem is None for problem in problems], dtype=bool)
    reuse = pd.Series(False, index=listing.index)
    known = pd.Series(None, index=listing.index, dtype=object)
    if cache is not None and len(cache):
        # The previous row of each path, aligned with this listing (vectorised: a million rows).
        old = cache.drop_duplicates("path").set_index("path").reindex(listing["path"]).reset_index(drop=True)
        unchanged = to_read & (old["bytes"] == listing["bytes"]).fillna(False).astype(bool)
        unchanged &= (old["mtime_ns"] == listing["mtime_ns"]).fillna(False).astype(bool) & (old["kind"] == listing["kind"])
        reuse = unchanged & (old["rules_key"] == key) & (old["image_id"] == listing["image_id"])
        known = old["sha256"].where(unchanged & ~reuse & old["sha256"].notna())
    jobs = [
        (entries[i].path, listing.at[i, "image_id"], None if pd.isna(known[i]) else known[i])
        for i in listing.index[to_read & ~reuse]
    ]
    n_known = int(known.notna().sum())
    logger.info(
        "%d files unchanged since the last inventory (rows reused), %d unchanged but checked again "
        "under new rules (hash reused), %d new or changed",
        int(reuse.sum()), n_known, len(jobs) - n_known,
    )  # fmt: skip
    inspected = parallel_map(
        partial(_inspect_job, images_root=images_root, rules=rules, analyser=analyser),
        jobs,
        workers,
        progress_every=progress_every,
        label="inventory",
    )
    rows = []
    for i, entry in enumerate(entries):
        if not to_read[i]:
            rows.append(_unreadable_row(entry, listing.at[i, "image_id"], problems[i], images_root))
    columns = [*INVENTORY_COLUMNS, *VIEW_COLUMNS]
    parts = [pd.DataFrame(rows + inspected, columns=columns)]
    if reuse.any():
        parts.append(old.loc[reuse, [c for c in columns if c != "path"]].assign(path=listing.loc[reuse, "path"])[columns])
    frame = pd.concat([part for part in parts if len(part)] or parts, ignore_index=True)
    frame = frame.merge(listing[["path", "mtime_ns", "kind"]], on="path", how="left", validate="one_to_one")
    frame["rules_key"] = key
    return _typed(frame[CACHE_COLUMNS].sort_values("image_id", kind="stable").reset_index(drop=True), log=n_shards == 1)


def _typed(frame: pd.DataFrame, log: bool = True) -> pd.DataFrame:
    for column in ("bytes", "width", "height", "n_frames", "mtime_ns", "upright_width", "upright_height"):
        frame[column] = frame[column].astype("Int64")
    for column in ("box_left", "box_top", "box_right", "box_bottom", "fill"):
        frame[column] = frame[column].astype("float64")
    if log:
        log_counts(frame)
    return frame


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
    cache_csv: str | os.PathLike | None = None,
    analyser: Analyser | None = None,
    views_csv: str | os.PathLike | None = None,
) -> pd.DataFrame:
    """Build the inventory and write it atomically to ``output_csv`` (and the analyses to ``views_csv``).

    With ``cache_csv``, rows of unchanged files are taken from it and it is rewritten for the
    next run (it sits beside the output, which Snakemake deletes before rerunning the rule).
    """
    full = write_inventory_shard(images_root, None, rules, workers, progress_every, cache_csv, analyser)
    return write_gathered(full, output_csv, views_csv)


def write_inventory_shard(
    images_root: str | os.PathLike,
    shard_csv: str | os.PathLike | None,
    rules: InventoryRules,
    workers: int = 1,
    progress_every: int = 500,
    cache_csv: str | os.PathLike | None = None,
    analyser: Analyser | None = None,
    shard: tuple[int, int] = (0, 1),
) -> pd.DataFrame:
    """Inventory one shard of the files (all columns of CACHE_COLUMNS), written to ``shard_csv``
    and kept in ``cache_csv`` for the next run."""
    cache = read_cache(cache_csv) if cache_csv else None
    full = inventory_and_cache(images_root, rules, workers=workers, progress_every=progress_every, cache=cache, analyser=analyser, shard=shard)
    if shard_csv:
        write_csv(full, shard_csv)
    if cache_csv:
        write_csv(full, cache_csv)
    return full


def gather_inventory(shard_csvs: list[str | os.PathLike], output_csv: str | os.PathLike, views_csv: str | os.PathLike | None = None) -> pd.DataFrame:
    """inventory.csv (and views.csv) from the shards written by :func:`write_inventory_shard`."""
    shards = [read_cache(path, strict=True) for path in shard_csvs]
    full = _typed(pd.concat(shards, ignore_index=True).sort_values("image_id", kind="stable").reset_index(drop=True))
    return write_gathered(full, output_csv, views_csv)


def write_gathered(full: pd.DataFrame, output_csv: str | os.PathLike, views_csv: str | os.PathLike | None) -> pd.DataFrame:
    inventory = full[INVENTORY_COLUMNS]
    if views_csv:
        kept = full[full["status"] == KEPT]
        if kept["codes"].isna().any():
            raise ValueError(f"{output_csv}: kept images without an analysis; the inventory ran without dedupe's analyser")
        write_csv(kept[["image_id", "sha256", *VIEW_COLUMNS]], views_csv)
    write_csv(inventory, output_csv)
    return inventory


def read_cache(path: str | os.PathLike, strict: bool = False) -> pd.DataFrame | None:
    """The cache of a previous inventory (or a shard), or None when there is none or it cannot
    be used (``strict``: raise instead)."""
    try:
        text_columns = ("image_id", "path", "sha256", "reason", "kind", "rules_key", "codes", "check_codes")
        cache = pd.read_csv(path, dtype=dict.fromkeys(text_columns, str), keep_default_na=False, na_values=[""])
    except (FileNotFoundError, pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError, ValueError) as error:
        if strict:
            raise ValueError(f"{path}: cannot read this inventory shard ({error}); rerun the inventory rules") from error
        if not isinstance(error, (FileNotFoundError, pd.errors.EmptyDataError)):
            logger.warning("ignoring the unreadable inventory cache %s (%s); every file is checked again", path, error)
        return None
    if list(cache.columns) != CACHE_COLUMNS:
        if strict:
            raise ValueError(f"{path}: an inventory shard with other columns; rerun the inventory rules")
        logger.info("the inventory cache %s has other columns; every file is checked again", path)
        return None
    return _typed(cache, log=False)


def read_inventory(path: str | os.PathLike) -> pd.DataFrame:
    """Read an inventory CSV written by :func:`write_inventory`, checking its columns."""
    inventory = pd.read_csv(path, dtype={"image_id": str, "path": str, "sha256": str, "reason": str}, keep_default_na=False, na_values=[""])
    missing = [column for column in INVENTORY_COLUMNS if column not in inventory.columns]
    if missing:
        raise ValueError(f"{path}: missing inventory columns {missing}; rerun the inventory rule")
    return inventory
