"""Duplicate clusters among the kept images.

Four kinds of evidence link two images (``match_type``):

- ``exact``: identical file bytes (same sha256);
- ``pixel``: different bytes, identical decoded pixels (upright RGB, same size);
- ``near``: perceptual hashes (``imagehash``) within ``max_distance`` bits (Hamming);
- ``url``: the metadata CSV gives both the same URL (the book's first suggestion).

Linked images form clusters (connected components of the match graph: the union-find
closure, so links are transitive). Each cluster's root is the member with the most
pixels, then the most bytes, then the smallest image_id. Every other member records
how it joined: the edge to its parent in a spanning tree grown from the root that
prefers the strongest evidence (exact, then pixel, then near by distance, then url).
"""

from __future__ import annotations

import hashlib
import heapq
import logging
import os
from collections import defaultdict
from dataclasses import dataclass
from functools import partial
from typing import Iterable

import imagehash
import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ..common.atomic import write_csv
from ..common.parallel import parallel_map
from ..common.tables import read_user_csv
from .hamming import near_pairs
from .inventory import KEPT, read_inventory
from .resize import open_rgb

logger = logging.getLogger(__name__)

CLUSTER_COLUMNS = ["image_id", "cluster_id", "is_root", "match_type", "distance", "matched_to"]
HASH_COLUMNS = ["image_id", "hash_kind", "hash_size", "perceptual_hash", "pixel_sha256"]
EDGE_COLUMNS = ["image_a", "image_b", "match_type", "distance"]

HASH_FUNCTIONS = {
    "phash": imagehash.phash,
    "dhash": imagehash.dhash,
    "ahash": imagehash.average_hash,
    "whash": imagehash.whash,
}
# Lower = stronger evidence; the spanning tree that explains each member prefers it.
MATCH_STRENGTH = {"exact": 0, "pixel": 1, "near": 2, "url": 3}


@dataclass(frozen=True)
class DedupeSettings:
    """Config section ``dedupe``."""

    hash: str = "phash"
    hash_size: int = 8
    max_distance: int = 8
    pixel_identical: bool = True
    by_url: bool = True

    def __post_init__(self) -> None:
        if self.hash not in HASH_FUNCTIONS:
            raise ValueError(f"dedupe.hash: '{self.hash}' is not one of {sorted(HASH_FUNCTIONS)}")
        if self.hash == "whash" and self.hash_size & (self.hash_size - 1):
            raise ValueError(f"dedupe.hash_size: whash needs a power of 2, got {self.hash_size}")
        if self.max_distance < 0:
            raise ValueError(f"dedupe.max_distance must be 0 or more, got {self.max_distance}")

    @property
    def bits(self) -> int:
        return self.hash_size * self.hash_size


# --- hashing -----------------------------------------------------------------------


def pixel_sha256(image) -> str:
    """sha256 of an RGB image's size and pixel bytes (equal only for identical pixels)."""
    digest = hashlib.sha256(f"{image.width}x{image.height}:".encode())
    digest.update(image.tobytes())
    return digest.hexdigest()


def hash_image(path: str, hash_name: str, hash_size: int) -> tuple[str, str]:
    """(perceptual hash as hex, pixel sha256) of the upright RGB first frame of ``path``."""
    try:
        rgb, _ = open_rgb(path)
    except Exception as error:  # noqa: BLE001 - name the file whatever the decoder raised
        raise RuntimeError(
            f"{path}: cannot decode for hashing ({type(error).__name__}: {error}); "
            "the file changed since the inventory? rerun the inventory rule"
        ) from error
    return str(HASH_FUNCTIONS[hash_name](rgb, hash_size=hash_size)), pixel_sha256(rgb)


def compute_hashes(kept: pd.DataFrame, settings: DedupeSettings, workers: int = 1) -> pd.DataFrame:
    """Hashes of every kept image; each distinct file (sha256) is decoded once."""
    distinct = kept.sort_values("image_id").drop_duplicates("sha256")
    logger.info("hashing %d distinct files (%d kept images)", len(distinct), len(kept))
    results = parallel_map(
        partial(hash_image, hash_name=settings.hash, hash_size=settings.hash_size),
        distinct["path"].tolist(),
        workers,
        label="hashing",
    )
    by_sha = dict(zip(distinct["sha256"], results))
    hashes = pd.DataFrame(
        {
            "image_id": kept["image_id"].to_numpy(),
            "hash_kind": settings.hash,
            "hash_size": settings.hash_size,
            "perceptual_hash": [by_sha[sha][0] for sha in kept["sha256"]],
            "pixel_sha256": [by_sha[sha][1] for sha in kept["sha256"]],
        }
    )
    return hashes.sort_values("image_id").reset_index(drop=True)[HASH_COLUMNS]


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


