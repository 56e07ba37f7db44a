"""Exact search for all pairs of binary codes within a Hamming distance.

Multi-index hashing (Norouzi, Punjani & Fleet, "Fast search in Hamming space with
multi-index hashing", CVPR 2012) with per-chunk radii and an expected-cost model that
chooses the number of chunks, falling back to comparing every pair where that is
cheaper. Generic: codes are rows of a boolean matrix; nothing here knows about images.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Iterator

import numpy as np

# Chunk keys are read as one unsigned 64-bit integer each.
_MAX_CHUNK_BITS = 64
# Query keys looked up at once, and candidate pairs expanded at once: each bounds the
# length of the temporary arrays (a few int64 arrays of this many rows).
_QUERY_BATCH = 1 << 21
_CANDIDATE_BATCH = 1 << 21
# A chunk's buckets are found by indexing tables of 2^width entries (8 bytes each) when
# they have at most this many entries per code (or 2^16 in all), else by binary search.
_TABLE_ENTRIES_PER_CODE = 16
_TABLE_MIN_ENTRIES = 1 << 16
# Times of one bucket look-up (by table or by binary search) and of reading a non-empty
# bucket, over the time of expanding and verifying one candidate code. Measured with
# 64-bit codes on 200,000 random codes (about 12, 195, 44 and 13 ns); they only steer
# the choice of the number of chunks.
_TABLE_LOOKUP_COST = 0.9
_SEARCH_LOOKUP_COST = 15.0
_HIT_COST = 3.3
_EMPTY_PAIRS = np.zeros((0, 3), dtype=np.int64)


@dataclass(frozen=True)
class ChunkPlan:
    """Disjoint bit ranges ``(start, stop)`` of the codes, each searched within a Hamming radius."""

    bounds: tuple[tuple[int, int], ...]
    radii: tuple[int, ...]
    # expected work per code, in candidate verifications (see plan_chunks)
    cost: float


@dataclass
class SearchStats:
    """Work done by one search, for tests and benchmarks."""

    codes: int = 0
    distinct_codes: int = 0
    n_chunks: int = 0
    # distinct codes x keys within the chunk radius, summed over chunks
    lookups: int = 0
    # pairs (i < j) of distinct codes whose full distance was computed, once per chunk proposing them
    candidates: int = 0


def chunk_radii(n_chunks: int, max_distance: int) -> tuple[int, ...]:
    """Per-chunk radii ``r_k`` with ``sum(r_k + 1) = max_distance + 1``, as equal as possible.

    With ``d = r m + a`` (``0 <= a < m``) the first ``a + 1`` chunks get ``r`` and the
    others ``r - 1``. Needs ``n_chunks <= max_distance + 1`` so that no radius is negative.
    """
    if not 1 <= n_chunks <= max_distance + 1:
        raise ValueError(f"{n_chunks} chunks for distance {max_distance}: need 1 to {max_distance + 1}")
    radius, extra = divmod(max_distance, n_chunks)
    return (radius,) * (extra + 1) + (radius - 1,) * (n_chunks - extra - 1)


def _masks_within(width: int, radius: int) -> int:
    return sum(math.comb(width, flips) for flips in range(min(radius, width) + 1))


def _split(n_bits: int, n_chunks: int) -> tuple[tuple[int, int], ...]:
    edges = np.linspace(0, n_bits, n_chunks + 1).round().astype(int).tolist()
    return tuple(zip(edges[:-1], edges[1:]))


def _use_table(width: int, n_codes: int) -> bool:
    return 2**width <= max(_TABLE_MIN_ENTRIES, _TABLE_ENTRIES_PER_CODE * n_codes)


def _query_cost(width: int, n_codes: int) -> float:
    """Expected cost of looking up one key among ``n_codes`` evenly spread ``width``-bit keys."""
    per_bucket = n_codes / 2.0**width
    lookup = _TABLE_LOOKUP_COST if _use_table(width, n_codes) else _SEARCH_LOOKUP_COST
    return lookup + _HIT_COST * -math.expm1(-per_bucket) + per_bucket


def chunk_plan(bits: int, n_chunks: int, n_codes: int, max_distance: int) -> ChunkPlan:
    """``n_chunks`` chunks of near-equal width over the leading ``min(bits, 64 n_chunks)`` bits.

    A chunk key is one 64-bit integer; bits left out of the chunks are still verified.
    Radii come from :func:`chunk_radii`; the cost is explained in :func:`plan_chunks`.
    """
    if not 0 <= max_distance < bits:
        raise ValueError(f"max_distance {max_distance} must be 0 to {bits - 1} for {bits}-bit codes")
    bounds = _split(min(bits, _MAX_CHUNK_BITS * n_chunks), n_chunks)
    radii = chunk_radii(n_chunks, max_distance)
    cost = sum(
        _masks_within(stop - start, radius) * _query_cost(stop - start, n_codes)
        for (start, stop), radius in zip(bounds, radii)
    )
    return ChunkPlan(bounds, radii, cost)


def plan_chunks(bits: int, n_codes: int, max_distance: int) -> ChunkPlan:
    """The chunking of ``bits``-bit codes (1 to ``max_distance + 1`` chunks) with the least expected work.

    For ``n`` codes spread evenly over the ``2^b`` keys of a ``b``-bit chunk searched
    within radius ``r``, a code looks up ``V(b, r) = sum_{i <= r} C(b, i)`` keys and
    finds ``n / 2^b`` codes in each bucket; with ``c`` a look-up's cost relative to a
    candidate's (:func:`_query_cost`), a code costs ``sum_k V(b_k, r_k) (c + n / 2^b_k)``.
    More chunks mean fewer keys but fuller buckets; the cheapest has ``b`` near
    ``log2 n``, as in Norouzi et al.'s ``m = B / log2 n`` (e.g. 5 chunks for 4,000 64-bit
    codes at ``d = 8``, 3 for a million).
    """
    plans = [chunk_plan(bits, n_chunks, n_codes, max_distance) for n_chunks in range(1, max_distance + 2)]
    return min(plans, key=lambda plan: plan.cost)


def flip_masks(width: int, radius: int) -> np.ndarray:
    """Every ``width``-bit value with at most ``radius`` bits set (uint64), fewest bits first."""
    masks = [
        sum(1 << position for position in positions)
        for flips in range(min(radius, width) + 1)
        for positions in itertools.combinations(range(width), flips)
    ]
    return np.array(masks, dtype=np.uint64)


def _pack_words(bits: np.ndarray) -> np.ndarray:
    """Rows of ``bits`` as uint64 words (zero padded), for popcount distances."""
    n, width = bits.shape
    padded = np.zeros((n, _MAX_CHUNK_BITS * max(1, -(-width // _MAX_CHUNK_BITS))), dtype=bool)
    padded[:, :width] = bits
    return np.packbits(padded, axis=1).view(np.uint64)


def _chunk_keys(bits: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Bits ``start:stop`` of each row as an unsigned integer (at most 64 bits)."""
    padded = np.zeros((len(bits), _MAX_CHUNK_BITS), dtype=bool)
    padded[:, _MAX_CHUNK_BITS - (stop - start) :] = bits[:, start:stop]
    return np.packbits(padded, axis=1).view(">u8").ravel().astype(np.uint64)


