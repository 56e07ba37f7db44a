"""Dedupe: match types, candidate views, verification, no chaining, roots and pairs.csv.

The Hamming search itself is tested in test_hamming.py, the pixel comparisons in
test_image_match.py.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import fields
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from PIL import Image, ImageDraw, ImageEnhance

from images_as_data.prepare.dedupe import (
    CLUSTER_COLUMNS,
    HASH_COLUMNS,
    PAIR_COLUMNS,
    DedupeSettings,
    dedupe,
    discount_turned,
    grow_clusters,
    hex_to_bits,
    image_views,
    picture_share,
    read_metadata_urls,
    root_order,
    view_hashes,
    write_dedupe,
)
from images_as_data.prepare.dedupe_verify import Decision
from images_as_data.prepare.inventory import InventoryRules, build_inventory, write_inventory

from .conftest import REPO
from .photos import burst_frame, caption_band, crop, letterbox, mirrored, night_sky, photo, turned, watermarked

RULES = InventoryRules(min_bytes=500, max_pixels=10_000_000, min_side=16)


def scene(seed: int, size: tuple[int, int] = (96, 72)) -> Image.Image:
    """A smooth random picture: coarse noise blown up, so perceptual hashes are stable."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, size=(6, 8, 3), dtype=np.uint8)
    return Image.fromarray(coarse).resize(size, Image.Resampling.BICUBIC)


@pytest.mark.parametrize("hash_size", [2, 5, 8, 16])
def test_hex_round_trip(hash_size: int):
    import imagehash

    values = [imagehash.phash(scene(seed), hash_size=hash_size) for seed in range(4)]
    bits = hex_to_bits([str(value) for value in values], hash_size * hash_size)
    for row, value in zip(bits, values):
        assert np.array_equal(row, value.hash.flatten())
    assert hex_to_bits([], 25).shape == (0, 25)


def test_hex_with_too_many_bits_names_the_setting():
    with pytest.raises(ValueError, match="dedupe.hash_size"):
        hex_to_bits(["ffffffffffffffff"], 25)


@pytest.mark.parametrize("hash_name", ["phash", "dhash", "ahash", "whash"])
def test_view_hashes_equal_imagehash(hash_name: str):
    """The batched pHash gives imagehash's bits (within rounding); other hashes are imagehash's own."""
    import imagehash

    functions = {"phash": imagehash.phash, "dhash": imagehash.dhash, "ahash": imagehash.average_hash, "whash": imagehash.whash}
    settings = DedupeSettings(hash=hash_name)
    source = photo(1).convert("L").resize((128, 96))
    views = image_views((0.05, 0.1, 0.95, 0.9), settings)
    expected = [str(functions[hash_name](view.render(source))) for view in views]
    found = view_hashes(source, views, settings)
    if hash_name != "phash":
        assert list(found) == expected
        return
    # The whole picture is imagehash's pHash bit for bit (hashes.csv); the rectangles are
    # resampled without PIL's 8-bit rounding between passes, a bit or two apart at most.
    assert found[0] == expected[0]
    distances = (hex_to_bits(found, 64) != hex_to_bits(expected, 64)).sum(axis=1)
    assert distances.max() <= 3, distances


def test_views_follow_the_switches():
    box = (0.0, 0.1, 1.0, 0.9)
    every = [view.kind for view in image_views(box, DedupeSettings())]
    assert every.count("full") == 2 and every.count("content") == 2
    assert every.count("rotation") == 2 and every.count("crop") == 18
    plain = image_views(box, DedupeSettings(mirror=False, borders=False, rotations=False, crops=False))
    assert [(view.kind, view.mirror) for view in plain] == [("full", False)]
    assert not any(view.kind == "content" for view in image_views((0.0, 0.0, 1.0, 1.0), DedupeSettings()))


@pytest.fixture
def corpus(tmp_path: Path) -> tuple[Path, Path]:
    raw = tmp_path / "raw"
    raw.mkdir()
    base = scene(1)
    base.save(raw / "base.png")
    (raw / "exact_copy.png").write_bytes((raw / "base.png").read_bytes())
    base.save(raw / "pixel_copy.png", compress_level=1)  # other bytes, same pixels
    ImageEnhance.Brightness(base).enhance(1.08).save(raw / "near_copy.jpg", quality=80)
    base.resize((192, 144), Image.Resampling.LANCZOS).save(raw / "bigger_near.png")
    scene(2).save(raw / "url_twin_a.png")
    scene(3).save(raw / "url_twin_b.png")
    for seed in range(4, 9):
        scene(seed).save(raw / f"unrelated_{seed}.png")
    metadata = tmp_path / "metadata.csv"
    pd.DataFrame(
        {
            "image_id": ["url_twin_a.png", "url_twin_b.png", "unrelated_4.png", "not_in_folder.png"],
            "url": ["http://t.co/x", "http://t.co/x", "http://t.co/y", "http://t.co/y"],
            "shares": [3, 1, 1, 1],
        }
    ).to_csv(metadata, index=False)
    return raw, metadata


def run(raw: Path, metadata: Path | None, settings: DedupeSettings, workers: int = 1):
    inventory = build_inventory(raw, RULES)
    urls = read_metadata_urls(metadata, inventory) if metadata else None
    return dedupe(inventory, settings, urls=urls, workers=workers)