# --- match edges ---------------------------------------------------------------------


def _star_edges(groups: Iterable[list[str]], match_type: str) -> list[tuple[str, str, str, int | None]]:
    """Link every member of each group to the group's first member."""
    edges = []
    for members in groups:
        first = members[0]
        edges.extend((first, other, match_type, None) for other in members[1:])
    return edges


def _groups(ids: pd.Series, keys: pd.Series) -> list[list[str]]:
    frame = pd.DataFrame({"image_id": ids.to_numpy(), "key": keys.to_numpy()}).dropna()
    frame = frame.sort_values(["key", "image_id"])
    return [group.tolist() for _, group in frame.groupby("key", sort=True)["image_id"] if len(group) > 1]


def exact_edges(kept: pd.DataFrame) -> list[tuple]:
    """Edges between files with identical bytes."""
    return _star_edges(_groups(kept["image_id"], kept["sha256"]), "exact")


def pixel_edges(kept: pd.DataFrame, hashes: pd.DataFrame) -> list[tuple]:
    """Edges between files with different bytes but identical decoded pixels."""
    frame = kept[["image_id", "sha256"]].merge(hashes[["image_id", "pixel_sha256"]], on="image_id")
    one_per_file = frame.sort_values("image_id").drop_duplicates("sha256")
    return _star_edges(_groups(one_per_file["image_id"], one_per_file["pixel_sha256"]), "pixel")


def near_edges(hashes: pd.DataFrame, settings: DedupeSettings) -> list[tuple]:
    """Edges between images whose perceptual hashes are within ``max_distance`` bits.

    Images with the same hash are linked to the first of them (distance 0); the search
    runs over distinct hash values and links the first image of each pair of values.
    """
    ordered = hashes.sort_values("image_id")
    groups = ordered.groupby("perceptual_hash", sort=True)["image_id"].agg(list)
    edges = [(members[0], other, "near", 0) for members in groups for other in members[1:]]
    bits = hex_to_bits(groups.index, settings.bits)
    firsts = [members[0] for members in groups]
    for i, j, distance in near_pairs(bits, settings.max_distance).tolist():
        edges.append((firsts[i], firsts[j], "near", int(distance)))
    return edges


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


def url_edges(urls: pd.DataFrame) -> list[tuple]:
    """Edges between images sharing a URL."""
    return _star_edges(_groups(urls["image_id"], urls["url"]), "url")


# --- clusters ------------------------------------------------------------------------


def root_order(images: pd.DataFrame) -> pd.DataFrame:
    """Images ordered by root preference: most pixels, then most bytes, then smallest id."""
    ranked = images.assign(pixels=images["width"].astype("int64") * images["height"].astype("int64"))
    ranked = ranked.assign(neg_pixels=-ranked["pixels"], neg_bytes=-ranked["bytes"].astype("int64"))
    return ranked.sort_values(["neg_pixels", "neg_bytes", "image_id"]).drop(columns=["neg_pixels", "neg_bytes"])


def _edge_priority(match_type: str, distance: int | None, image_id: str) -> tuple:
    return (MATCH_STRENGTH[match_type], distance or 0, image_id)


