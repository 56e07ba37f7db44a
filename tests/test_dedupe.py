"""Dedupe: match types, clusters and their roots (the Hamming search: test_hamming.py)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image, ImageEnhance

from images_as_data.prepare.dedupe import (
    CLUSTER_COLUMNS,
    EDGE_COLUMNS,
    HASH_COLUMNS,
    DedupeSettings,
    build_clusters,
    dedupe,
    hex_to_bits,
    read_metadata_urls,
    write_dedupe,
)
from images_as_data.prepare.inventory import InventoryRules, build_inventory, write_inventory

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
    clusters, hashes = run(raw, metadata, DedupeSettings(max_distance=8))
    assert list(clusters.columns) == CLUSTER_COLUMNS and list(hashes.columns) == HASH_COLUMNS
    rows = clusters.set_index("image_id")
    family = ["base.png", "exact_copy.png", "pixel_copy.png", "near_copy.jpg", "bigger_near.png"]
    # the upscaled copy has the most pixels, so it is the root
    assert set(rows.loc[family, "cluster_id"]) == {"bigger_near.png"}
    assert rows.loc["bigger_near.png", ["is_root", "match_type"]].tolist() == [True, "root"]
    assert rows.loc["exact_copy.png", ["match_type", "matched_to"]].tolist() == ["exact", "base.png"]
    assert rows.loc["pixel_copy.png", "match_type"] == "pixel"
    assert rows.loc["near_copy.jpg", "match_type"] == "near"
    assert rows.loc["near_copy.jpg", "distance"] <= 8
    assert rows.loc["base.png", "match_type"] == "near"
    assert rows.loc["url_twin_b.png", ["cluster_id", "match_type", "matched_to"]].tolist() == [
        "url_twin_a.png",
        "url",
        "url_twin_a.png",
    ]
    assert pd.isna(rows.loc["url_twin_b.png", "distance"])
    singletons = [f"unrelated_{seed}.png" for seed in range(4, 9)]
    assert rows.loc[singletons, "is_root"].all()
    assert (rows.loc[singletons, "cluster_id"] == singletons).all()
    assert int(rows["is_root"].sum()) == 1 + 1 + 5


def test_switches_turn_match_types_off(corpus):
    raw, metadata = corpus
    clusters, _ = run(raw, metadata, DedupeSettings(max_distance=0, pixel_identical=False, by_url=False))
    rows = clusters.set_index("image_id")
    assert rows.loc["exact_copy.png", "match_type"] == "exact"
    # identical pixels still give identical perceptual hashes: a near match at distance 0
    assert rows.loc["pixel_copy.png", ["match_type", "distance"]].tolist() == ["near", 0]
    assert rows.loc["url_twin_b.png", "is_root"]


def test_hashes_are_shared_by_exact_copies(corpus):
    raw, _ = corpus
    _, hashes = run(raw, None, DedupeSettings())
    rows = hashes.set_index("image_id")
    assert rows.loc["base.png"].equals(rows.loc["exact_copy.png"])
    assert rows.loc["base.png", "pixel_sha256"] == rows.loc["pixel_copy.png", "pixel_sha256"]
    assert rows.loc["base.png", "pixel_sha256"] != rows.loc["near_copy.jpg", "pixel_sha256"]
    assert len(rows.loc["base.png", "perceptual_hash"]) == 16


def test_parallel_and_repeated_runs_are_identical(corpus):
    raw, metadata = corpus
    first = run(raw, metadata, DedupeSettings())
    second = run(raw, metadata, DedupeSettings(), workers=2)
    pd.testing.assert_frame_equal(first[0], second[0])
    pd.testing.assert_frame_equal(first[1], second[1])


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
    clusters = write_dedupe(
        tmp_path / "inventory.csv", tmp_path / "clusters.csv", tmp_path / "hashes.csv", DedupeSettings(), metadata
    )
    again = pd.read_csv(tmp_path / "clusters.csv", keep_default_na=False)
    assert again["image_id"].tolist() == clusters["image_id"].tolist()
    assert list(pd.read_csv(tmp_path / "hashes.csv").columns) == HASH_COLUMNS


# --- clustering on synthetic edges ------------------------------------------------------


def images(*specs: tuple[str, int, int, int]) -> pd.DataFrame:
    return pd.DataFrame(specs, columns=["image_id", "width", "height", "bytes"])


def edges(*specs: tuple) -> pd.DataFrame:
    frame = pd.DataFrame(specs, columns=EDGE_COLUMNS)
    frame["distance"] = frame["distance"].astype("Int64")
    return frame


def test_links_are_transitive():
    found = build_clusters(
        images(("a", 10, 10, 100), ("b", 10, 10, 100), ("c", 10, 10, 100), ("d", 10, 10, 100), ("e", 10, 10, 100)),
        edges(("a", "b", "near", 3), ("b", "c", "url", None), ("d", "c", "exact", None)),
    ).set_index("image_id")
    assert set(found.loc[["a", "b", "c", "d"], "cluster_id"]) == {"a"}
    assert found.loc["e", "cluster_id"] == "e"
    assert found.loc["d", ["match_type", "matched_to"]].tolist() == ["exact", "c"]


@pytest.mark.parametrize(
    ("specs", "root"),
    [
        ([("a", 10, 10, 900), ("b", 20, 10, 100)], "b"),  # most pixels wins over bytes
        ([("a", 10, 10, 100), ("b", 10, 10, 900)], "b"),  # then most bytes
        ([("b", 10, 10, 100), ("a", 10, 10, 100)], "a"),  # then smallest id
        ([("z", 5, 40, 100), ("y", 10, 10, 100)], "z"),  # 200 px beats 100 px
    ],
)
def test_root_rule(specs, root):
    first, second = specs[0][0], specs[1][0]
    found = build_clusters(images(*specs), edges((first, second, "near", 2))).set_index("image_id")
    assert set(found["cluster_id"]) == {root}
    assert found.loc[root, "is_root"] and found["is_root"].sum() == 1
    other = second if root == first else first
    assert found.loc[other, ["match_type", "distance", "matched_to"]].tolist() == ["near", 2, root]


def test_member_is_explained_by_its_strongest_edge():
    found = build_clusters(
        images(("root", 20, 20, 100), ("m", 10, 10, 100), ("n", 10, 10, 50)),
        edges(("root", "m", "url", None), ("root", "m", "near", 5), ("root", "n", "near", 7), ("m", "n", "exact", None)),
    ).set_index("image_id")
    assert found.loc["m", ["match_type", "distance"]].tolist() == ["near", 5]
    assert found.loc["n", ["match_type", "matched_to"]].tolist() == ["exact", "m"]
    assert pd.isna(found.loc["n", "distance"])


def test_no_edges_means_all_singletons():
    found = build_clusters(images(("a", 1, 1, 1), ("b", 1, 1, 1)), edges())
    assert found["is_root"].all() and (found["cluster_id"] == found["image_id"]).all()
    assert found["matched_to"].isna().all()


def test_invalid_settings_name_the_key():
    with pytest.raises(ValueError, match="dedupe.hash"):
        DedupeSettings(hash="md5")
    with pytest.raises(ValueError, match="dedupe.hash_size"):
        DedupeSettings(hash="whash", hash_size=6)


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
    clusters, _ = dedupe(inventory, DedupeSettings(), urls=urls, workers=2)
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