def test_match_types_and_root(corpus):
    raw, metadata = corpus
    result = run(raw, metadata, DedupeSettings())
    clusters, hashes, pairs = result.clusters, result.hashes, result.pairs
    assert list(clusters.columns) == CLUSTER_COLUMNS and list(hashes.columns) == HASH_COLUMNS
    assert list(pairs.columns) == PAIR_COLUMNS
    rows = clusters.set_index("image_id")
    family = ["base.png", "exact_copy.png", "pixel_copy.png", "near_copy.jpg", "bigger_near.png"]
    # the upscaled copy has the largest content area, so it is the root
    assert set(rows.loc[family, "cluster_id"]) == {"bigger_near.png"}
    assert rows.loc["bigger_near.png", ["is_root", "match_type"]].tolist() == [True, "root"]
    assert rows.loc["bigger_near.png", "root_reason"].startswith("largest content area")
    assert rows.loc["exact_copy.png", ["match_type", "matched_to"]].tolist() == ["exact", "base.png"]
    # same pixels: the copy with more bytes leads the pair, the other points to it
    assert rows.loc["base.png", ["match_type", "matched_to"]].tolist() == ["pixel", "pixel_copy.png"]
    assert rows.loc["pixel_copy.png", ["match_type", "matched_to"]].tolist() == ["near", "bigger_near.png"]
    assert rows.loc["near_copy.jpg", "match_type"] == "near" and rows.loc["near_copy.jpg", "distance"] <= 10
    assert rows.loc["url_twin_b.png", ["cluster_id", "match_type", "matched_to"]].tolist() == [
        "url_twin_a.png",
        "url",
        "url_twin_a.png",
    ]
    assert pd.isna(rows.loc["url_twin_b.png", "distance"])
    singletons = [f"unrelated_{seed}.png" for seed in range(4, 9)]
    assert rows.loc[singletons, "is_root"].all()
    assert (rows.loc[singletons, "cluster_id"] == singletons).all()
    assert (rows.loc[singletons, "root_reason"] == "only picture in its cluster").all()
    assert int(rows["is_root"].sum()) == 1 + 1 + 5
    assert (rows.loc[~rows["is_root"], "root_reason"] == "").all()


def test_switches_turn_match_types_off(corpus):
    raw, metadata = corpus
    settings = DedupeSettings(max_distance=0, pixel_identical=False, by_url=False, crops=False, rotations=False)
    rows = run(raw, metadata, settings).clusters.set_index("image_id")
    assert rows.loc["exact_copy.png", "match_type"] == "exact"
    # identical pixels still give identical hashes: a verified near match at distance 0
    assert rows.loc["pixel_copy.png", ["match_type", "distance"]].tolist() == ["near", 0]
    assert rows.loc["url_twin_b.png", "is_root"]


def test_hashes_are_shared_by_exact_copies(corpus):
    raw, _ = corpus
    rows = run(raw, None, DedupeSettings()).hashes.set_index("image_id")
    assert rows.loc["base.png"].equals(rows.loc["exact_copy.png"])
    # pixel hashes are computed for candidate pairs of one size only, and equal for equal pixels
    assert rows.loc["base.png", "pixel_sha256"] == rows.loc["pixel_copy.png", "pixel_sha256"] != ""
    assert rows.loc["bigger_near.png", "pixel_sha256"] == ""
    assert len(rows.loc["base.png", "perceptual_hash"]) == 16
    assert rows.loc["base.png", ["content_left", "content_top", "content_right", "content_bottom"]].tolist() == [0, 0, 96, 72]


def test_parallel_and_repeated_runs_are_identical(corpus):
    raw, metadata = corpus
    first = run(raw, metadata, DedupeSettings())
    second = run(raw, metadata, DedupeSettings(), workers=2)
    for name in ("clusters", "hashes", "pairs"):
        pd.testing.assert_frame_equal(getattr(first, name), getattr(second, name))


def test_unknown_metadata_rows_warn_and_are_ignored(corpus, caplog):
    raw, metadata = corpus
    inventory = build_inventory(raw, RULES)
    with caplog.at_level(logging.WARNING):
        urls = read_metadata_urls(metadata, inventory)
    assert "not_in_folder.png" in caplog.text
    assert "not_in_folder.png" not in set(urls["image_id"])
    assert len(urls) == 3


def test_metadata_without_url_column_names_the_file(tmp_path: Path):
    path = tmp_path / "meta.csv"
    pd.DataFrame({"image_id": ["a.png"], "link": ["x"]}).to_csv(path, index=False)
    inventory = pd.DataFrame({"image_id": ["a.png"], "status": ["kept"]})
    with pytest.raises(ValueError, match="meta.csv.*url"):
        read_metadata_urls(path, inventory)


def test_written_outputs(corpus, tmp_path: Path):
    raw, metadata = corpus
    write_inventory(raw, tmp_path / "inventory.csv", RULES)
    result = write_dedupe(
        tmp_path / "inventory.csv",
        tmp_path / "clusters.csv",
        tmp_path / "hashes.csv",
        tmp_path / "pairs.csv",
        DedupeSettings(),
        metadata,
    )
    again = pd.read_csv(tmp_path / "clusters.csv", keep_default_na=False)
    assert again["image_id"].tolist() == result.clusters["image_id"].tolist()
    assert list(pd.read_csv(tmp_path / "hashes.csv").columns) == HASH_COLUMNS
    pairs = pd.read_csv(tmp_path / "pairs.csv", keep_default_na=False)
    assert list(pairs.columns) == PAIR_COLUMNS
    assert set(pairs["decision"]) <= {"accepted", "rejected", "not tested"}