def _hamming(words: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    return np.bitwise_count(words[i] ^ words[j]).sum(axis=1, dtype=np.int64)


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(start, start + count)`` for each pair."""
    offsets = np.cumsum(counts) - counts
    return np.arange(int(counts.sum()), dtype=np.int64) + np.repeat(starts - offsets, counts)


def _slices_by_total(counts: np.ndarray, limit: int) -> Iterator[slice]:
    """Consecutive slices of ``counts`` summing to at most ``limit`` (or one entry if it is larger)."""
    ends = np.cumsum(counts)
    start = 0
    while start < len(counts):
        done = int(ends[start - 1]) if start else 0
        stop = max(start + 1, int(np.searchsorted(ends, done + limit, side="right")))
        yield slice(start, stop)
        start = stop


class _Buckets:
    """Codes grouped by a chunk key, with the codes of key ``k`` at ``order[start:start + count]``."""

    def __init__(self, keys: np.ndarray, width: int) -> None:
        self.order = np.argsort(keys, kind="stable")
        self.sorted_keys = keys[self.order]
        self.counts = self.starts = None
        if _use_table(width, len(keys)):
            # direct addressing: a few nanoseconds a look-up instead of a binary search
            index_type = np.int32 if len(keys) < 2**31 else np.int64
            self.counts = np.bincount(keys.astype(np.intp), minlength=2**width).astype(index_type)
            self.starts = (np.cumsum(self.counts, dtype=np.int64) - self.counts).astype(index_type)

    def find(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(positions of the queries whose bucket is not empty, its start, its count)."""
        if self.counts is not None:
            count = self.counts[queries.astype(np.intp)]
            hit = np.flatnonzero(count)
            return hit, self.starts[queries[hit].astype(np.intp)].astype(np.int64), count[hit].astype(np.int64)
        lo = np.searchsorted(self.sorted_keys, queries, "left")
        hit = np.flatnonzero(self.sorted_keys[np.minimum(lo, len(self.sorted_keys) - 1)] == queries)
        lo = lo[hit]
        return hit, lo, np.searchsorted(self.sorted_keys, queries[hit], "right") - lo


def _chunk_candidates(
    keys: np.ndarray, width: int, masks: np.ndarray, query_keys: np.ndarray | None = None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Pairs ``(i, j)`` whose keys differ by one of ``masks``, in batches of bounded size.

    Without ``query_keys``: pairs ``i < j`` among ``keys``. With them: ``i`` indexes
    ``query_keys`` and ``j`` indexes ``keys``.
    """
    buckets = _Buckets(keys, width)
    own = query_keys is None
    query_keys = keys if own else query_keys
    per_batch = max(1, _QUERY_BATCH // len(query_keys))
    for first in range(0, len(masks), per_batch):
        queries = (masks[first : first + per_batch, None] ^ query_keys[None, :]).ravel()
        hit, start, count = buckets.find(queries)
        query_code = hit % len(query_keys)
        for part in _slices_by_total(count, _CANDIDATE_BATCH):
            i = np.repeat(query_code[part], count[part])
            j = buckets.order[_ranges(start[part], count[part])]
            if own:
                keep = i < j
                i, j = i[keep], j[keep]
            yield i, j


def _multi_index_pairs(
    bits: np.ndarray, words: np.ndarray, plan: ChunkPlan, max_distance: int, stats: SearchStats
) -> np.ndarray:
    """(i, j, distance) rows, i < j, for distinct codes within ``max_distance``, by the chunk plan."""
    found = [_EMPTY_PAIRS]
    for (start, stop), radius in zip(plan.bounds, plan.radii):
        masks = flip_masks(stop - start, radius)
        stats.lookups += len(bits) * len(masks)
        for i, j in _chunk_candidates(_chunk_keys(bits, start, stop), stop - start, masks):
            stats.candidates += len(i)
            distance = _hamming(words, i, j)
            close = distance <= max_distance
            found.append(np.column_stack([i[close], j[close], distance[close]]))
    # a pair close in several chunks is proposed by each
    return np.unique(np.concatenate(found), axis=0)


def _all_close_pairs(words: np.ndarray, max_distance: int, stats: SearchStats) -> np.ndarray:
    """(i, j, distance) rows, i < j, comparing every pair (blocks of rows bound the memory)."""
    n = len(words)
    found = [_EMPTY_PAIRS]
    block = max(1, _CANDIDATE_BATCH // max(1, n))
    for start in range(0, n - 1, block):
        rows = np.arange(start, min(start + block, n))
        i = np.repeat(rows, n - 1 - rows)
        j = _ranges(rows + 1, n - 1 - rows)
        stats.candidates += len(i)
        distance = _hamming(words, i, j)
        close = distance <= max_distance
        found.append(np.column_stack([i[close], j[close], distance[close]]))
    return np.concatenate(found)


def _expand_identical(pairs: np.ndarray, group_of: np.ndarray) -> np.ndarray:
    """Row pairs, sorted, from pairs of distinct codes and rows sharing a code (distance 0).

    ``group_of[row]`` is the row's distinct code; ``pairs`` are (code, code, distance).
    """
    sizes = np.bincount(group_of)
    shared = np.flatnonzero(sizes > 1)
    code_pairs = np.concatenate([pairs, np.column_stack([shared, shared, np.zeros_like(shared)])])
    x, y, distance = _expand_groups(code_pairs, group_of, group_of).T
    # within one code each unordered pair appears twice, and each row with itself
    keep = (group_of[x] != group_of[y]) | (x < y)
    i, j = np.minimum(x, y)[keep], np.maximum(x, y)[keep]
    rows = np.column_stack([i, j, distance[keep]]).astype(np.int64)
    return rows[np.lexsort((j, i))]


def near_pairs(bits: np.ndarray, max_distance: int) -> np.ndarray:
    """All pairs of rows of ``bits`` (n x B booleans) within Hamming distance ``max_distance``.

    Multi-index hashing (Norouzi, Punjani & Fleet, "Fast search in Hamming space with
    multi-index hashing", CVPR 2012). Rows with identical codes are grouped first and
    their pairs listed directly (distance 0); the search runs over the ``u`` distinct
    codes, cut into ``m`` disjoint chunks (:func:`plan_chunks`) with radii ``r_k`` such
    that ``sum_k (r_k + 1) = d + 1`` (:func:`chunk_radii`).

    Exact: if two codes within ``d`` differed by more than ``r_k`` on every chunk ``k``,
    the disjoint chunks alone would hold ``sum_k (r_k + 1) = d + 1 > d`` differing bits.
    So each such pair is within ``r_k`` on some chunk ``k``, and it is proposed there:
    every code looks up, in a bucket index of chunk ``k``, each key within ``r_k`` of its
    own (its key XOR each of the ``V(b_k, r_k) = sum_{i <= r_k} C(b_k, i)`` masks).
    Proposed pairs are verified on all ``B`` bits.

    Work, for codes spread evenly: per code ``sum_k V(b_k, r_k)`` look-ups, and as many
    times ``u / 2^b_k`` candidates. With chunks of ``b ~ log2 u`` bits and radii
    ``r ~ d b / B``, ``V(b, r) <= 2^(b H(d/B)) = u^H(d/B)`` (``H``: binary entropy), so
    the total is about ``u^(1 + H(d/B))``: sub-quadratic for ``d < B/2``, about
    ``u^1.54`` for 64-bit hashes and ``d = 8`` (measured growth is slower, see
    bench/README.md), against about ``u^2 / 28`` candidates for ``d + 1`` exact chunks.
    Codes crowded on a few chunk values fill buckets and cost more; no exact method
    avoids that in the worst case. Memory is ``O(n B)``: codes, one chunk's bucket
    index at a time (at most ``max(2^16, 16 u)`` table entries), and batches of bounded size.
    Every pair is compared instead when that is cheaper (few codes, ``d`` near ``B / 2``,
    or ``d >= B``, where every pair matches).

    Returns an int array of rows ``(i, j, distance)`` with ``i < j``, sorted.
    """
    return search_near_pairs(bits, max_distance)[0]


def search_near_pairs(
    bits: np.ndarray, max_distance: int, n_chunks: int | None = None
) -> tuple[np.ndarray, SearchStats]:
    """:func:`near_pairs` and the work it took.

    ``n_chunks`` forces multi-index hashing with that many chunks (for tests and
    benchmarks); by default :func:`plan_chunks` chooses, and every pair is compared
    instead when that is expected to be cheaper (few codes, or a radius near ``B / 2``).
    """
    n, width = bits.shape
    stats = SearchStats(codes=n)
    if n < 2:
        return _EMPTY_PAIRS, stats
    words = _pack_words(bits)
    distinct, first, group_of = np.unique(words, axis=0, return_index=True, return_inverse=True)
    stats.distinct_codes = u = len(distinct)
    plan = None
    if n_chunks is not None:
        plan = chunk_plan(width, n_chunks, u, max_distance)
    elif max_distance < width:
        plan = plan_chunks(width, u, max_distance)
        plan = plan if plan.cost < (u - 1) / 2 else None
    if plan is None:
        close = _all_close_pairs(distinct, max_distance, stats)
    else:
        stats.n_chunks = len(plan.bounds)
        close = _multi_index_pairs(bits[first], distinct, plan, max_distance, stats)
    return _expand_identical(close, group_of.reshape(-1)), stats


# --- two sets of codes ----------------------------------------------------------------


def _hamming_across(left: np.ndarray, right: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    return np.bitwise_count(left[i] ^ right[j]).sum(axis=1, dtype=np.int64)


def _expand_groups(pairs: np.ndarray, left_group: np.ndarray, right_group: np.ndarray) -> np.ndarray:
    """Row pairs from pairs of distinct codes: every left row of code ``a`` with every right row of code ``b``."""
    left_members, right_members = np.argsort(left_group, kind="stable"), np.argsort(right_group, kind="stable")
    left_sizes, right_sizes = np.bincount(left_group), np.bincount(right_group)
    left_starts, right_starts = np.cumsum(left_sizes) - left_sizes, np.cumsum(right_sizes) - right_sizes
    a, b, distance = pairs.T
    products = left_sizes[a] * right_sizes[b]
    owner = np.repeat(np.arange(len(pairs)), products)
    slot = _ranges(np.zeros_like(products), products)
    x = left_members[left_starts[a][owner] + slot // right_sizes[b][owner]]
    y = right_members[right_starts[b][owner] + slot % right_sizes[b][owner]]
    rows = np.column_stack([x, y, distance[owner]]).astype(np.int64)
    return rows[np.lexsort((y, x))]


def cross_pairs(queries: np.ndarray, codes: np.ndarray, max_distance: int) -> np.ndarray:
    """All pairs of a row of ``queries`` and a row of ``codes`` within Hamming distance ``max_distance``.

    The bipartite form of :func:`near_pairs`, for codes that should only be compared
    with another set (crop windows against whole pictures, not against each other's
    windows): multi-index hashing indexes the distinct ``codes`` by chunks, and each
    distinct query looks up the keys within its chunk radius, with the same exactness
    argument and chunk plan; every pair is compared when the cost model expects that
    to be cheaper. Returns int rows ``(query row, code row, distance)``, sorted.
    """
    return search_cross_pairs(queries, codes, max_distance)[0]


def search_cross_pairs(
    queries: np.ndarray, codes: np.ndarray, max_distance: int, n_chunks: int | None = None
) -> tuple[np.ndarray, SearchStats]:
    """:func:`cross_pairs` and the work it took (``codes`` counts both sets; ``n_chunks`` as in :func:`search_near_pairs`)."""
    if queries.shape[1] != codes.shape[1]:
        raise ValueError(f"codes of {queries.shape[1]} and {codes.shape[1]} bits cannot be compared")
    width = codes.shape[1]
    stats = SearchStats(codes=len(queries) + len(codes))
    if len(queries) == 0 or len(codes) == 0:
        return _EMPTY_PAIRS, stats
    query_words, code_words = _pack_words(queries), _pack_words(codes)
    distinct_queries, query_first, query_group = np.unique(query_words, axis=0, return_index=True, return_inverse=True)
    distinct_codes, code_first, code_group = np.unique(code_words, axis=0, return_index=True, return_inverse=True)
    stats.distinct_codes = len(distinct_queries) + len(distinct_codes)
    plan = None
    if n_chunks is not None:
        plan = chunk_plan(width, n_chunks, len(distinct_codes), max_distance)
    elif max_distance < width:
        plan = plan_chunks(width, len(distinct_codes), max_distance)
        plan = plan if plan.cost < len(distinct_codes) else None
    found = [_EMPTY_PAIRS]
    if plan is None:
        block = max(1, _CANDIDATE_BATCH // len(distinct_codes))
        for start in range(0, len(distinct_queries), block):
            rows = np.arange(start, min(start + block, len(distinct_queries)))
            i, j = np.repeat(rows, len(distinct_codes)), np.tile(np.arange(len(distinct_codes)), len(rows))
            found.append(_close(distinct_queries, distinct_codes, i, j, max_distance, stats))
    else:
        stats.n_chunks = len(plan.bounds)
        query_bits, code_bits = queries[query_first], codes[code_first]
        for (start, stop), radius in zip(plan.bounds, plan.radii):
            masks = flip_masks(stop - start, radius)
            stats.lookups += len(distinct_queries) * len(masks)
            keys, query_keys = _chunk_keys(code_bits, start, stop), _chunk_keys(query_bits, start, stop)
            for i, j in _chunk_candidates(keys, stop - start, masks, query_keys):
                found.append(_close(distinct_queries, distinct_codes, i, j, max_distance, stats))
    close = np.unique(np.concatenate(found), axis=0)
    return _expand_groups(close, query_group.reshape(-1), code_group.reshape(-1)), stats


def _close(left: np.ndarray, right: np.ndarray, i: np.ndarray, j: np.ndarray, max_distance: int, stats: SearchStats) -> np.ndarray:
    stats.candidates += len(i)
    distance = _hamming_across(left, right, i, j)
    keep = distance <= max_distance
    return np.column_stack([i[keep], j[keep], distance[keep]])
