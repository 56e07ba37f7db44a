"""Hamming search: multi-index hashing against brute force, chunk plans and their cost."""

from __future__ import annotations

import math

import numpy as np
import pytest

from images_as_data.prepare import hamming
from images_as_data.prepare.hamming import (
    chunk_plan,
    chunk_radii,
    cross_pairs,
    flip_masks,
    near_pairs,
    plan_chunks,
    search_cross_pairs,
    search_near_pairs,
)


def brute_force(bits: np.ndarray, max_distance: int) -> np.ndarray:
    packed = np.packbits(bits, axis=1)
    distance = np.bitwise_count(packed[:, None, :] ^ packed[None, :, :]).sum(axis=-1, dtype=np.int64)
    i, j = np.nonzero(np.triu(distance <= max_distance, k=1))
    return np.column_stack([i, j, distance[i, j]])


@pytest.mark.parametrize("seed", range(12))
def test_multi_index_search_equals_brute_force(seed: int):
    rng = np.random.default_rng(seed)
    width = int(rng.choice([16, 25, 64, 100]))
    max_distance = int(rng.integers(0, 12))
    n = int(rng.integers(2, 250))
    bits = rng.random((n, width)) < rng.uniform(0.2, 0.8)
    # plant neighbours at distances around the threshold
    for k in range(n // 2):
        source = int(rng.integers(0, n))
        flips = rng.choice(width, size=min(width, int(rng.integers(0, max_distance + 3))), replace=False)
        bits[k] = bits[source]
        bits[k, flips] ^= True
    found = near_pairs(bits, max_distance)
    expected = brute_force(bits, max_distance)
    assert np.array_equal(found, expected)


def test_search_when_radius_covers_every_bit():
    bits = np.array([[0, 0, 0, 0], [1, 1, 1, 1], [1, 0, 1, 0]], dtype=bool)
    assert np.array_equal(near_pairs(bits, 4), brute_force(bits, 4))
    assert len(near_pairs(bits, 4)) == 3


def flip(code: np.ndarray, n_flips: int, rng: np.random.Generator) -> np.ndarray:
    """``code`` with exactly ``n_flips`` bits flipped."""
    copy = code.copy()
    copy[rng.choice(len(code), size=n_flips, replace=False)] ^= True
    return copy


@pytest.mark.parametrize("seed", range(6))
def test_every_chunk_count_is_exact(seed: int):
    """Multi-index hashing with any number of chunks finds exactly the brute-force pairs."""
    rng = np.random.default_rng(100 + seed)
    width = int(rng.choice([9, 25, 64, 100, 130]))
    max_distance = int(rng.integers(0, 9))
    bits = rng.random((int(rng.integers(2, 300)), width)) < 0.5
    for k in range(len(bits) // 2):
        bits[k] = flip(bits[int(rng.integers(0, len(bits)))], min(width, int(rng.integers(0, max_distance + 3))), rng)
    expected = brute_force(bits, max_distance)
    for n_chunks in range(1, max_distance + 2):
        if chunk_plan(width, n_chunks, len(bits), max_distance).cost < 1e4:  # skip plans with huge mask sets
            found, stats = search_near_pairs(bits, max_distance, n_chunks=n_chunks)
            assert stats.n_chunks == n_chunks
            assert np.array_equal(found, expected), n_chunks


@pytest.mark.parametrize("max_distance", [0, 1, 4, 8, 10])
@pytest.mark.parametrize("n", [2, 50, 3000])
def test_planted_pairs_at_every_distance(n: int, max_distance: int):
    """Pairs planted at each distance 0..d+2 among random 64-bit codes: found iff within d."""
    rng = np.random.default_rng(n * 100 + max_distance)
    distances = range(max_distance + 3)
    copies = max(1, min(5, n // (2 * len(distances))))
    bits = rng.random((max(n, 2 * len(distances)), 64)) < 0.5
    planted = []
    row = 0
    for distance in distances:
        for _ in range(copies):
            bits[row + 1] = flip(bits[row], distance, rng)
            planted.append((row, row + 1, distance))
            row += 2
    for start in range(0, len(bits), n):  # n = 2: each planted pair searched on its own
        block = bits[start : start + n]
        expected = brute_force(block, max_distance)
        found = near_pairs(block, max_distance)
        assert np.array_equal(found, expected)
        chosen = len(plan_chunks(64, len(block), max_distance).bounds)
        assert np.array_equal(search_near_pairs(block, max_distance, n_chunks=chosen)[0], expected)
        shown = {tuple(pair) for pair in found.tolist()}
        for i, j, distance in planted:
            if start <= i < start + len(block):
                assert ((i - start, j - start, distance) in shown) == (distance <= max_distance)


def test_heavy_duplicates_are_expanded_directly():
    rng = np.random.default_rng(5)
    bases = rng.random((40, 64)) < 0.5
    bits = bases[rng.integers(0, 40, size=3000)]
    for k in range(0, 3000, 7):  # near variants of the duplicated codes
        bits[k] = flip(bits[k], int(rng.integers(1, 6)), rng)
    found, stats = search_near_pairs(bits, 4)
    assert stats.distinct_codes < 500
    assert np.array_equal(found, brute_force(bits, 4))

    same = np.repeat(bases[:1], 400, axis=0)
    found, stats = search_near_pairs(same, 8)
    assert stats.distinct_codes == 1 and stats.candidates == 0
    assert len(found) == 400 * 399 // 2 and not found[:, 2].any()
    assert np.array_equal(found, brute_force(same, 8))


def test_crowded_buckets_and_small_batches(monkeypatch):
    """Codes sharing most chunk values, searched in tiny batches and by binary search."""
    rng = np.random.default_rng(6)
    bits = rng.random((600, 64)) < 0.5
    bits[:, :40] = rng.random(40) < 0.5  # one value for the first 40 bits
    bits[::3, 10:14] ^= True
    expected = brute_force(bits, 6)
    assert np.array_equal(near_pairs(bits, 6), expected)
    monkeypatch.setattr(hamming, "_QUERY_BATCH", 50)
    monkeypatch.setattr(hamming, "_CANDIDATE_BATCH", 64)
    monkeypatch.setattr(hamming, "_TABLE_MIN_ENTRIES", 0)
    monkeypatch.setattr(hamming, "_TABLE_ENTRIES_PER_CODE", 0)
    for n_chunks in (3, 5, 7):
        assert np.array_equal(search_near_pairs(bits, 6, n_chunks=n_chunks)[0], expected)


def test_candidates_grow_far_slower_than_quadratic():
    """8x the codes: candidates per code grow < 3x (comparing all pairs, or d + 1 exact chunks: 8x)."""
    rng = np.random.default_rng(7)
    per_code = {}
    for n in (4_000, 32_000):
        _, stats = search_near_pairs(rng.random((n, 64)) < 0.5, 8)
        assert stats.n_chunks > 0  # multi-index hashing, not all pairs
        per_code[n] = stats.candidates / n
    assert per_code[32_000] / per_code[4_000] < 3
    # d + 1 = 9 exact chunks of ~7 bits propose about n / 28 pairs per code
    assert per_code[32_000] < 32_000 / 28 / 10


@pytest.mark.parametrize(("n_chunks", "max_distance"), [(1, 0), (1, 8), (3, 8), (5, 8), (9, 8), (4, 10)])
def test_chunk_radii_add_up_to_the_distance(n_chunks: int, max_distance: int):
    radii = chunk_radii(n_chunks, max_distance)
    assert len(radii) == n_chunks and min(radii) >= 0 and max(radii) - min(radii) <= 1
    assert sum(radius + 1 for radius in radii) == max_distance + 1


def test_too_many_chunks_for_the_distance():
    with pytest.raises(ValueError, match="need 1 to 3"):
        chunk_radii(4, 2)


@pytest.mark.parametrize(("bits", "max_distance"), [(64, 8), (64, 0), (16, 15), (25, 3), (256, 8), (1024, 8)])
@pytest.mark.parametrize("n_codes", [2, 4_000, 1_000_000])
def test_plans_use_disjoint_chunks(bits: int, max_distance: int, n_codes: int):
    plan = plan_chunks(bits, n_codes, max_distance)
    assert 1 <= len(plan.bounds) <= max_distance + 1
    assert plan.radii == chunk_radii(len(plan.bounds), max_distance)
    assert plan.bounds[0][0] == 0 and plan.bounds[-1][1] <= bits
    assert all(0 < stop - start <= 64 for start, stop in plan.bounds)
    assert all(a[1] == b[0] for a, b in zip(plan.bounds, plan.bounds[1:]))


@pytest.mark.parametrize("n_codes", [4_000, 32_000, 1_000_000])
def test_chunk_width_is_near_log2_of_the_codes(n_codes: int):
    plan = plan_chunks(64, n_codes, 8)
    widths = [stop - start for start, stop in plan.bounds]
    assert abs(np.mean(widths) - np.log2(n_codes)) <= 2


@pytest.mark.parametrize(("width", "radius"), [(13, 0), (13, 2), (21, 2), (5, 7)])
def test_flip_masks(width: int, radius: int):
    masks = flip_masks(width, radius)
    assert len(np.unique(masks)) == len(masks) == sum(math.comb(width, k) for k in range(min(radius, width) + 1))
    assert np.bitwise_count(masks).max() == min(radius, width) and masks.max() < 2**width


def brute_force_across(queries: np.ndarray, codes: np.ndarray, max_distance: int) -> np.ndarray:
    left, right = np.packbits(queries, axis=1), np.packbits(codes, axis=1)
    distance = np.bitwise_count(left[:, None, :] ^ right[None, :, :]).sum(axis=-1, dtype=np.int64)
    i, j = np.nonzero(distance <= max_distance)
    return np.column_stack([i, j, distance[i, j]]).reshape(-1, 3)


@pytest.mark.parametrize("seed", range(10))
def test_cross_search_equals_brute_force(seed: int):
    rng = np.random.default_rng(300 + seed)
    width = int(rng.choice([16, 25, 64, 100]))
    max_distance = int(rng.integers(0, 11))
    codes = rng.random((int(rng.integers(1, 400)), width)) < 0.5
    queries = rng.random((int(rng.integers(1, 300)), width)) < 0.5
    for k in range(len(queries) // 2):  # near copies of codes, and repeated codes on both sides
        queries[k] = flip(codes[int(rng.integers(0, len(codes)))], min(width, int(rng.integers(0, max_distance + 3))), rng)
    queries[-1] = queries[0]
    codes[-1] = codes[0]
    expected = brute_force_across(queries, codes, max_distance)
    assert np.array_equal(search_cross_pairs(queries, codes, max_distance)[0], expected)
    for n_chunks in range(1, max_distance + 2):
        if chunk_plan(width, n_chunks, len(codes), max_distance).cost < 1e4:  # skip plans with huge mask sets
            found, stats = search_cross_pairs(queries, codes, max_distance, n_chunks=n_chunks)
            assert stats.n_chunks == n_chunks and np.array_equal(found, expected), n_chunks


def test_cross_search_edge_cases():
    rng = np.random.default_rng(9)
    codes = rng.random((5, 64)) < 0.5
    assert cross_pairs(codes[:0], codes, 8).shape == (0, 3)
    assert cross_pairs(codes, codes[:0], 8).shape == (0, 3)
    same = cross_pairs(codes, codes, 0)
    assert np.array_equal(same, np.column_stack([np.arange(5), np.arange(5), np.zeros(5, dtype=int)]))
    with pytest.raises(ValueError, match="64 and 32 bits"):
        cross_pairs(codes, codes[:, :32], 3)


def test_cross_search_stays_sub_quadratic():
    """Windows against whole pictures at corpus scale: candidates per query stay far below the codes."""
    rng = np.random.default_rng(11)
    codes = rng.random((40_000, 64)) < 0.5
    queries = rng.random((40_000, 64)) < 0.5
    _, stats = search_cross_pairs(queries, codes, 8)
    assert stats.n_chunks > 0 and stats.candidates / 40_000 < 40_000 / 100