def test_settings_match_the_schema():
    """Every config key has a field with the schema's default, and the reverse."""
    schema = yaml.safe_load((REPO / "config" / "schema.yaml").read_text())["properties"]["dedupe"]["properties"]
    defaults = {field.name: field.default for field in fields(DedupeSettings)}
    assert defaults == {key: spec["default"] for key, spec in schema.items()}


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("hash", "md5", "dedupe.hash"),
        ("hash_size", 6, "dedupe.hash_size"),
        ("max_distance", 64, "dedupe.max_distance"),
        ("verify", "orb", "dedupe.verify"),
        ("bursts", "join", "dedupe.bursts"),
        ("min_overlap", 1.5, "dedupe.min_overlap"),
        ("analysis_size", 32, "dedupe.analysis_size"),
        ("rescue_distance", 64, "dedupe.rescue_distance"),
        ("dhash_distance", 64, "dedupe.dhash_distance"),
    ],
)
def test_invalid_settings_name_the_key(key, value, message):
    extra = {"hash": "whash"} if key == "hash_size" else {}
    with pytest.raises(ValueError, match=message):
        DedupeSettings(**{key: value, **extra})


# --- reposts of photograph-like pictures: each method, bursts, roots -----------------------------


@pytest.fixture(scope="module")
def reposts(tmp_path_factory) -> Path:
    """One picture and its reposts (each caught by one method), a burst frame, a 2x zoom and a stranger."""
    raw = tmp_path_factory.mktemp("reposts")
    base = photo(11)
    base.save(raw / "original.png")
    base.save(raw / "recompressed.jpg", quality=60)
    mirrored(base).save(raw / "mirror.jpg", quality=90)
    letterbox(base).save(raw / "letterbox.jpg", quality=90)
    caption_band(base).save(raw / "caption.png")
    turned(base, 4).save(raw / "turned.jpg", quality=90)
    crop(base, 0.1, 0.05, 0.95, 0.9).save(raw / "cropped.jpg", quality=90)
    burst_frame(base).save(raw / "burst.jpg", quality=90)
    crop(base, 0.25, 0.25, 0.75, 0.75).resize(base.size, Image.Resampling.LANCZOS).save(raw / "zoom2.jpg", quality=90)
    photo(12).save(raw / "stranger.png")
    return raw


METHODS = {
    "recompressed.jpg": "near",
    "mirror.jpg": "mirror",
    "letterbox.jpg": "border",
    "caption.png": "border",
    "turned.jpg": "rotation",
    "cropped.jpg": "crop",
}


@pytest.fixture(scope="module")
def repost_run(reposts):
    return run(reposts, None, DedupeSettings(), workers=2)


def test_every_kind_of_repost_joins_the_original(repost_run):
    rows = repost_run.clusters.set_index("image_id")
    assert rows.loc["original.png", "is_root"], rows.loc["original.png", "root_reason"]
    for name, method in METHODS.items():
        assert rows.loc[name, ["cluster_id", "match_type"]].tolist() == ["original.png", method], name
    for name in ("burst.jpg", "zoom2.jpg", "stranger.png"):
        assert rows.loc[name, "cluster_id"] != "original.png", name


def test_pairs_record_every_decision(repost_run):
    pairs = repost_run.pairs.set_index(["image_a", "image_b"])
    burst = pairs.loc[("original.png", "burst.jpg")]
    assert burst["decision"] == "rejected" and "burst" in burst["reason"]
    zoom = pairs.loc[("original.png", "zoom2.jpg")] if ("original.png", "zoom2.jpg") in pairs.index else None
    if zoom is not None:  # proposed by a crop window: rejected for covering a quarter of the original
        assert zoom["decision"] == "rejected" and "min_overlap" in zoom["reason"]
    accepted = repost_run.pairs[repost_run.pairs["decision"] == "accepted"]
    assert set(METHODS.values()) <= set(accepted["method"])
    assert accepted["same_cluster"].all()
    tested = repost_run.pairs[repost_run.pairs["decision"] != "not tested"]
    assert tested["agreement"].notna().all() and tested["overlap_a"].notna().all()


def test_bursts_merge_when_asked(reposts):
    rows = run(reposts, None, DedupeSettings(bursts="merge")).clusters.set_index("image_id")
    assert rows.loc["burst.jpg", "cluster_id"] == "original.png"
    assert rows.loc["zoom2.jpg", "cluster_id"] != "original.png"  # still too little overlap


@pytest.mark.parametrize(
    ("settings", "missed"),
    [
        (DedupeSettings(mirror=False, rescue_distance=0), {"mirror.jpg"}),
        (DedupeSettings(crops=False, max_distance=6, rescue_distance=0), {"cropped.jpg"}),
    ],
)
def test_switching_a_view_off_loses_its_reposts(reposts, settings, missed):
    rows = run(reposts, None, settings).clusters.set_index("image_id")
    for name in METHODS:
        assert (rows.loc[name, "cluster_id"] == "original.png") == (name not in missed), name


