"""Duplicate clusters among the kept images: reposts grouped around their best copy.

Evidence that two images are copies of one photograph (``match_type``):

- ``exact``: identical file bytes (same sha256);
- ``pixel``: different bytes, identical decoded pixels (upright RGB, same size);
- visual: the hashes of two *views* are within ``max_distance`` bits (or their dHash,
  for whole and content views, within ``dhash_distance``) and the pixels confirm it
  (:mod:`.dedupe_verify`). The views, each optional: the whole picture
  (``near``), its mirror image (``mirror``), the content inside uniform borders, a
  caption band or a screenshot's frame (``border``), the content turned by 4 degrees
  either way (``rotation``), and 16 crop windows of 85 % of the content and two bands
  of 80 % of its height (``crop``);
- ``url``: the metadata CSV gives both the same URL (the book's first suggestion).

No chaining: clusters are grown around an anchor, not taken as connected components.
In root order (:func:`root_order`: largest content area after trimming borders,
discounted by the border, then most pixels, most bytes, smallest image_id) each image
not yet placed anchors a cluster; the images its candidates lead to (breadth first,
through members already accepted) join only if they are verified duplicates *of the
anchor* itself. So A~B and B~C never put A and C together unless A~C holds. Where the
checks show a better copy than the anchor (:func:`discount_turned`, :func:`shared_areas`),
the cluster is grown again around it (:func:`grow_clusters`). Images left alone get a
second search at ``rescue_distance`` against the anchors (:func:`rescue_orphans`). The
root (``cluster_id``) is then the member whose content the cluster shares most
(:func:`choose_roots`), usually the anchor.

Per-image work is one decode at a reduced size (JPEGs through PIL's draft mode) and
a few small hashes; the search is sub-quadratic (:mod:`.hamming`); pixel checks run on
candidate pairs only, and only against anchors; clusters of separate components of
the candidate graph are grown in parallel.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import time
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Callable, Iterable

import imagehash
import numpy as np
import pandas as pd
from PIL import Image
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ..common.atomic import write_csv
from ..common.parallel import parallel_map
from ..common.tables import read_user_csv
from . import ANALYSIS_VERSION, DEDUPE_ANALYSIS_KEYS
from .dedupe_verify import Decision, Verifier
from .hamming import cross_pairs, near_pairs
from .image_match import FILL_LEVEL, View, content_box, fill_mask
from .inventory import KEPT, VIEW_COLUMNS, read_inventory
from .phash import dct_bits, dhash_rectangles, phash_rectangles
from .resize import decoded_rgb, draft_to, upright_rgb

logger = logging.getLogger(__name__)

CLUSTER_COLUMNS = [
    "image_id", "cluster_id", "is_root", "match_type", "distance", "matched_to",
    "content_area", "root_reason",
]  # fmt: skip
HASH_COLUMNS = [
    "image_id", "hash_kind", "hash_size", "perceptual_hash", "pixel_sha256",
    "content_left", "content_top", "content_right", "content_bottom",
]  # fmt: skip
PAIR_COLUMNS = [
    "image_a", "image_b", "method", "hash_distance", "alignment", "inliers", "overlap_a", "overlap_b", "agreement",
    "largest_difference", "motion", "decision", "reason", "same_cluster",
]  # fmt: skip

HASH_FUNCTIONS = {
    "phash": imagehash.phash,
    "dhash": imagehash.dhash,
    "ahash": imagehash.average_hash,
    "whash": imagehash.whash,
}
VERIFY_MODES = ("none", "pixels", "features")
BURST_MODES = ("separate", "merge")

FULL = (0.0, 0.0, 1.0, 1.0)
# Crop windows: 85 % of the content's width and height at 4 x 4 offsets; a crop of up to
# about 20 % is then within 2.5 % of the content of some window.
WINDOW_SIDE = 0.85
WINDOW_OFFSETS = (0.0, 0.05, 0.1, 0.15)
# Band windows: the full width and this share of the height, at the top and the bottom.
BAND_SIDE = 0.8
ROTATION_DEGREES = 4.0
# View hashes are computed from the analysis image reduced to this longer side (the
# hashes themselves look at 32 x 32 pixels or fewer).
HASH_SOURCE_SIDE = 128
# JPEGs are decoded at a reduced scale down to this share of dedupe.analysis_size.
DRAFT_SHARE = 0.75
# A candidate pair's two views must also be this close in a second hash (dHash, 64 bits):
# random pairs of views within max_distance bits of pHash grow with the square of the
# corpus (at 10,000 collages, 1 per image; at 20,000, 2); most are 20-30 bits apart in
# dHash, where views of one photograph are within 14 and turned ones within 18 (measured
# on bench/repost_bench.py's reposts; at 16 a few turned and cropped reposts were lost).
CHECK_DISTANCE = 20
CHECK_BITS = 64
# Whole and content views this close in dHash are candidates whatever their pHash
# distance: a light or dark overlay over a large area (a watermark across a star field or
# a printed page) moves pHash's low frequencies by 12-16 bits and dHash's gradient signs
# by 1-2. Views of different pictures within 2 bits of dHash are rare (among
# bench/repost_bench.py's 442 images, 11 pairs of files, none merged).
DHASH_DISTANCE = 2
# Candidate pairs of the same size whose whole-picture hashes are this close are
# decoded in full to look for identical pixels.
PIXEL_CHECK_DISTANCE = 2


@dataclass(frozen=True)
class DedupeSettings:
    """Config section ``dedupe`` (documented in config/schema.yaml)."""

    hash: str = "phash"
    hash_size: int = 8
    max_distance: int = 10
    pixel_identical: bool = True
    by_url: bool = True
    mirror: bool = True
    borders: bool = True
    rotations: bool = True
    crops: bool = True
    verify: str = "features"
    min_overlap: float = 0.6
    min_agreement: float = 0.8
    max_difference: float = 0.08
    max_motion: float = 0.05
    bursts: str = "separate"
    analysis_size: int = 320
    check_distance: int | None = CHECK_DISTANCE
    dhash_distance: int = DHASH_DISTANCE
    rescue_distance: int = 0

    def __post_init__(self) -> None:
        if self.hash not in HASH_FUNCTIONS:
            raise ValueError(f"dedupe.hash: '{self.hash}' is not one of {sorted(HASH_FUNCTIONS)}")
        if self.hash == "whash" and self.hash_size & (self.hash_size - 1):
            raise ValueError(f"dedupe.hash_size: whash needs a power of 2, got {self.hash_size}")
        if not 0 <= self.max_distance < self.bits:
            raise ValueError(f"dedupe.max_distance must be 0 to {self.bits - 1} for {self.bits}-bit hashes, got {self.max_distance}")
        if self.verify not in VERIFY_MODES:
            raise ValueError(f"dedupe.verify: '{self.verify}' is not one of {list(VERIFY_MODES)}")
        if self.bursts not in BURST_MODES:
            raise ValueError(f"dedupe.bursts: '{self.bursts}' is not one of {list(BURST_MODES)}")
        for key in ("min_overlap", "min_agreement", "max_difference", "max_motion"):
            if not 0 <= getattr(self, key) <= 1:
                raise ValueError(f"dedupe.{key} must be between 0 and 1, got {getattr(self, key)}")
        if self.check_distance is not None and not 0 <= self.check_distance < CHECK_BITS:
            raise ValueError(f"dedupe.check_distance must be 0 to {CHECK_BITS - 1} bits or null, got {self.check_distance}")
        if not 0 <= self.dhash_distance < CHECK_BITS:
            raise ValueError(f"dedupe.dhash_distance must be 0 to {CHECK_BITS - 1} bits, got {self.dhash_distance}")
        if not 0 <= self.rescue_distance < self.bits:
            raise ValueError(f"dedupe.rescue_distance must be 0 to {self.bits - 1} for {self.bits}-bit hashes, got {self.rescue_distance}")
        if self.analysis_size < 64:
            raise ValueError(f"dedupe.analysis_size must be at least 64 pixels, got {self.analysis_size}")

    @property
    def bits(self) -> int:
        return self.hash_size * self.hash_size


# --- views and their hashes ------------------------------------------------------------------


def image_views(box: tuple[float, float, float, float], settings: DedupeSettings) -> list[View]:
    """The views hashed for an image whose content box is ``box`` (fractions of its frame)."""
    views = [View("full")]
    if settings.mirror:
        views.append(View("full", mirror=True))
    content = box if settings.borders else FULL
    if content != FULL:
        views.append(View("content", content))
        if settings.mirror:
            views.append(View("content", content, mirror=True))
    if settings.rotations:
        views += [View("rotation", content, degrees=sign * ROTATION_DEGREES) for sign in (-1, 1)]
    if settings.crops:
        left, top, right, bottom = content
        width, height = right - left, bottom - top
        for dy in WINDOW_OFFSETS:
            for dx in WINDOW_OFFSETS:
                x, y = left + dx * width, top + dy * height
                views.append(View("crop", (x, y, x + WINDOW_SIDE * width, y + WINDOW_SIDE * height)))
        # the picture under or over a caption band that border trimming missed
        views.append(View("crop", (left, top, right, top + BAND_SIDE * height)))
        views.append(View("crop", (left, bottom - BAND_SIDE * height, right, bottom)))
    return views


def _role(view: View) -> str:
    return "plain" if view.kind in ("full", "content") else view.kind


def allowed(view_a: View, view_b: View) -> bool:
    """View pairs compared: whole or content views with each other (at most one mirrored), and a
    turned view or a crop window with a whole or content view (a turned view with an unmirrored one)."""
    roles = {_role(view_a), _role(view_b)}
    if roles == {"plain"}:
        return not (view_a.mirror and view_b.mirror)
    if roles == {"plain", "rotation"}:
        return not (view_a.mirror or view_b.mirror)
    return roles == {"plain", "crop"}


def match_kind(view_a: View, view_b: View) -> str:
    """The match_type a pair of close views stands for."""
    kinds = {view_a.kind, view_b.kind}
    if "crop" in kinds:
        return "crop"
    if "rotation" in kinds:
        return "rotation"
    if view_a.mirror or view_b.mirror:
        return "mirror"
    return "border" if "content" in kinds else "near"


def analysis_image(path: str, stored_size: tuple[int, int], size: int) -> tuple[Image.Image, tuple[int, int]]:
    """Upright RGB first frame with its longer side at most ``size``, and the full upright size.

    JPEGs are decoded at a reduced scale (PIL's draft mode) down to 3/4 of ``size``, and
    then used as they are: a draft costs a fraction of a full decode, and resampling
    it again would cost more than the pixel checks gain from the last quarter.
    """
    try:
        with decoded_rgb(path, analysis_short_side(stored_size, size)) as (rgb, full_size):
            fitted = _fit(rgb, size)
            return (rgb.copy() if fitted is rgb else fitted), full_size
    except Exception as error:  # noqa: BLE001 - name the file whatever the decoder raised
        raise RuntimeError(
            f"{path}: cannot decode for dedupe ({type(error).__name__}: {error}); "
            "the file changed since the inventory? rerun the inventory rule"
        ) from error


def analysis_short_side(stored_size: tuple[int, int], size: int) -> int:
    """The shorter side a JPEG is drafted to for an analysis image of longer side ``size``."""
    width, height = stored_size
    return max(1, math.ceil(DRAFT_SHARE * size * min(width, height) / max(width, height)))


def _fit(image: Image.Image, size: int, resample: Image.Resampling = Image.Resampling.LANCZOS) -> Image.Image:
    if max(image.size) <= size:
        return image
    scale = size / max(image.size)
    target = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(target, resample, reducing_gap=2.0)


@dataclass(frozen=True)
class Analysis:
    """What dedupe keeps of one distinct file: its upright size, content box and view hashes."""

    width: int
    height: int
    box: tuple[float, float, float, float]  # fractions of the frame
    fill: float  # share of the box in flat corner regions (a turned copy's fill)
    codes: tuple[str, ...]  # hex, one per view of image_views(box)
    checks: tuple[str, ...] = ()  # hex dHash of each view: the second hash of a candidate pair
    colour: float = 0.0  # how far colour is spread over the picture (colour_spread)

    @property
    def content_size(self) -> tuple[int, int]:
        left, top, right, bottom = self.box
        return round((right - left) * self.width), round((bottom - top) * self.height)

    @property
    def content_area(self) -> int:
        width, height = self.content_size
        return round(width * height * (1 - self.fill))


# A pixel is coloured when its channels differ by more than COLOUR_CHROMA grey levels (JPEG
# noise on a grey picture stays under 10). A picture is in colour when coloured pixels are
# spread over it: at least COLOUR_SHARE of the pixels of at least COLOUR_CELLS of the cells
# of a COLOUR_GRID x COLOUR_GRID grid (colour photographs: 69-100 % of the cells, the star
# field 69 %; a greyscale photograph with a coloured logo, caption or band 19-25 %).
COLOUR_CHROMA = 24
COLOUR_SHARE = 0.02
COLOUR_GRID = 4
COLOUR_CELLS = 0.5


def colour_spread(pixels: np.ndarray) -> float:
    """Share of the cells of a COLOUR_GRID x COLOUR_GRID grid over an (H, W, 3) uint8 image
    in which at least COLOUR_SHARE of the pixels (every third row and column) are coloured."""
    sample = np.ascontiguousarray(pixels[::3, ::3])
    height, width = sample.shape[:2]
    if height < COLOUR_GRID or width < COLOUR_GRID:
        return 0.0
    red, green, blue = sample[..., 0], sample[..., 1], sample[..., 2]
    # channel by channel: numpy's max over an axis of 3 is twenty times slower
    chroma = np.maximum(np.maximum(red, green), blue) - np.minimum(np.minimum(red, green), blue)
    coloured = chroma > COLOUR_CHROMA
    rows = np.linspace(0, height, COLOUR_GRID + 1).astype(int)
    columns = np.linspace(0, width, COLOUR_GRID + 1).astype(int)
    counts = np.add.reduceat(np.add.reduceat(coloured.astype(np.int32), rows[:-1], axis=0), columns[:-1], axis=1)
    return float(np.mean(counts >= COLOUR_SHARE * np.outer(np.diff(rows), np.diff(columns))))


def turned_views(source: Image.Image, views: list[View]) -> dict[int, Image.Image]:
    """The turned views of ``source`` rendered by PIL, by view index (both hashes use them)."""
    return {i: view.render(source).convert("L") for i, view in enumerate(views) if view.degrees}


def view_hashes(source: Image.Image, views: list[View], settings: DedupeSettings, turned: dict[int, Image.Image] | None = None) -> tuple[str, ...]:
    """Hex hash of each view of ``source`` (a grey image).

    pHash is computed for all views at once (:mod:`.phash`): the whole picture through
    PIL, as ``imagehash.phash`` computes it (the hash written to hashes.csv), the turned
    views rendered by PIL, and the rectangles (content, crop windows, mirror images) as
    batched matrix products, which is most of the hashing time saved.
    """
    if settings.hash != "phash":
        function = HASH_FUNCTIONS[settings.hash]
        return tuple(str(function(view.render(source), hash_size=settings.hash_size)) for view in views)
    side, size = settings.hash_size, settings.hash_size * 4
    gray = np.asarray(source.convert("L"))
    bits = np.zeros((len(views), side * side), dtype=bool)
    turned = turned_views(source, views) if turned is None else turned
    rendered = [i for i, view in enumerate(views) if view.degrees or (i == 0 and view.kind == "full" and not view.mirror)]
    if rendered:
        pictures = [turned[i] if i in turned else views[i].render(source).convert("L") for i in rendered]
        pixels = np.stack([np.asarray(picture.resize((size, size), Image.Resampling.LANCZOS)) for picture in pictures])
        bits[rendered] = dct_bits(pixels.astype(np.float64), side)
    rectangles = [i for i in range(len(views)) if i not in set(rendered)]
    if rectangles:
        boxes = np.array([views[i].pixels(source.width, source.height) for i in rectangles])
        bits[rectangles] = phash_rectangles(gray, boxes, np.array([views[i].mirror for i in rectangles]), side)
    return bits_to_hex(bits)


def check_hashes(source: Image.Image, views: list[View], turned: dict[int, Image.Image] | None = None) -> tuple[str, ...]:
    """Hex dHash (64 bits) of each view of ``source``: the second hash a candidate pair's views must agree in."""
    gray = np.asarray(source.convert("L"))
    bits = np.zeros((len(views), CHECK_BITS), dtype=bool)
    turned = turned_views(source, views) if turned is None else turned
    for i, picture in turned.items():
        pixels = np.asarray(picture.resize((9, 8), Image.Resampling.LANCZOS), dtype=np.int16)
        bits[i] = (pixels[:, 1:] > pixels[:, :-1]).flatten()
    rectangles = [i for i in range(len(views)) if not views[i].degrees]
    if rectangles:
        boxes = np.array([views[i].pixels(source.width, source.height) for i in rectangles])
        bits[rectangles] = dhash_rectangles(gray, boxes, np.array([views[i].mirror for i in rectangles]))
    return bits_to_hex(bits)


def bits_to_hex(bits: np.ndarray) -> tuple[str, ...]:
    """Hex strings of boolean rows (most significant bit first), as imagehash writes them."""
    n_bits = bits.shape[1]
    digits = -(-n_bits // 4)
    padded = np.zeros((len(bits), -(-n_bits // 8) * 8), dtype=bool)
    padded[:, padded.shape[1] - n_bits :] = bits
    packed = np.packbits(padded, axis=1)
    return tuple(row.tobytes().hex()[-digits:] for row in packed)


def analyse_file(job: tuple[str, int, int], settings: DedupeSettings) -> Analysis:
    """Content box and view hashes of one file (``job``: path, stored width, stored height)."""
    path, width, height = job
    rgb, full_size = analysis_image(path, (width, height), settings.analysis_size)
    return analyse_image(rgb, full_size, settings)


def analyse_image(rgb: Image.Image, full_size: tuple[int, int], settings: DedupeSettings) -> Analysis:
    """Content box and view hashes of an analysis image (see :func:`analysis_image`).

    The corner fill of a turned copy is hashed as the grey a turned view fills its
    corners with (:data:`.image_match.FILL_LEVEL`), not in its own colour: a white page
    turned in black corners is then as close to the page's turned view as the picture
    allows, whatever colour the reposter chose.
    """
    pixels = np.asarray(rgb)
    box = content_box(pixels) if settings.borders else (0, 0, rgb.width, rgb.height)
    area = (box[2] - box[0]) * (box[3] - box[1])
    fill = fill_mask(pixels, box) if settings.borders else None
    gray = rgb.convert("L")
    if fill is not None:
        repainted = np.array(gray)
        repainted[box[1] : box[3], box[0] : box[2]][fill] = FILL_LEVEL
        gray = Image.fromarray(repainted)
    fractions = (box[0] / rgb.width, box[1] / rgb.height, box[2] / rgb.width, box[3] / rgb.height)
    source = _fit(gray, max(HASH_SOURCE_SIDE, 8 * settings.hash_size), Image.Resampling.BOX)
    views = image_views(fractions, settings)
    turned = turned_views(source, views)
    fill_share = float(fill.sum()) / area if fill is not None else 0.0
    codes, checks = view_hashes(source, views, settings, turned), check_hashes(source, views, turned)
    return Analysis(*full_size, fractions, fill_share, codes, checks, colour_spread(pixels))


@dataclass(frozen=True)
class Analyser:
    """Dedupe's analysis of an image the inventory has open, so that each file is decoded once.

    The inventory calls :meth:`draft` before it loads the image (the load is its check
    that the file decodes completely) and :meth:`analyse` after; the analysis goes to
    the inventory's ``views.csv`` as :data:`VIEW_COLUMNS`, which dedupe reads back.
    """

    settings: DedupeSettings

    @property
    def key(self) -> str:
        """What an analysis depends on, to tell whether a cached one is still valid."""
        settings = {name: getattr(self.settings, name) for name in DEDUPE_ANALYSIS_KEYS}
        return json.dumps({**settings, "version": ANALYSIS_VERSION}, sort_keys=True)

    @classmethod
    def of(cls, analysis: dict) -> Analyser:
        """The analyser of the analysis settings alone (config dedupe, keys DEDUPE_ANALYSIS_KEYS)."""
        unknown = set(analysis) - set(DEDUPE_ANALYSIS_KEYS)
        if unknown:
            raise ValueError(f"not analysis settings: {sorted(unknown)}")
        # The distance is not part of the analysis; 0 is valid for every hash size.
        return cls(DedupeSettings(**analysis, max_distance=0))

    def draft(self, image: Image.Image) -> None:
        draft_to(image, analysis_short_side(image.size, self.settings.analysis_size))

    def analyse(self, image: Image.Image, stored_size: tuple[int, int]) -> dict:
        # the inventory's open image, turned in place: it is not used after the analysis
        rgb, full_size = upright_rgb(image, stored_size, copy=False)
        return analysis_row(analyse_image(_fit(rgb, self.settings.analysis_size), full_size, self.settings))


def analysis_row(analysis: Analysis) -> dict:
    values = (
        analysis.width, analysis.height, *analysis.box, analysis.fill, analysis.colour, " ".join(analysis.codes), " ".join(analysis.checks),
    )  # fmt: skip
    return dict(zip(VIEW_COLUMNS, values))


def analysis_of_row(row) -> Analysis:
    box = (float(row["box_left"]), float(row["box_top"]), float(row["box_right"]), float(row["box_bottom"]))
    size = int(row["upright_width"]), int(row["upright_height"])
    codes, checks = tuple(row["codes"].split()), tuple(row["check_codes"].split())
    return Analysis(*size, box, float(row["fill"]), codes, checks, float(row["colour"]))


def hex_to_bits(hex_hashes: Iterable[str], bits: int) -> np.ndarray:
    """Boolean matrix (one row per hash, ``bits`` columns, most significant bit first)."""
    n_bytes = -(-bits // 8)
    packed = bytearray()
    for value in hex_hashes:
        number = int(value, 16)
        if number >> bits:
            raise ValueError(f"hash {value} has more than {bits} bits: dedupe.hash_size changed?")
        packed += number.to_bytes(n_bytes, "big")
    rows = np.frombuffer(bytes(packed), dtype=np.uint8).reshape(-1, n_bytes)
    return np.unpackbits(rows, axis=1)[:, 8 * n_bytes - bits :].astype(bool)


def pixel_sha256(path: str) -> str:
    """sha256 of the upright RGB first frame's size and pixel bytes (equal only for identical pixels)."""
    with decoded_rgb(path) as (rgb, _):
        digest = hashlib.sha256(f"{rgb.width}x{rgb.height}:".encode())
        digest.update(rgb.tobytes())
        return digest.hexdigest()


# --- the files, their analyses and candidate pairs ---------------------------------------------


@dataclass
class Files:
    """One row per distinct file (sha256) of the kept images, in image_id order of the first copy."""

    frame: pd.DataFrame  # image_id (first copy), path, width, height, bytes, sha256
    analyses: list[Analysis]
    settings: DedupeSettings

    def views(self, index: int) -> list[View]:
        return image_views(self.analyses[index].box, self.settings)

    def bits(self, index: int) -> np.ndarray:
        return hex_to_bits(self.analyses[index].codes, self.settings.bits)


def analyse_files(kept: pd.DataFrame, settings: DedupeSettings, workers: int = 1, views: pd.DataFrame | None = None) -> Files:
    """Analyse each distinct file (sha256) once, or read the analyses the inventory made (``views``)."""
    distinct = kept.sort_values("image_id").drop_duplicates("sha256").reset_index(drop=True)
    if views is not None:
        return Files(distinct, analyses_from_views(distinct, views, settings), settings)
    logger.info("analysing %d distinct files (%d kept images)", len(distinct), len(kept))
    jobs = list(zip(distinct["path"], distinct["width"].astype(int), distinct["height"].astype(int)))
    analyses = parallel_map(partial(analyse_file, settings=settings), jobs, workers, label="dedupe hashes")
    return Files(distinct, analyses, settings)


def analyses_from_views(distinct: pd.DataFrame, views: pd.DataFrame, settings: DedupeSettings) -> list[Analysis]:
    """The analyses of ``distinct`` files from the inventory's views.csv, checked against ``settings``."""
    by_id = views.drop_duplicates("image_id").set_index("image_id")
    missing = distinct.loc[~distinct["image_id"].isin(by_id.index), "image_id"].tolist()
    if missing:
        raise ValueError(f"views.csv lacks kept images (e.g. {missing[:3]}); rerun the inventory rule")
    analyses = [analysis_of_row(row) for row in by_id.loc[distinct["image_id"]].reset_index().to_dict("records")]
    for image_id, analysis in zip(distinct["image_id"], analyses):
        expected = len(image_views(analysis.box, settings))
        wrong = len(analysis.codes) != expected or len(analysis.checks) != expected
        if wrong or any(len(code) != -(-settings.bits // 4) for code in analysis.codes):
            raise ValueError(
                f"views.csv: the analysis of {image_id} has {len(analysis.codes)} view hashes where the dedupe "
                f"settings give {expected} of {settings.bits} bits; the inventory ran with other dedupe settings: rerun it"
            )
    return analyses


def read_views(path: str | os.PathLike) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"image_id": str, "sha256": str, "codes": str, "check_codes": str}, keep_default_na=False, na_values=[""])


def _view_table(files: Files, indices: Iterable[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every view of the files ``indices``: owner, role (plain, rotation, crop), mirrored, code bits."""
    owner, roles, mirrored, rows = [], [], [], []
    for index in indices:
        for view, code in zip(files.views(index), files.analyses[index].codes):
            owner.append(index)
            roles.append(_role(view))
            mirrored.append(view.mirror)
            rows.append(code)
    return np.array(owner, dtype=np.int64), np.array(roles), np.array(mirrored, dtype=bool), hex_to_bits(rows, files.settings.bits)


def _check_bits(files: Files, indices: Iterable[int]) -> np.ndarray:
    """dHash bits (one boolean row per view) of every view of the files ``indices``, in
    :func:`_view_table`'s order."""
    return hex_to_bits([code for index in indices for code in files.analyses[index].checks], CHECK_BITS)


def _check_table(files: Files, indices: Iterable[int]) -> np.ndarray:
    """:func:`_check_bits`, packed for Hamming distances."""
    return np.packbits(_check_bits(files, indices), axis=1)


def candidate_view_pairs(files: Files) -> pd.DataFrame:
    """The close view pairs behind the candidate pairs, one row each: the two files (a != b,
    in search order), the search that found them (``plain``: plain views with each other
    by pHash; ``dhash``: plain views by dHash alone; ``rotation``, ``crop``: turned views and
    crop windows against plain views),
    and their pHash and dHash distances.

    Pairs of allowed views within ``max_distance`` bits of pHash (and, with ``check_distance``,
    within that many bits of dHash), and pairs of whole or content views within
    ``dhash_distance`` bits of dHash.
    """
    settings = files.settings
    owner, roles, mirrored, bits = _view_table(files, range(len(files.analyses)))
    columns = ["a", "b", "search", "distance", "check_distance"]
    if not len(owner):
        return pd.DataFrame(columns=columns)
    check = settings.check_distance is not None
    dhash = _check_bits(files, range(len(files.analyses)))
    packed = np.packbits(dhash, axis=1)
    found = []

    def add(search: str, i: np.ndarray, j: np.ndarray, distance: np.ndarray, checked: bool = True) -> None:
        check_distance = np.bitwise_count(packed[i] ^ packed[j]).sum(axis=1)
        keep = owner[i] != owner[j]
        if checked and check:
            keep &= check_distance <= settings.check_distance
        found.append(pd.DataFrame({
            "a": owner[i][keep], "b": owner[j][keep], "search": search,
            "distance": distance[keep].astype(np.int64), "check_distance": check_distance[keep].astype(np.int64),
        }))  # fmt: skip

    plain = np.flatnonzero(roles == "plain")
    close = near_pairs(bits[plain], settings.max_distance)
    i, j = plain[close[:, 0]], plain[close[:, 1]]
    keep = ~(mirrored[i] & mirrored[j])
    add("plain", i[keep], j[keep], close[keep, 2])
    if settings.dhash_distance:
        close = near_pairs(dhash[plain], settings.dhash_distance)
        i, j = plain[close[:, 0]], plain[close[:, 1]]
        keep = ~(mirrored[i] & mirrored[j])
        i, j = i[keep], j[keep]
        add("dhash", i, j, np.bitwise_count(np.packbits(bits[i], axis=1) ^ np.packbits(bits[j], axis=1)).sum(axis=1), checked=False)
    unmirrored = plain[~mirrored[plain]]
    for role, targets in (("rotation", unmirrored), ("crop", plain)):
        queries = np.flatnonzero(roles == role)
        if len(queries) and len(targets):
            close = cross_pairs(bits[queries], bits[targets], settings.max_distance)
            add(role, queries[close[:, 0]], targets[close[:, 1]], close[:, 2])
    return pd.concat(found, ignore_index=True)[columns]


def candidate_pairs(files: Files) -> pd.DataFrame:
    """File pairs (a < b) of :func:`candidate_view_pairs`, with the pHash distance of their closest views."""
    views = candidate_view_pairs(files)
    pairs = pd.DataFrame({
        "a": np.minimum(views["a"], views["b"]).astype(np.int64), "b": np.maximum(views["a"], views["b"]).astype(np.int64),
        "distance": views["distance"].astype(np.int64),
    })  # fmt: skip
    return pairs.groupby(["a", "b"], as_index=False)["distance"].min()


# --- units: files with identical pixels ---------------------------------------------------------


def _find(parent: list[int], item: int) -> int:
    while parent[item] != item:
        parent[item] = parent[parent[item]]
        item = parent[item]
    return item


def pixel_groups(files: Files, pairs: pd.DataFrame, workers: int = 1) -> tuple[list[int], dict[int, str]]:
    """Union-find parent of each file after merging files with identical pixels, and the pixel
    hashes computed (only for candidate pairs of one size whose whole-picture hashes nearly agree)."""
    parent = list(range(len(files.analyses)))
    if not files.settings.pixel_identical or pairs.empty:
        return parent, {}
    widths = np.array([analysis.width for analysis in files.analyses])
    heights = np.array([analysis.height for analysis in files.analyses])
    full = hex_to_bits([analysis.codes[0] for analysis in files.analyses], files.settings.bits)
    a, b = pairs["a"].to_numpy(), pairs["b"].to_numpy()
    same_size = (widths[a] == widths[b]) & (heights[a] == heights[b])
    a, b = a[same_size], b[same_size]
    close = (full[a] != full[b]).sum(axis=1) <= PIXEL_CHECK_DISTANCE
    a, b = a[close], b[close]
    needed = sorted(set(a) | set(b))
    digests = dict(zip(needed, parallel_map(pixel_sha256, files.frame["path"].iloc[needed].tolist(), workers, label="pixel hashes")))
    for x, y in zip(a, b):
        if digests[x] == digests[y]:
            parent[_find(parent, x)] = _find(parent, y)
    return [_find(parent, x) for x in range(len(parent))], {int(k): v for k, v in digests.items()}


def root_score(area, content_area, pixels):
    """``area * sqrt(content_area / pixels)``: an area discounted by the border (see :func:`root_order`)."""
    area = np.clip(np.asarray(area, dtype=np.float64), 1, None)
    share = np.asarray(content_area, dtype=np.float64) / np.clip(np.asarray(pixels, dtype=np.float64), 1, None)
    return area * np.sqrt(np.clip(share, 0, 1))


def root_order(images: pd.DataFrame) -> pd.DataFrame:
    """Images ordered by root preference: the largest content area, discounted by the border.

    The content area is the pixels inside borders (letterbox bars, padding, a caption
    band, a screenshot's frame), less the corner fill of a turned copy. It is multiplied
    by the square root of its share of the frame, so that of two copies showing the
    picture at one size the one without bars, padding or a turned frame leads (a
    letterbox to 16:9 of a 4:3 picture scores 0.87 of the clean copy), while a copy
    with twice the pixels of picture still leads a clean smaller one. Then the most
    pixels, then the most tones (:func:`tones`: a copy in colour leads a greyscale copy
    of the same size, however many bytes that one has, and grey leads black and white),
    the most bytes, the smallest image_id.

    ``images`` needs image_id, content_area, width, height and bytes (width and height
    as stored: their product is the same upright); an optional ``shared_area`` (see
    :func:`shared_areas`) replaces the content area as the area, the border share
    still coming from the content area; optional ``colour`` and ``mode`` give the tones.
    """
    pixels = images["width"].astype("int64") * images["height"].astype("int64")
    area = images["shared_area"] if "shared_area" in images else images["content_area"]
    ranked = images.assign(
        _score=-np.round(root_score(area, images["content_area"], pixels)).astype("int64"),
        _pixels=-pixels,
        _tones=-tones(images),
        _bytes=-images["bytes"].astype("int64"),
    )
    keys = ["_score", "_pixels", "_tones", "_bytes"]
    return ranked.sort_values([*keys, "image_id"]).drop(columns=keys)


BILEVEL, GREY, COLOUR = 0, 1, 2
TONE_NAMES = {BILEVEL: "black and white", GREY: "greyscale", COLOUR: "colour"}


def tone_columns(images: pd.DataFrame) -> list[str]:
    """The columns of ``images`` that :func:`tones` reads."""
    return [column for column in ("colour", "mode") if column in images]


def tones(images: pd.DataFrame) -> pd.Series:
    """:data:`COLOUR` for images with colour over at least :data:`COLOUR_CELLS` of the picture
    (column ``colour``, :func:`colour_spread`), :data:`BILEVEL` for files stored with one bit
    a pixel (PIL mode ``1``), :data:`GREY` otherwise; all :data:`COLOUR` without those columns."""
    found = pd.Series(COLOUR, index=images.index, dtype="int64")
    if "colour" in images:
        found[images["colour"].astype(float) < COLOUR_CELLS] = GREY
    if "mode" in images:
        found[images["mode"] == "1"] = BILEVEL
    return found


def root_reason(root: dict, runner_up: dict | None, copies: int = 0) -> str:
    """Why ``root`` leads its cluster, against the next image in root order.

    Rows as :func:`root_order` takes them (``shared_area`` optional), with their ``tone``
    (:func:`tones`); ``copies``: the other images with the root's file or pixels, which lead with it.
    """
    if runner_up is None:
        if copies:
            return f"only picture in its cluster, with {copies} other image(s) of the same file or the same pixels"
        return "only picture in its cluster"
    pixels = int(root["width"]) * int(root["height"])
    next_pixels = int(runner_up["width"]) * int(runner_up["height"])
    score, next_score = (
        round(float(root_score(x.get("shared_area", x["content_area"]), x["content_area"], p))) for x, p in ((root, pixels), (runner_up, next_pixels))
    )
    against = f"next: {runner_up['image_id']}"

    def area(row: dict, frame_pixels: int) -> str:
        own, shared = round(row["content_area"]), round(row.get("shared_area", row["content_area"]))
        also = f", {shared} px shared with its cluster" if shared != own else ""
        return f"{own} px of content{also}, border {max(0.0, 1 - own / frame_pixels):.0%}"

    if score != next_score:
        return f"largest content area after trimming borders: {area(root, pixels)} ({against}: {area(runner_up, next_pixels)})"
    if pixels != next_pixels:
        return f"content alike; most pixels: {pixels} ({against}: {next_pixels})"
    if root["tone"] != runner_up["tone"]:
        return f"content and pixels alike; in {TONE_NAMES[root['tone']]} ({against}: {TONE_NAMES[runner_up['tone']]})"
    if int(root["bytes"]) != int(runner_up["bytes"]):
        return f"content and pixels alike; most bytes: {root['bytes']} ({against}: {runner_up['bytes']})"
    return f"alike in all but name; smallest image_id ({against})"


# --- clusters grown around roots ----------------------------------------------------------------


# Times a cluster is grown again around a better copy than its anchor (see grow_clusters).
MAX_REANCHORS = 2


def grow_clusters(
    order: list,
    neighbours,
    decide: Callable[[object, object], Decision],
    best: Callable[[object, list[tuple[object, Decision]]], object] | None = None,
    label: Callable[[object], str] = str,
) -> tuple[dict, list[tuple[object, object, Decision]]]:
    """Clusters of the items of ``order`` (best root first), each grown around its root.

    An item not yet placed becomes a root; the items its neighbours (and its accepted
    members' neighbours) lead to, breadth first in root order, are checked against the
    root with ``decide(root, item)`` and join only if accepted. ``neighbours.get(item,
    ())`` gives an item's neighbours (a dict, or :class:`Neighbours`).

    Re-anchoring: the order is a guess made before any pixel was compared (a turned copy
    of a dark picture, whose corner fill cannot be told from the picture, looks larger
    than the original). ``best(root, accepted)`` (``accepted``: each accepted member
    with its decision) names the member the evidence shows to be the better copy; the
    cluster is then grown again around it, from scratch (every member checked against
    the new root, the old root included), at most :data:`MAX_REANCHORS` times. Items
    left out by the new root are placed later, in order. The decisions of an abandoned
    growth are returned marked as superseded (naming items by ``label``). Returns the root of every item and every
    decision taken.
    """
    rank = {item: position for position, item in enumerate(order)}
    root_of: dict = {}
    decisions = []

    def grow(root) -> list[tuple[object, object, Decision]]:
        seen = {root}

        def in_order(items) -> list:
            return sorted((item for item in items if item not in seen), key=rank.__getitem__)

        taken = []
        queue = deque(in_order(neighbours.get(root, ())))
        while queue:
            item = queue.popleft()
            if item in seen:
                continue
            seen.add(item)
            if item in root_of:
                continue
            decision = decide(root, item)
            taken.append((root, item, decision))
            if decision.accepted:
                queue.extend(in_order(neighbours.get(item, ())))
        return taken

    pending = list(order)
    position = 0
    while position < len(pending):
        root = pending[position]
        position += 1
        if root in root_of:
            continue
        taken = grow(root)
        abandoned = []
        for _ in range(MAX_REANCHORS if best is not None else 0):
            accepted = [(item, decision) for _, item, decision in taken if decision.accepted]
            better = best(root, accepted) if accepted else root
            if better == root or better not in {item for item, _ in accepted}:
                break
            note = f"superseded: the cluster was grown again around {label(better)}, a better copy than {label(root)}"
            decisions.extend((r, i, replace(d, reason=f"{d.reason} ({note})")) for r, i, d in taken)
            abandoned += [root, *(item for item, _ in accepted)]
            root = better
            taken = grow(root)
        root_of[root] = root
        for _, item, decision in taken:
            if decision.accepted:
                root_of[item] = root
        decisions.extend(taken)
        # an earlier root left out after re-anchoring still anchors a cluster of its own
        pending[position:position] = sorted({item for item in abandoned if item not in root_of}, key=rank.__getitem__)
    return root_of, decisions


def shared_areas(frame: pd.DataFrame, anchor_of: dict[int, int], decisions: list[tuple[int, int, Decision]]) -> dict[int, float]:
    """Each clustered unit's content area that the rest of its cluster shares.

    A member counts the share of its content inside the anchor's frame (a caption band
    or bars the anchor lacks do not count). The anchor counts the median share of its
    content that its members cover: where most copies lack a band the anchor has, the
    band is an addition, not picture (with a single member it cannot tell a band of the
    anchor's from a crop of the member's, and keeps its whole content). Units clustered
    alone keep their content area.
    """
    area = frame["content_area"].astype("float64").to_dict()  # by unit: the frame's index
    accepted = {(anchor, unit): decision for anchor, unit, decision in decisions if decision.accepted}
    covered = defaultdict(list)
    shared = {}
    for unit, anchor in anchor_of.items():
        decision = accepted.get((anchor, unit))
        if unit == anchor or decision is None or decision.coverage_b is None:
            shared[unit] = area[unit]
            continue
        shared[unit] = area[unit] * decision.coverage_b
        covered[anchor].append(decision.coverage_a)
    for anchor, shares in covered.items():
        if len(shares) >= 2:  # with one copy, a band and a crop cannot be told apart
            shared[anchor] = area[anchor] * float(np.median(shares))
    return shared


# A unit turned against its cluster's consensus by more than this many degrees is a
# turned copy (see discount_turned).
TURNED_DEGREES = 1.0


def picture_share(width: float, height: float, degrees: float) -> float:
    """Share of a ``width`` x ``height`` frame that a picture turned by ``degrees`` fills when
    the frame was enlarged to hold it (as PIL's ``rotate(expand=True)`` does)."""
    c, s = math.cos(math.radians(abs(degrees))), math.sin(math.radians(abs(degrees)))
    if c - s <= 0:
        return 1.0
    w, h = (width * c - height * s) / (c * c - s * s), (height * c - width * s) / (c * c - s * s)
    return float(w * h / (width * height)) if w > 0 and h > 0 else 1.0


def discount_turned(frame: pd.DataFrame, anchor_of: dict[int, int], decisions: list[tuple[int, int, Decision]]) -> pd.DataFrame:
    """``frame`` (by unit) with the corner fill of turned copies taken out of their content area.

    The corner fill of a turned copy of a dark picture cannot be told from the picture
    (:func:`.image_match.fill_mask` finds no triangles), so the copy measures larger than
    the original and would lead its cluster. The pixel checks tell: each member's
    alignment with its anchor has an angle. The cluster's orientation is the median of
    those angles (the anchor's own being 0); a unit turned from it by more than
    :data:`TURNED_DEGREES` is a turned copy, and its content area is cut to the share of
    its content box that a picture turned by that angle fills (:func:`picture_share`).
    ``frame`` needs content_area, box_width and box_height.
    """
    angles = defaultdict(dict)
    for anchor, unit, decision in decisions:
        if decision.accepted and decision.angle is not None and unit != anchor and anchor_of.get(unit) == anchor:
            angles[anchor][unit] = decision.angle
    cut = {}
    for anchor, members in angles.items():
        consensus = float(np.median([0.0, *members.values()]))
        for unit, angle in {anchor: 0.0, **members}.items():
            if abs(angle - consensus) > TURNED_DEGREES and unit in frame.index:
                row = frame.loc[unit]
                picture = row["box_width"] * row["box_height"] * picture_share(row["box_width"], row["box_height"], angle - consensus)
                cut[unit] = min(float(row["content_area"]), picture)
    if not cut:
        return frame
    frame = frame.assign(content_area=frame["content_area"].astype("float64"))
    frame.loc[list(cut), "content_area"] = list(cut.values())
    return frame


def choose_roots(frame: pd.DataFrame, anchor_of: dict[int, int], shared: dict[int, float]) -> dict[int, int]:
    """The root of each unit's cluster: the best member in :func:`root_order` by shared content area."""
    units = sorted(anchor_of)
    ranked = root_order(frame.iloc[units].assign(shared_area=[shared[unit] for unit in units], anchor=[anchor_of[u] for u in units]))
    best = ranked.groupby("anchor", sort=False)["index"].first()
    return {unit: int(best[anchor_of[unit]]) for unit in units}


@dataclass
class ComponentJob:
    """One connected component of the candidate graph, clustered in one worker."""

    units: list[int]  # in root order
    paths: dict[int, str]
    stored_sizes: dict[int, tuple[int, int]]
    boxes: dict[int, tuple[float, float, float, float]]
    codes: dict[int, tuple[str, ...]]
    neighbours: Neighbours
    urls: dict[int, frozenset[str]]
    ranking: pd.DataFrame  # by unit: what root_order and discount_turned need (see _component_jobs)


def make_verifier(settings: DedupeSettings, path, stored_size, box, codes) -> Verifier:
    """A :class:`Verifier` of units, given each unit's path, stored size, content box and view codes."""

    def load(unit: int) -> Image.Image:
        return analysis_image(path(unit), stored_size(unit), settings.analysis_size)[0]

    def views_codes(unit: int) -> tuple[list[View], np.ndarray]:
        return image_views(box(unit), settings), hex_to_bits(codes(unit), settings.bits)

    # the analysis found the content box on the very image load() returns
    return Verifier(settings, load, views_codes, allowed, match_kind, content=box)


def cluster_component(job: ComponentJob, settings: DedupeSettings) -> tuple[dict[int, int], list[tuple[int, int, Decision]]]:
    """Grow the clusters of one component, verifying candidates against roots."""

    verifier = make_verifier(settings, job.paths.__getitem__, job.stored_sizes.__getitem__, job.boxes.__getitem__, job.codes.__getitem__)

    def decide(root: int, unit: int) -> Decision:
        visual = verifier.verify(root, unit)
        if visual.accepted or not settings.by_url:
            return visual
        shared = job.urls.get(root, frozenset()) & job.urls.get(unit, frozenset())
        if shared:
            return Decision(True, "url", f"same URL in the metadata ({sorted(shared)[0]}); pixels: {visual.reason}")
        return visual

    def best(anchor: int, accepted: list[tuple[int, Decision]]) -> int:
        units = [anchor, *(unit for unit, _ in accepted)]
        anchor_of, taken = dict.fromkeys(units, anchor), [(anchor, unit, d) for unit, d in accepted]
        ranking = discount_turned(job.ranking.loc[units], anchor_of, taken)
        shared = shared_areas(ranking, anchor_of, taken)
        ranked = root_order(ranking.assign(shared_area=[shared[unit] for unit in units]))
        return int(ranked["index"].iloc[0])

    return grow_clusters(job.units, job.neighbours, decide, best, label=lambda unit: str(job.ranking.at[unit, "image_id"]))


# Clusters (nearest first) an image left alone is checked against by the rescue search.
RESCUE_TRIES = 2


def rescue_candidates(files: Files, orphans: list[int], anchors: list[int]) -> pd.DataFrame:
    """Pairs (orphan, anchor) whose allowed views are within ``rescue_distance``, with the distance.

    Both ways: every view of an orphan against the plain views of anchors, and the
    turned views and crop windows of anchors against the plain views of orphans.
    """
    settings = files.settings
    orphan_table, anchor_table = _view_table(files, orphans), _view_table(files, anchors)
    check = settings.check_distance is not None
    orphan_checks, anchor_checks = (_check_table(files, orphans), _check_table(files, anchors)) if check else (None, None)
    found = []
    for (q_owner, q_role, q_mirror, q_bits), (t_owner, t_role, t_mirror, t_bits), q_checks, t_checks, orphan_first in (
        (orphan_table, anchor_table, orphan_checks, anchor_checks, True),
        (anchor_table, orphan_table, anchor_checks, orphan_checks, False),
    ):
        targets = np.flatnonzero(t_role == "plain")
        queries = np.arange(len(q_owner)) if orphan_first else np.flatnonzero(q_role != "plain")
        if not len(targets) or not len(queries):
            continue
        close = cross_pairs(q_bits[queries], t_bits[targets], settings.rescue_distance)
        i, j = queries[close[:, 0]], targets[close[:, 1]]
        # the combinations of allowed(): a turned view only with unmirrored views, two plain views not both mirrored
        keep = np.where(q_role[i] == "rotation", ~q_mirror[i] & ~t_mirror[j], np.where(q_role[i] == "plain", ~(q_mirror[i] & t_mirror[j]), True))
        if check:  # as for the candidate pairs: the views must also agree in dHash
            keep &= np.bitwise_count(q_checks[i] ^ t_checks[j]).sum(axis=1) <= settings.check_distance
        orphan, anchor = (q_owner[i], t_owner[j]) if orphan_first else (t_owner[j], q_owner[i])
        found.append(pd.DataFrame({"orphan": orphan[keep], "anchor": anchor[keep], "distance": close[keep, 2]}))
    if not found:
        return pd.DataFrame(columns=["orphan", "anchor", "distance"])
    pairs = pd.concat(found, ignore_index=True)
    pairs = pairs[pairs["orphan"] != pairs["anchor"]]
    return pairs.groupby(["orphan", "anchor"], as_index=False)["distance"].min()


def rescue_orphans(
    files: Files, order: list[int], anchor_of: dict[int, int], verifier: Verifier, decided: Iterable[tuple[int, int]] = ()
) -> list[tuple[int, int, Decision]]:
    """Give units left alone by the clustering a second search, at ``rescue_distance`` bits.

    A copy the views miss by a few bits (a watermark or a letterbox on a plain document,
    a crop of a texture, a turned page) has no candidate and stays alone. Its views are
    searched again against the anchors of all clusters (a member must match its anchor
    anyway), within the larger distance; the :data:`RESCUE_TRIES` nearest clusters are
    checked in turn, the anchor against it (or it against a lone unit ranked after it,
    which then joins it); pairs in ``decided`` (checked while clustering) are not checked
    again. The search and the checks concern lone units only, and anchors
    are few, so this costs little beside the clustering. Updates ``anchor_of``; returns
    the decisions taken.
    """
    rank = {unit: position for position, unit in enumerate(order)}
    members = defaultdict(int)
    for unit, anchor in anchor_of.items():
        members[anchor] += 1
    orphans = [unit for unit in order if members[anchor_of[unit]] == 1]
    if not orphans:
        return []
    anchors = sorted({anchor for anchor in anchor_of.values()}, key=rank.__getitem__)
    candidates = rescue_candidates(files, orphans, anchors)
    candidates = candidates.assign(_rank=candidates["anchor"].map(rank)).sort_values(["orphan", "distance", "_rank"])
    nearest = {orphan: group["anchor"].tolist() for orphan, group in candidates.groupby("orphan", sort=False)}
    decisions = []
    done = {frozenset(pair) for pair in decided}
    alone = set(orphans)
    for orphan in orphans:
        if orphan not in alone:
            continue  # joined an earlier lone unit
        tried = set()
        for target in nearest.get(orphan, []):
            anchor = anchor_of[target]
            if anchor in tried or anchor == orphan or frozenset((anchor, orphan)) in done:
                continue
            tried.add(anchor)
            root, unit = (orphan, anchor) if anchor in alone and rank[anchor] > rank[orphan] else (anchor, orphan)
            decision = verifier.verify(root, unit)
            decisions.append((root, unit, decision))
            if decision.accepted:
                anchor_of[unit] = root
                alone.discard(unit)
                alone.discard(root)
                break
            if len(tried) == RESCUE_TRIES:
                break
    return decisions


def _component_jobs(
    files: Files, frame: pd.DataFrame, unit_of: list[int], order: list[int], pairs: pd.DataFrame, urls: dict[int, frozenset[str]]
) -> list[ComponentJob]:
    """Components (2 units or more) of the graph of candidate pairs and shared URLs between units."""
    unit_array = np.asarray(unit_of, dtype=np.int64)
    x, y = unit_array[pairs["a"].to_numpy(dtype=np.int64)], unit_array[pairs["b"].to_numpy(dtype=np.int64)]
    by_url = defaultdict(list)
    for unit, unit_urls in urls.items():
        for url in unit_urls:
            by_url[url].append(unit)
    url_edges = [(p, q) for members in by_url.values() for p in members for q in members if p < q]
    if url_edges:
        x = np.concatenate([x, np.array([p for p, _ in url_edges], dtype=np.int64)])
        y = np.concatenate([y, np.array([q for _, q in url_edges], dtype=np.int64)])
    keep = x != y
    edges = np.unique(np.column_stack([np.minimum(x, y)[keep], np.maximum(x, y)[keep]]).reshape(-1, 2), axis=0)
    n = len(files.analyses)
    graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n)).tocsr()
    _, component = connected_components(graph, directed=False)
    both = (graph + graph.T).tocsr()  # neighbours in CSR form: a few bytes per pair of a dense family
    members = defaultdict(list)
    linked = np.diff(both.indptr) > 0
    for unit in order:  # root order within each component
        if linked[unit]:
            members[int(component[unit])].append(unit)
    jobs = []
    ranking = frame[["image_id", "width", "height", "bytes", "content_area", "box_width", "box_height", *tone_columns(frame), "index"]]
    for units in members.values():
        frame = files.frame.iloc[units]
        jobs.append(
            ComponentJob(
                units=units,
                paths=dict(zip(units, frame["path"])),
                stored_sizes={u: (int(w), int(h)) for u, w, h in zip(units, frame["width"], frame["height"])},
                boxes={u: files.analyses[u].box for u in units},
                codes={u: files.analyses[u].codes for u in units},
                neighbours=Neighbours.of(both, units),
                urls={u: urls[u] for u in units if u in urls},
                ranking=ranking.iloc[units],
            )
        )
    return sorted(jobs, key=lambda job: -len(job.units))


@dataclass
class Neighbours:
    """Each unit's neighbours in the candidate graph, for the units of one component (CSR arrays)."""

    units: np.ndarray  # sorted
    indptr: np.ndarray
    indices: np.ndarray

    @classmethod
    def of(cls, graph, units: list[int]) -> Neighbours:
        ordered = np.sort(np.asarray(units, dtype=np.int64))
        sub = graph[ordered]
        return cls(ordered, sub.indptr.astype(np.int64), sub.indices.astype(np.int64))

    def get(self, unit: int, default=()) -> list[int]:
        position = int(np.searchsorted(self.units, unit))
        if position == len(self.units) or self.units[position] != unit:
            return list(default)
        return self.indices[self.indptr[position] : self.indptr[position + 1]].tolist()


# --- the whole stage ---------------------------------------------------------------------------


@dataclass
class DedupeResult:
    clusters: pd.DataFrame
    hashes: pd.DataFrame
    pairs: pd.DataFrame
    # work done: distinct files, candidate pairs of distinct files, pixel checks, verifications
    stats: dict = field(default_factory=dict)


def dedupe(
    inventory: pd.DataFrame,
    settings: DedupeSettings,
    urls: pd.DataFrame | None = None,
    workers: int = 1,
    views: pd.DataFrame | None = None,
) -> DedupeResult:
    """Clusters, hashes and the evidence for every pair, for the kept images of ``inventory``
    (analysed here, or by the inventory: ``views``)."""
    started = time.perf_counter()
    kept = inventory.loc[inventory["status"] == KEPT].sort_values("image_id").reset_index(drop=True)
    files = analyse_files(kept, settings, workers, views)
    analysed = time.perf_counter()
    pairs = candidate_pairs(files)
    searched = time.perf_counter()
    logger.info(
        "%d candidate pairs among %d distinct files (views within %d bits), %.1f s so far",
        len(pairs), len(files.analyses), settings.max_distance, time.perf_counter() - started,
    )  # fmt: skip
    parent, digests = pixel_groups(files, pairs, workers)
    pixels_checked = time.perf_counter()

    # per distinct file: ranking columns; a unit (pixel group) is led by its best file
    frame = files.frame.assign(
        content_area=[a.content_area for a in files.analyses],
        box_width=[a.content_size[0] for a in files.analyses],
        box_height=[a.content_size[1] for a in files.analyses],
        colour=[a.colour for a in files.analyses],
        index=np.arange(len(files.analyses)),
    )
    ranked = root_order(frame)
    lead: dict[int, int] = {}
    for index in ranked["index"]:
        lead.setdefault(parent[index], int(index))
    unit_of = [lead[parent[index]] for index in range(len(parent))]
    order = [int(index) for index in ranked["index"] if unit_of[index] == index]

    unit_urls: dict[int, frozenset[str]] = {}
    if settings.by_url and urls is not None and len(urls):
        file_of_sha = dict(zip(files.frame["sha256"], range(len(files.frame))))
        sha_of = dict(zip(kept["image_id"], kept["sha256"]))
        grouped = defaultdict(set)
        for image_id, url in zip(urls["image_id"], urls["url"]):
            if image_id in sha_of:
                grouped[unit_of[file_of_sha[sha_of[image_id]]]].add(url)
        unit_urls = {unit: frozenset(found) for unit, found in grouped.items()}

    jobs = _component_jobs(files, frame, unit_of, order, pairs, unit_urls)
    logger.info("clustering %d components (%d units in them)", len(jobs), sum(len(job.units) for job in jobs))
    anchor_of = {unit: unit for unit in order}
    decisions: list[tuple[int, int, Decision]] = []
    for found_anchors, found_decisions in parallel_map(
        partial(cluster_component, settings=settings), jobs, workers, progress_every=max(1, len(jobs) // 10), label="components"
    ):
        anchor_of.update(found_anchors)
        decisions.extend(found_decisions)
    if settings.rescue_distance > settings.max_distance and settings.verify != "none":
        verifier = make_verifier(
            settings,
            lambda unit: files.frame["path"].iat[unit],
            lambda unit: (int(files.frame["width"].iat[unit]), int(files.frame["height"].iat[unit])),
            lambda unit: files.analyses[unit].box,
            lambda unit: files.analyses[unit].codes,
        )
        rescued = rescue_orphans(files, order, anchor_of, verifier, [(root, unit) for root, unit, _ in decisions])
        logger.info("rescue search: %d checks, %d lone images joined a cluster", len(rescued), sum(d.accepted for _, _, d in rescued))
        decisions.extend(rescued)
    verified = time.perf_counter()
    frame = discount_turned(frame, anchor_of, decisions)
    shared = shared_areas(frame, anchor_of, decisions)
    root_of = choose_roots(frame, anchor_of, shared)

    clusters = _cluster_rows(kept, files, frame, unit_of, anchor_of, root_of, decisions, shared)
    result = DedupeResult(
        clusters,
        _hash_rows(kept, files, digests),
        _pair_rows(kept, files, unit_of, decisions, pairs, unit_urls, clusters),
        {
            "files": len(files.analyses),
            "candidate_pairs": len(pairs),
            "pixel_checks": len(digests),
            "verified_pairs": len(decisions),
            "seconds": round(time.perf_counter() - started, 2),
            # wall time of each part: analyses (read or made), search, pixel checks, verification
            "analysis_seconds": round(analysed - started, 2),
            "search_seconds": round(searched - analysed, 2),
            "pixel_seconds": round(pixels_checked - searched, 2),
            "verify_seconds": round(verified - pixels_checked, 2),
        },
    )
    n_clusters = int(clusters["is_root"].sum())
    accepted = result.pairs[result.pairs["decision"] == "accepted"]
    logger.info(
        "%d kept images form %d clusters (%d duplicates) in %.1f s; accepted pairs by method: %s; rejected: %d",
        len(clusters), n_clusters, len(clusters) - n_clusters, time.perf_counter() - started,
        accepted["method"].value_counts().to_dict(), int((result.pairs["decision"] == "rejected").sum()),
    )  # fmt: skip
    return result


def _cluster_rows(kept, files, ranking, unit_of, anchor_of, root_of, decisions, shared) -> pd.DataFrame:
    file_of_sha = dict(zip(files.frame["sha256"], range(len(files.frame))))
    first = files.frame["image_id"].tolist()
    accepted = {(anchor, unit): decision for anchor, unit, decision in decisions if decision.accepted}
    rows = []
    images_of_unit = Counter(unit_of[file_of_sha[sha]] for sha in kept["sha256"])
    for image_id, sha in zip(kept["image_id"], kept["sha256"]):
        index = file_of_sha[sha]
        unit = unit_of[index]
        root, anchor = root_of[unit], anchor_of[unit]
        row = {"image_id": image_id, "cluster_id": first[root], "is_root": False, "distance": None, "root_reason": ""}
        if image_id != first[index]:
            row.update(match_type="exact", matched_to=first[index])
        elif index != unit:
            row.update(match_type="pixel", matched_to=first[unit])
        elif unit == root:
            row.update(match_type="root", matched_to=None, is_root=True)
        else:
            # verified against the anchor; the anchor itself (when not the root) against the root
            other = root if unit == anchor else anchor
            decision = accepted[(anchor, other if unit == anchor else unit)]
            row.update(match_type=decision.method, matched_to=first[other], distance=decision.distance if decision.method != "url" else None)
        row["content_area"] = files.analyses[index].content_area
        rows.append(row)
    clusters = pd.DataFrame(rows)
    # why each root leads: against the next unit of its cluster in root order, by shared content
    units = sorted(anchor_of)
    frame = ranking.loc[units, ["image_id", "width", "height", "bytes", "content_area", *tone_columns(ranking)]].assign(
        shared_area=[shared[u] for u in units], cluster_id=[first[root_of[u]] for u in units], unit=units,
    )  # fmt: skip
    frame["tone"] = tones(frame)
    ranked = root_order(frame)
    top_two = ranked.groupby("cluster_id", sort=False).head(2)
    runner_up = top_two[top_two["image_id"] != top_two["cluster_id"]].set_index("cluster_id")
    reasons = {}
    for root in ranked[ranked["image_id"] == ranked["cluster_id"]].to_dict("records"):
        alone = root["image_id"] not in runner_up.index
        copies = images_of_unit[int(root["unit"])] - 1
        reasons[root["image_id"]] = root_reason(root, None if alone else runner_up.loc[root["image_id"]].to_dict(), copies)
    clusters["root_reason"] = [reasons.get(image_id, "") if is_root else "" for image_id, is_root in zip(clusters["image_id"], clusters["is_root"])]
    clusters["distance"] = clusters["distance"].astype("Int64")
    return clusters.sort_values("image_id").reset_index(drop=True)[CLUSTER_COLUMNS]


def _hash_rows(kept, files, digests) -> pd.DataFrame:
    file_of_sha = dict(zip(files.frame["sha256"], range(len(files.frame))))
    rows = []
    for image_id, sha in zip(kept["image_id"], kept["sha256"]):
        index = file_of_sha[sha]
        analysis = files.analyses[index]
        left, top, right, bottom = analysis.box
        rows.append(
            {
                "image_id": image_id,
                "hash_kind": files.settings.hash,
                "hash_size": files.settings.hash_size,
                "perceptual_hash": analysis.codes[0],
                "pixel_sha256": digests.get(index, ""),
                "content_left": round(left * analysis.width),
                "content_top": round(top * analysis.height),
                "content_right": round(right * analysis.width),
                "content_bottom": round(bottom * analysis.height),
            }
        )
    return pd.DataFrame(rows, columns=HASH_COLUMNS)


def _pair_rows(kept, files, unit_of, decisions, pairs, unit_urls, clusters) -> pd.DataFrame:
    first = files.frame["image_id"].tolist()
    cluster_of = dict(zip(clusters["image_id"], clusters["cluster_id"]))
    rows = []
    file_of_sha = dict(zip(files.frame["sha256"], range(len(files.frame))))
    for image_id, sha in zip(kept["image_id"], kept["sha256"]):
        index = file_of_sha[sha]
        if image_id != first[index]:
            reason = "identical bytes (sha256)"
            rows.append({"image_a": first[index], "image_b": image_id, "method": "exact", "decision": "accepted", "reason": reason})
    for index, unit in enumerate(unit_of):
        if index != unit:
            reason = "identical decoded pixels"
            rows.append({"image_a": first[unit], "image_b": first[index], "method": "pixel", "decision": "accepted", "reason": reason})
    decided = set()
    for root, unit, decision in decisions:
        decided.add((min(root, unit), max(root, unit)))
        rows.append(
            {
                "image_a": first[root],
                "image_b": first[unit],
                "method": decision.method,
                "hash_distance": decision.distance,
                "alignment": decision.alignment,
                "inliers": decision.inliers,
                "overlap_a": decision.coverage_a,
                "overlap_b": decision.coverage_b,
                "agreement": decision.agreement,
                "largest_difference": decision.largest_difference,
                "motion": decision.motion,
                "decision": "accepted" if decision.accepted else "rejected",
                "reason": decision.reason,
            }
        )
    frame = pd.DataFrame(rows, columns=PAIR_COLUMNS)
    # candidates never compared, and that ended apart (pairs of one cluster were each
    # verified against its anchor): listed so that a researcher can look at them
    unit_array = np.asarray(unit_of, dtype=np.int64)
    x, y = unit_array[pairs["a"].to_numpy(dtype=np.int64)], unit_array[pairs["b"].to_numpy(dtype=np.int64)]
    candidates = pd.DataFrame({"x": np.minimum(x, y), "y": np.maximum(x, y), "distance": pairs["distance"].to_numpy()})
    by_url = defaultdict(list)
    for unit, urls in unit_urls.items():
        for url in urls:
            by_url[url].append(unit)
    shared_urls = pd.DataFrame([(p, q) for members in by_url.values() for p in members for q in members if p < q], columns=["x", "y"])
    candidates = pd.concat([candidates, shared_urls.assign(distance=np.nan)], ignore_index=True)
    candidates = candidates[candidates["x"] != candidates["y"]].sort_values("distance").drop_duplicates(["x", "y"])
    decided = pd.DataFrame([(min(r, u), max(r, u)) for r, u, _ in decisions], columns=["x", "y"]).assign(_decided=True)
    candidates = candidates.merge(decided, on=["x", "y"], how="left")
    first_array = np.asarray(first, dtype=object)
    cluster_x = pd.Series(first_array[candidates["x"].to_numpy(dtype=np.int64)]).map(cluster_of).to_numpy()
    cluster_y = pd.Series(first_array[candidates["y"].to_numpy(dtype=np.int64)]).map(cluster_of).to_numpy()
    apart = candidates["_decided"].isna().to_numpy() & (cluster_x != cluster_y)
    untested = candidates[apart]
    if len(untested):
        reasons = "not compared: neither anchors the other's cluster (" + cluster_x[apart] + " and " + cluster_y[apart] + ")"
        extra = pd.DataFrame(
            {
                "image_a": first_array[untested["x"].to_numpy(dtype=np.int64)],
                "image_b": first_array[untested["y"].to_numpy(dtype=np.int64)],
                "method": np.where(untested["distance"].isna(), "url", "hash"),
                "hash_distance": untested["distance"].to_numpy(),
                "decision": "not tested",
                "reason": reasons,
            }
        )
        frame = pd.concat([frame, extra.reindex(columns=PAIR_COLUMNS)], ignore_index=True)
    frame["same_cluster"] = [cluster_of[a] == cluster_of[b] for a, b in zip(frame["image_a"], frame["image_b"])]
    for column in ("hash_distance", "inliers"):
        frame[column] = frame[column].astype("Int64")
    frame["alignment"] = frame["alignment"].fillna("none")
    return frame.sort_values(["image_a", "image_b", "method"]).reset_index(drop=True)


# --- metadata URLs and files -------------------------------------------------------------------


def read_metadata_urls(path: str | os.PathLike, inventory: pd.DataFrame) -> pd.DataFrame:
    """image_id and url of kept images from the metadata CSV.

    Rows for images missing from the inventory are reported and ignored (the labels step
    is the strict one); rows for excluded images and empty URLs are ignored.
    """
    metadata = read_user_csv(path)  # any spreadsheet encoding; ids in NFC, as the inventory's
    missing = [column for column in ("image_id", "url") if column not in metadata.columns]
    if missing:
        raise ValueError(f"{path}: metadata CSV lacks the column(s) {missing}; it needs image_id and url")
    metadata["url"] = metadata["url"].str.strip()
    metadata = metadata.loc[metadata["url"] != "", ["image_id", "url"]]
    unknown = sorted(set(metadata["image_id"]) - set(inventory["image_id"]))
    if unknown:
        logger.warning(
            "%s: %d metadata rows name images that are not in the raw folder (ignored for dedupe), e.g. %s",
            path,
            int(metadata["image_id"].isin(unknown).sum()),
            unknown[:5],
        )
    kept_ids = set(inventory.loc[inventory["status"] == KEPT, "image_id"])
    return metadata.loc[metadata["image_id"].isin(kept_ids)].drop_duplicates().reset_index(drop=True)


def write_dedupe(
    inventory_csv: str | os.PathLike,
    clusters_csv: str | os.PathLike,
    hashes_csv: str | os.PathLike,
    pairs_csv: str | os.PathLike,
    settings: DedupeSettings,
    metadata_csv: str | os.PathLike | None = None,
    workers: int = 1,
    views_csv: str | os.PathLike | None = None,
) -> DedupeResult:
    """Read the inventory (its views, and the metadata); write clusters.csv, hashes.csv and pairs.csv atomically."""
    inventory = read_inventory(inventory_csv)
    urls = read_metadata_urls(metadata_csv, inventory) if (metadata_csv and settings.by_url) else None
    views = read_views(views_csv) if views_csv else None
    result = dedupe(inventory, settings, urls=urls, workers=workers, views=views)
    write_csv(result.hashes, hashes_csv)
    write_csv(result.pairs, pairs_csv)
    write_csv(result.clusters, clusters_csv)
    return result