def build_clusters(images: pd.DataFrame, edges: pd.DataFrame) -> pd.DataFrame:
    """Cluster rows for ``images`` (image_id, width, height, bytes) linked by ``edges``.

    Clusters are the connected components of the match graph. Each member's
    ``match_type``/``distance``/``matched_to`` is its edge to its parent in a tree grown
    from the root (Prim's order), taking the strongest available edge first.
    """
    ids = images["image_id"].tolist()
    index = {image_id: position for position, image_id in enumerate(ids)}
    unknown = sorted(set(edges["image_a"]).union(edges["image_b"]) - set(index))
    if unknown:
        raise ValueError(f"match edges name images that are not kept: {unknown[:5]}")
    a = edges["image_a"].map(index).to_numpy(dtype=np.int64)
    b = edges["image_b"].map(index).to_numpy(dtype=np.int64)
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(len(ids), len(ids)))
    _, component = connected_components(graph, directed=False)

    root_of_component: dict[int, str] = {}
    for image_id in root_order(images)["image_id"]:
        root_of_component.setdefault(int(component[index[image_id]]), image_id)

    neighbours: dict[str, list[tuple[str, str, int | None]]] = defaultdict(list)
    for left, right, match_type, distance in edges[EDGE_COLUMNS].itertuples(index=False, name=None):
        distance = None if pd.isna(distance) else int(distance)
        neighbours[left].append((right, match_type, distance))
        neighbours[right].append((left, match_type, distance))

    joined: dict[str, tuple[str, str | None, int | None]] = {}
    for root in root_of_component.values():
        joined[root] = ("root", None, None)
        frontier = [(_edge_priority(t, d, other), other, root, t, d) for other, t, d in neighbours[root]]
        heapq.heapify(frontier)
        while frontier:
            _, member, parent, match_type, distance = heapq.heappop(frontier)
            if member in joined:
                continue
            joined[member] = (match_type, parent, distance)
            for other, t, d in neighbours[member]:
                if other not in joined:
                    heapq.heappush(frontier, (_edge_priority(t, d, other), other, member, t, d))

    rows = []
    for image_id in ids:
        match_type, parent, distance = joined[image_id]
        rows.append(
            {
                "image_id": image_id,
                "cluster_id": root_of_component[int(component[index[image_id]])],
                "is_root": match_type == "root",
                "match_type": match_type,
                "distance": distance if match_type == "near" else None,
                "matched_to": parent,
            }
        )
    clusters = pd.DataFrame(rows, columns=CLUSTER_COLUMNS)
    clusters["distance"] = clusters["distance"].astype("Int64")
    return clusters.sort_values("image_id").reset_index(drop=True)


def match_edges(
    kept: pd.DataFrame, hashes: pd.DataFrame, settings: DedupeSettings, urls: pd.DataFrame | None = None
) -> pd.DataFrame:
    """All match edges among kept images, as a frame (image_a, image_b, match_type, distance)."""
    edges = exact_edges(kept)
    if settings.pixel_identical:
        edges += pixel_edges(kept, hashes)
    edges += near_edges(hashes, settings)
    if settings.by_url and urls is not None:
        edges += url_edges(urls)
    frame = pd.DataFrame(edges, columns=EDGE_COLUMNS)
    frame["distance"] = frame["distance"].astype("Int64")
    for match_type in MATCH_STRENGTH:
        logger.info("%s match edges: %d", match_type, int((frame["match_type"] == match_type).sum()))
    return frame


def dedupe(
    inventory: pd.DataFrame,
    settings: DedupeSettings,
    urls: pd.DataFrame | None = None,
    workers: int = 1,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(clusters, hashes) for the kept images of ``inventory``."""
    kept = inventory.loc[inventory["status"] == KEPT].sort_values("image_id").reset_index(drop=True)
    hashes = compute_hashes(kept, settings, workers=workers)
    edges = match_edges(kept, hashes, settings, urls)
    clusters = build_clusters(kept[["image_id", "width", "height", "bytes"]], edges)
    n_clusters = int(clusters["is_root"].sum())
    logger.info("%d kept images form %d clusters (%d duplicates)", len(clusters), n_clusters, len(clusters) - n_clusters)
    return clusters, hashes


def write_dedupe(
    inventory_csv: str | os.PathLike,
    clusters_csv: str | os.PathLike,
    hashes_csv: str | os.PathLike,
    settings: DedupeSettings,
    metadata_csv: str | os.PathLike | None = None,
    workers: int = 1,
) -> pd.DataFrame:
    """Read the inventory (and metadata), write clusters.csv and hashes.csv atomically."""
    inventory = read_inventory(inventory_csv)
    urls = read_metadata_urls(metadata_csv, inventory) if (metadata_csv and settings.by_url) else None
    clusters, hashes = dedupe(inventory, settings, urls=urls, workers=workers)
    write_csv(hashes, hashes_csv)
    write_csv(clusters, clusters_csv)
    return clusters