def test_verify_none_accepts_hash_matches_unchecked(reposts):
    """Without pixel checks the burst frame joins on its hash alone, as with plain pHash."""
    rows = run(reposts, None, DedupeSettings(verify="none", max_distance=14)).clusters.set_index("image_id")
    assert rows.loc["burst.jpg", "cluster_id"] == "original.png"
    assert rows.loc["stranger.png", "is_root"]


def test_pixel_alignment_without_keypoints_still_catches_hash_aligned_reposts(reposts):
    rows = run(reposts, None, DedupeSettings(verify="pixels")).clusters.set_index("image_id")
    for name in ("recompressed.jpg", "mirror.jpg", "letterbox.jpg"):
        assert rows.loc[name, "cluster_id"] == "original.png", name
    assert rows.loc["burst.jpg", "cluster_id"] != "original.png"


def test_the_clean_copy_is_the_root(tmp_path: Path):
    """Of copies showing the picture at one size, the one without bars or a turned frame is the root."""
    base = photo(21)
    letterbox(base).save(tmp_path / "a_letterbox.png")
    turned(base, 4).save(tmp_path / "b_turned.png")
    caption_band(base).save(tmp_path / "c_caption.png")
    base.save(tmp_path / "z_clean.png")
    rows = run(tmp_path, None, DedupeSettings()).clusters.set_index("image_id")
    assert set(rows["cluster_id"]) == {"z_clean.png"}
    assert "border 0%" in rows.loc["z_clean.png", "root_reason"]


def star_field(seed: int, size: tuple[int, int] = (360, 270)) -> Image.Image:
    """A dark picture (stars on black): a turned copy's black corners cannot be told from its sky."""
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", size, (0, 0, 0))
    draw = ImageDraw.Draw(image)
    for _ in range(120):
        x, y, r = rng.uniform(0, size[0]), rng.uniform(0, size[1]), rng.uniform(1, 5)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(int(v) for v in rng.integers(80, 256, 3)))
    return image


def test_turned_copy_of_a_dark_picture_does_not_lead(tmp_path: Path):
    """The turned copies measure larger than the clean one (their black corners look like sky),
    so one anchors the cluster; the pixel checks show the others turned against it, and the
    cluster is grown again around the clean copy, every member checked against it."""
    base = star_field(3)
    base.save(tmp_path / "clean.png")
    turned(base, 5, fill=(0, 0, 0)).save(tmp_path / "turned5.png")
    turned(base, -3, fill=(0, 0, 0)).save(tmp_path / "turned3.png")
    result = run(tmp_path, None, DedupeSettings())
    rows = result.clusters.set_index("image_id")
    assert rows.loc["turned5.png", "content_area"] > rows.loc["clean.png", "content_area"]
    assert set(rows["cluster_id"]) == {"clean.png"}
    assert rows.loc["turned5.png", "matched_to"] == rows.loc["turned3.png", "matched_to"] == "clean.png"
    pairs = result.pairs
    superseded = pairs[pairs["reason"].str.contains("superseded: the cluster was grown again around clean.png")]
    # a turned copy anchored first (which one depends on the black columns its sky leaves flat)
    assert len(superseded) and superseded["image_a"].isin(["turned5.png", "turned3.png"]).all()
    final = pairs[(pairs["image_a"] == "clean.png") & (pairs["decision"] == "accepted")]
    assert set(final["image_b"]) == {"turned3.png", "turned5.png"}


def test_picture_share_and_turned_units_lose_their_corners():
    c, s = np.cos(np.radians(5)), np.sin(np.radians(5))
    assert picture_share(100, 100, 0) == pytest.approx(1.0)
    assert picture_share(100, 100, 5) == pytest.approx(1 / (c + s) ** 2)  # square frame of a turned square
    assert picture_share(108.4, 100, -5) == picture_share(108.4, 100, 5)
    frame = pd.DataFrame(
        {"content_area": [10_000, 11_000, 9_000, 10_000], "box_width": [100, 110, 100, 100], "box_height": [100, 100, 90, 100]},
        index=[0, 1, 2, 3],
    )
    # anchor 1 is turned 5 degrees against members 0 and 2 (which agree with each other); 3 is alone
    decisions = [(1, 0, Decision(True, "near", "", angle=5.0)), (1, 2, Decision(True, "crop", "", angle=4.6))]
    cut = discount_turned(frame, {0: 1, 1: 1, 2: 1, 3: 3}, decisions)
    assert cut.loc[1, "content_area"] == pytest.approx(11_000 * picture_share(110, 100, -4.6))
    assert cut.loc[[0, 2, 3], "content_area"].tolist() == [10_000, 9_000, 10_000]


def test_root_order_prefers_content_then_less_border():
    images = pd.DataFrame(
        [
            ("padded", 200, 100, 10_000, 100 * 100),  # same picture as clean, with bars
            ("clean", 100, 100, 5_000, 100 * 100),
            ("big", 200, 200, 9_000, 200 * 200),  # twice the picture: leads despite a border
            ("heavy", 100, 100, 9_000, 100 * 100),  # clean's equal with more bytes
        ],
        columns=["image_id", "width", "height", "bytes", "content_area"],
    )
    assert root_order(images)["image_id"].tolist() == ["big", "heavy", "clean", "padded"]


# --- no chaining ---------------------------------------------------------------------------------


def test_grown_clusters_never_chain():
    """A~B and B~C but not A~C: C stays out of A's cluster, though B led the search to it."""
    verified = {frozenset("ab"), frozenset("bc")}

    def decide(root, item):
        return Decision(frozenset((root, item)) in verified, "near", "test")

    root_of, decisions = grow_clusters(["a", "b", "c"], {"a": ["b"], "b": ["a", "c"], "c": ["b"]}, decide)
    assert root_of == {"a": "a", "b": "a", "c": "c"}
    assert [(r, i, d.accepted) for r, i, d in decisions] == [("a", "b", True), ("a", "c", False)]


def test_chains_reach_members_through_accepted_images_only():
    """D is only a neighbour of C; C is rejected, so D is never compared with A."""
    verified = {frozenset("ab"), frozenset("bc"), frozenset("cd"), frozenset("ad")}

    def decide(root, item):
        return Decision(frozenset((root, item)) in verified, "near", "test")

    neighbours = {"a": ["b"], "b": ["a", "c"], "c": ["b", "d"], "d": ["c"]}
    root_of, _ = grow_clusters(["a", "b", "c", "d"], neighbours, decide)
    assert root_of == {"a": "a", "b": "a", "c": "c", "d": "c"}


def test_clusters_are_grown_again_around_a_better_copy_without_chaining():
    """t anchors first; the evidence says c is the better copy: the cluster is grown again around c,
    and every member is checked against c. m is not c's duplicate (only t's), so it leaves; t is
    c's, and the superseded decisions around t are kept and marked."""
    verified = {("t", "c"), ("t", "m"), ("c", "t"), ("c", "x"), ("t", "x")}

    def decide(root, item):
        return Decision((root, item) in verified, "near", "test")

    def best(root, accepted):
        return "c" if root == "t" else root

    neighbours = {"t": ["c", "m", "x"], "c": ["t", "x"], "m": ["t"], "x": ["t", "c"]}
    root_of, decisions = grow_clusters(["t", "c", "m", "x"], neighbours, decide, best)
    assert root_of == {"c": "c", "t": "c", "x": "c", "m": "m"}
    final = [(r, i, d.accepted) for r, i, d in decisions if "superseded" not in d.reason]
    assert final == [("c", "t", True), ("c", "x", True), ("c", "m", False)]
    superseded = [(r, i) for r, i, d in decisions if "superseded: the cluster was grown again around c" in d.reason]
    assert superseded == [("t", "c"), ("t", "m"), ("t", "x")]
    # the abandoned anchor, left out by the better copy, still anchors a cluster of its own
    verified.discard(("c", "t"))
    root_of, _ = grow_clusters(["t", "c", "m", "x"], neighbours, decide, best)
    assert root_of == {"c": "c", "x": "c", "t": "t", "m": "t"}


def test_lone_copies_are_rescued_at_a_larger_distance(reposts):
    """With candidates only at 2 bits, several reposts have none and stay alone; the rescue search
    (lone images against cluster anchors, at rescue_distance) checks them and they join."""
    strict = run(reposts, None, DedupeSettings(max_distance=2, rescue_distance=0)).clusters.set_index("image_id")
    lost = {name for name in METHODS if strict.loc[name, "cluster_id"] != "original.png"}
    assert lost
    result = run(reposts, None, DedupeSettings(max_distance=2, rescue_distance=16))
    rows = result.clusters.set_index("image_id")
    for name in METHODS:
        assert rows.loc[name, "cluster_id"] == "original.png", name
    for name in ("burst.jpg", "zoom2.jpg", "stranger.png"):
        assert rows.loc[name, "cluster_id"] != "original.png", name
    rescued = result.pairs[result.pairs["image_b"].isin(lost) & (result.pairs["decision"] == "accepted")]
    assert (rescued["hash_distance"] > 2).all() and len(rescued) >= len(lost)


def test_photo_chain_is_cut(tmp_path: Path):
    """B is an 82 % crop of A and C an 82 % crop of B from the other side: A~B and B~C (each
    shares 67 % of the larger), but C shows 45 % of A. C is reached through B, checked
    against A, and stays apart."""
    a = photo(31, (400, 300))
    b = crop(a, 0.0, 0.0, 0.82, 0.82)
    c = crop(b, 0.18, 0.18, 1.0, 1.0)
    a.save(tmp_path / "a.png")
    b.save(tmp_path / "b.png")
    c.save(tmp_path / "c.png")
    result = run(tmp_path, None, DedupeSettings())
    rows = result.clusters.set_index("image_id")
    assert rows.loc["b.png", "cluster_id"] == rows.loc["a.png", "cluster_id"]
    assert rows.loc["c.png", "cluster_id"] != rows.loc["a.png", "cluster_id"]
    assert rows.loc["a.png", "is_root"] and rows.loc["b.png", "matched_to"] == "a.png"
    pairs = result.pairs.set_index(["image_a", "image_b"])
    assert pairs.loc[("a.png", "c.png"), "decision"] == "rejected"
    assert "min_overlap" in pairs.loc[("a.png", "c.png"), "reason"]


# --- the demo corpus' planted ground truth ------------------------------------------------

# planted.csv expected_reason codes -> our reason categories. The generator's
# "unreadable" covers both files that are not images at all and damaged images.
PLANTED_REASONS = {
    "min_bytes": {"under min_bytes"},
    "unreadable": {"unreadable", "not an image"},
    "max_pixels": {"over max_pixels"},
    "min_side": {"too few pixels"},
}


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    from images_as_data.demo.corpus import generate_demo_corpus
    from images_as_data.prepare.inventory import reason_category

    outdir = tmp_path_factory.mktemp("demo")
    generate_demo_corpus(
        outdir, n_images=100, seed=7, size_range=(150, 320), leaders_per_class=2, legend_external_per_class=0
    )
    inventory = build_inventory(outdir / "raw", InventoryRules(), workers=2)
    urls = read_metadata_urls(outdir / "metadata.csv", inventory)
    clusters = dedupe(inventory, DedupeSettings(), urls=urls, workers=2).clusters
    inventory["category"] = [reason_category(reason) if reason else "" for reason in inventory["reason"]]
    planted = pd.read_csv(outdir / "planted.csv", dtype=str, keep_default_na=False)
    return inventory.set_index("image_id"), clusters.set_index("image_id"), planted


def test_demo_defects_get_the_planted_inventory_outcome(demo_run):
    inventory, _, planted = demo_run
    rows = planted[planted["expected_status"] != ""]
    assert len(rows) > 10
    for row in rows.itertuples():
        found = inventory.loc[row.image_id]
        assert found["status"] == row.expected_status, (row.kind, row.image_id, found["reason"])
        if row.expected_status == "excluded":
            assert found["category"] in PLANTED_REASONS[row.expected_reason], (row.kind, found["reason"])


def recall(clusters: pd.DataFrame, copies: pd.DataFrame) -> float:
    same = clusters.loc[copies["image_id"], "cluster_id"].to_numpy() == clusters.loc[copies["of_image_id"], "cluster_id"].to_numpy()
    return float(same.mean())


def test_demo_duplicates_are_found_without_merging_originals(demo_run):
    _, clusters, planted = demo_run
    copies = planted[(planted["of_image_id"] != "") & planted["image_id"].isin(clusters.index)]
    exact = copies[copies["expected_match"] == "exact"]
    near = copies[copies["expected_match"].isin(["pixel", "near"])]
    reposts = copies[copies["expected_match"] == "url"]
    assert len(exact) and len(near) and len(reposts)
    assert recall(clusters, exact) >= 0.99
    assert recall(clusters, near) >= 0.95
    assert recall(clusters, reposts) >= 0.95
    original = dict(zip(copies["image_id"], copies["of_image_id"]))
    truth = pd.Series([original.get(i, i) for i in clusters.index], index=clusters.index)
    assert truth.groupby(clusters["cluster_id"]).nunique().max() == 1, "distinct originals were merged"


# --- the audit figure ------------------------------------------------------------------------------


def test_audit_sheet_shows_methods_and_closest_rejections(reposts, repost_run, tmp_path: Path):
    from images_as_data.prepare.dedupe_figure import select_pairs, write_dedupe_audit

    chosen = select_pairs(repost_run.pairs, per_method=2, rejected=3, seed=1)
    accepted = repost_run.pairs[repost_run.pairs["decision"] == "accepted"]
    assert set(chosen["group"]) == set(accepted["method"]) | {"rejected"}
    assert (chosen.groupby("group").size() <= 3).all()
    closest = chosen[chosen["group"] == "rejected"]["agreement"].astype(float)
    assert closest.is_monotonic_decreasing
    assert chosen.equals(select_pairs(repost_run.pairs, per_method=2, rejected=3, seed=1))  # seeded

    write_inventory(reposts, tmp_path / "inventory.csv", RULES)
    repost_run.pairs.to_csv(tmp_path / "pairs.csv", index=False)
    drawn = write_dedupe_audit(tmp_path / "pairs.csv", tmp_path / "inventory.csv", tmp_path / "audit")
    assert len(drawn) and (tmp_path / "audit.png").stat().st_size > 10_000 and (tmp_path / "audit.pdf").exists()

    empty = repost_run.pairs.head(0)
    empty.to_csv(tmp_path / "none.csv", index=False)
    assert write_dedupe_audit(tmp_path / "none.csv", tmp_path / "inventory.csv", tmp_path / "none").empty
    assert (tmp_path / "none.png").exists()


def test_rectangle_phash_follows_the_box_and_the_mirror():
    """A rectangle's hash is the hash of that part of the picture (and of its mirror image)."""
    from images_as_data.prepare.phash import phash_rectangles

    gray = np.asarray(photo(2).convert("L").resize((160, 120)))
    box = (20, 10, 140, 100)
    crop = gray[10:100, 20:140]
    whole, mirrored = phash_rectangles(gray, np.array([box, box]), np.array([False, True]))
    assert np.array_equal(phash_rectangles(crop, np.array([(0, 0, 120, 90)]), np.array([False]))[0], whole)
    assert np.array_equal(phash_rectangles(crop[:, ::-1].copy(), np.array([(0, 0, 120, 90)]), np.array([False]))[0], mirrored)
    assert (whole != mirrored).sum() > 10


def test_check_hashes_are_imagehash_dhash_of_each_view():
    """The second hash of each view is imagehash's dHash (turned views exactly; rectangles
    resampled without PIL's rounding, a few bits apart at most)."""
    import imagehash

    from images_as_data.prepare.dedupe import check_hashes

    source = photo(3).convert("L").resize((128, 96))
    views = image_views((0.05, 0.1, 0.95, 0.9), DedupeSettings())
    found = hex_to_bits(check_hashes(source, views), 64)
    expected = np.array([imagehash.dhash(view.render(source)).hash.flatten() for view in views])
    distances = (found != expected).sum(axis=1)
    assert all(distances[i] == 0 for i, view in enumerate(views) if view.degrees)
    assert distances.max() <= 4, distances


def test_candidates_need_close_views_in_both_hashes():
    """Two images whose views agree in pHash but not in dHash are no candidate pair, unless
    dedupe.check_distance is null."""
    from images_as_data.prepare.dedupe import Analysis, Files, candidate_pairs

    settings = DedupeSettings(mirror=False, borders=False, rotations=False, crops=False)
    frame = pd.DataFrame({"image_id": ["a", "b", "c"], "path": ["a", "b", "c"], "width": 10, "height": 10, "bytes": 1, "sha256": ["1", "2", "3"]})
    code = "f0f0f0f0f0f0f0f0"
    analyses = [
        Analysis(10, 10, (0.0, 0.0, 1.0, 1.0), 0.0, (code,), ("00000000000000ff",)),
        Analysis(10, 10, (0.0, 0.0, 1.0, 1.0), 0.0, (code,), ("000000000000ffff",)),  # 8 bits from a
        Analysis(10, 10, (0.0, 0.0, 1.0, 1.0), 0.0, (code,), ("ffffffff000000ff",)),  # 32 bits from a
    ]
    checked = candidate_pairs(Files(frame, analyses, settings))
    assert checked[["a", "b"]].values.tolist() == [[0, 1]]
    unchecked = candidate_pairs(Files(frame, analyses, dataclasses.replace(settings, check_distance=None)))
    assert unchecked[["a", "b"]].values.tolist() == [[0, 1], [0, 2], [1, 2]]


def test_views_close_in_dhash_are_candidates_whatever_their_phash():
    """Whole views 1 bit apart in dHash and 16 in pHash are a candidate pair, reported with their
    pHash distance (and, by candidate_view_pairs, with the search that found them and both
    distances); with dedupe.dhash_distance 0 only pairs within max_distance of pHash are."""
    from images_as_data.prepare.dedupe import Analysis, Files, candidate_pairs, candidate_view_pairs

    settings = DedupeSettings(mirror=False, borders=False, rotations=False, crops=False)
    frame = pd.DataFrame({"image_id": ["a", "b", "c"], "path": ["a", "b", "c"], "width": 10, "height": 10, "bytes": 1, "sha256": ["1", "2", "3"]})
    analyses = [
        Analysis(10, 10, (0.0, 0.0, 1.0, 1.0), 0.0, ("f0f0f0f0f0f0f0f0",), ("00000000000000ff",)),
        Analysis(10, 10, (0.0, 0.0, 1.0, 1.0), 0.0, ("0f0ff0f0f0f0f0f0",), ("00000000000000fe",)),  # 16 / 1 bits from a
        Analysis(10, 10, (0.0, 0.0, 1.0, 1.0), 0.0, ("f00ff0f0f0f0f0f0",), ("000000000000ffff",)),  # 8 / 8 bits from a
    ]
    found = candidate_pairs(Files(frame, analyses, settings))
    assert found.values.tolist() == [[0, 1, 16], [0, 2, 8], [1, 2, 8]]
    views = candidate_view_pairs(Files(frame, analyses, settings)).sort_values(["search", "a", "b"])
    assert views.values.tolist() == [[0, 1, "dhash", 16, 1], [0, 2, "plain", 8, 8], [1, 2, "plain", 8, 9]]
    assert candidate_pairs(Files(frame, analyses, dataclasses.replace(settings, dhash_distance=0)))[["a", "b"]].values.tolist() == [[0, 2], [1, 2]]


def test_a_watermark_across_a_dark_picture_is_found_by_its_gradients(tmp_path: Path):
    """A white mark across a deep-field picture is most of its low frequencies: 14 bits of pHash
    from the original, no view within max_distance. Its dHash moves by 1 bit; the dHash search
    makes the two a candidate pair and the pixels confirm it."""
    sky = night_sky(19)
    sky.save(tmp_path / "sky.png")
    watermarked(sky).save(tmp_path / "sky_marked.jpg", quality=88)
    night_sky(20).save(tmp_path / "other_sky.png")
    clusters = run(tmp_path, None, DedupeSettings()).clusters.set_index("image_id")["cluster_id"]
    assert clusters["sky_marked.jpg"] == clusters["sky.png"] != clusters["other_sky.png"]
    alone = run(tmp_path, None, DedupeSettings(dhash_distance=0)).clusters.set_index("image_id")["cluster_id"]
    assert alone["sky_marked.jpg"] != alone["sky.png"]


def test_verifier_takes_the_content_box_the_analysis_found(tmp_path: Path):
    """The verifier reuses the analysis's content box instead of finding it again: the same
    pixel box, and the same decisions, on copies with borders (letterbox, caption, turn)."""
    from images_as_data.prepare.dedupe import analyse_file, make_verifier
    from images_as_data.prepare.dedupe_verify import Verifier

    settings = DedupeSettings(by_url=False)
    original = photo(11)
    copies = [original, letterbox(original), caption_band(original), turned(original, 4), night_sky(3)]
    paths = []
    for index, image in enumerate(copies):
        paths.append(str(tmp_path / f"{index}.jpg"))
        image.save(paths[-1], quality=90)
    sizes = [Image.open(path).size for path in paths]
    analyses = [analyse_file((path, *size), settings) for path, size in zip(paths, sizes)]
    assert any(analysis.box != (0.0, 0.0, 1.0, 1.0) for analysis in analyses)
    reused = make_verifier(settings, paths.__getitem__, sizes.__getitem__, lambda unit: analyses[unit].box, lambda unit: analyses[unit].codes)
    found = Verifier(settings, reused.load, reused.views_codes, reused.combos, reused.kind_of)
    for unit in range(len(paths)):
        assert reused.picture(unit).box == found.picture(unit).box
    for unit in range(1, len(paths)):
        assert reused.verify(0, unit) == found.verify(0, unit)
    assert [reused.verify(0, unit).accepted for unit in range(1, len(paths))] == [True, True, True, False]


def test_a_root_with_copies_says_so(tmp_path: Path):
    """A picture alone in its cluster but for copies of its file or pixels: its root_reason
    names them; a picture truly alone says it is."""
    raw = tmp_path / "raw"
    raw.mkdir()
    photo(21).save(raw / "a.jpg", quality=90)
    (raw / "b.jpg").write_bytes((raw / "a.jpg").read_bytes())
    photo(22).save(raw / "c.png")
    Image.open(raw / "c.png").save(raw / "d.bmp")
    photo(23).save(raw / "e.jpg", quality=90)
    inventory = build_inventory(raw, RULES)
    clusters = dedupe(inventory, DedupeSettings(by_url=False)).clusters.set_index("image_id")
    assert clusters.loc["b.jpg", "match_type"] == "exact"
    assert sorted(clusters.loc[["c.png", "d.bmp"], "match_type"]) == ["pixel", "root"]
    with_copies = "only picture in its cluster, with 1 other image(s) of the same file or the same pixels"
    assert clusters.loc["a.jpg", "root_reason"] == with_copies
    assert clusters.loc[clusters.loc["c.png", "cluster_id"], "root_reason"] == with_copies
    assert clusters.loc["e.jpg", "root_reason"] == "only picture in its cluster"


def test_a_copy_in_colour_leads_its_greyscale_copies(tmp_path: Path):
    """Copies of one size showing the same content: the one in colour is the root however
    many bytes a greyscale copy has (a lossless PNG of a black-and-white filter); views.csv
    keeps how far colour is spread over each."""
    from images_as_data.prepare.dedupe import Analyser
    from images_as_data.prepare.inventory import inventory_and_cache

    raw = tmp_path / "raw"
    raw.mkdir()
    picture = photo(31, size=(480, 360))
    picture.save(raw / "colour.jpg", quality=80)
    picture.convert("L").save(raw / "grey.png")
    picture.convert("L").save(raw / "grey.jpg", quality=95)
    inventory = build_inventory(raw, RULES)
    assert inventory.set_index("image_id").loc["grey.png", "bytes"] > inventory.set_index("image_id").loc["colour.jpg", "bytes"]
    clusters = dedupe(inventory, DedupeSettings(by_url=False)).clusters.set_index("image_id")
    assert (clusters["cluster_id"] == "colour.jpg").all()
    assert clusters.loc["colour.jpg", "root_reason"] == "content and pixels alike; in colour (next: grey.png: greyscale)"
    views = inventory_and_cache(raw, RULES, analyser=Analyser(DedupeSettings(by_url=False))).set_index("image_id")["colour"]
    assert views["colour.jpg"] >= 0.5 and views["grey.png"] == 0 and views["grey.jpg"] == 0


def test_a_coloured_logo_does_not_make_a_greyscale_picture_colour():
    """Colour spread over the picture, not a coloured logo, caption or band, makes it colour."""
    from PIL import ImageDraw

    from images_as_data.prepare.dedupe import COLOUR_CELLS, colour_spread

    grey = photo(32, size=(300, 225)).convert("L").convert("RGB")
    marked = grey.copy()
    draw = ImageDraw.Draw(marked)
    draw.rectangle((250, 10, 290, 40), fill=(220, 30, 30))
    draw.text((20, 200), "CHANNEL 5 NEWS", fill=(30, 60, 220))
    banded = grey.copy()
    ImageDraw.Draw(banded).rectangle((0, 190, 300, 225), fill=(200, 20, 20))
    assert colour_spread(np.asarray(grey)) == 0
    assert 0 < colour_spread(np.asarray(marked)) < COLOUR_CELLS
    assert 0 < colour_spread(np.asarray(banded)) < COLOUR_CELLS
    assert colour_spread(np.asarray(photo(32, size=(300, 225)))) >= COLOUR_CELLS


def test_root_order_puts_colour_before_grey_before_black_and_white():
    """Tones break ties of content and pixels before bytes; content and pixels still come first."""
    images = pd.DataFrame({
        "image_id": ["bilevel", "grey", "colour", "larger_grey"], "width": [100, 100, 100, 120], "height": 100,
        "bytes": [9000, 5000, 1000, 500], "content_area": [10000, 10000, 10000, 12000],
        "colour": [0.0, 0.0, 0.75, 0.25], "mode": ["1", "L", "RGB", "L"],
    })  # fmt: skip
    assert root_order(images)["image_id"].tolist() == ["larger_grey", "colour", "grey", "bilevel"]
    assert root_order(images.drop(columns=["colour", "mode"]))["image_id"].tolist() == ["larger_grey", "bilevel", "grey", "colour"]
