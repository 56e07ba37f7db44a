"""The inventory in shards gives what the whole inventory gives, and dedupe from the inventory's
analyses gives what dedupe analysing each image itself gives (issue 13: one decode per image,
scale-out)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from PIL import Image

from images_as_data.prepare.dedupe import Analyser, DedupeSettings, dedupe, read_views
from images_as_data.prepare.inventory import (
    InventoryRules,
    gather_inventory,
    parse_shard,
    read_inventory,
    shard_of,
    write_inventory,
    write_inventory_shard,
)

from .conftest import copy_workflow, run_snakemake
from .photos import caption_band, crop, letterbox, mirrored, photo, turned

RULES = InventoryRules(min_bytes=100, min_side=32)
SETTINGS = DedupeSettings(by_url=False)


def write_corpus(raw: Path) -> None:
    """Photos in sub-folders, their reposts, byte copies, and files the inventory excludes."""
    for seed in range(6):
        folder = raw / f"day{seed % 3}"
        folder.mkdir(parents=True, exist_ok=True)
        picture = photo(seed)
        picture.save(folder / f"photo_{seed}.jpg", quality=90)
        if seed < 3:
            mirrored(picture).save(folder / f"photo_{seed}_mirror.jpg", quality=85)
            letterbox(picture).save(folder / f"photo_{seed}_letterbox.png")
            crop(picture, 0.05, 0.05, 0.9, 0.9).save(folder / f"photo_{seed}_crop.jpg", quality=80)
            caption_band(picture).save(folder / f"photo_{seed}_caption.jpg", quality=85)
            turned(picture, 3).save(folder / f"photo_{seed}_turned.jpg", quality=90)
            (folder / f"photo_{seed}_copy.jpg").write_bytes((folder / f"photo_{seed}.jpg").read_bytes())
    (raw / "day0" / "truncated.jpg").write_bytes((raw / "day1" / "photo_1.jpg").read_bytes()[:3000])
    (raw / "day1" / "notes.txt").write_text("not an image " * 20)
    Image.fromarray(np.zeros((20, 300, 3), dtype=np.uint8) + 90).save(raw / "day2" / "thin.png")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    raw = tmp_path_factory.mktemp("shards") / "raw"
    write_corpus(raw)
    return raw


def test_parse_shard_and_stable_assignment():
    assert parse_shard("1-of-1") == (0, 1) and parse_shard("3-of-4") == (2, 4)
    paths = [f"day{i % 3}/photo_{i}.jpg" for i in range(200)]
    owners = shard_of(paths, 4)
    assert set(owners) == {0, 1, 2, 3}
    # a file keeps its shard whatever else is in the folder
    assert np.array_equal(shard_of(paths[::-1], 4), owners[::-1])
    assert np.array_equal(shard_of(paths[:7], 4), owners[:7])


def test_four_shards_gathered_equal_the_whole_inventory(corpus, tmp_path):
    analyser = Analyser(SETTINGS)
    whole = tmp_path / "whole"
    whole.mkdir()
    write_inventory(corpus, whole / "inventory.csv", RULES, analyser=analyser, views_csv=whole / "views.csv")
    sharded = tmp_path / "sharded"
    shard_csvs = []
    for index in range(4):
        shard_csv = sharded / f"{index + 1}-of-4.csv"
        part = write_inventory_shard(corpus, shard_csv, RULES, analyser=analyser, shard=(index, 4))
        assert len(part) < len(read_inventory(whole / "inventory.csv"))
        shard_csvs.append(shard_csv)
    gather_inventory(shard_csvs, sharded / "inventory.csv", sharded / "views.csv")
    for name in ("inventory.csv", "views.csv"):
        assert (sharded / name).read_bytes() == (whole / name).read_bytes(), name
    inventory = read_inventory(whole / "inventory.csv").set_index("image_id")
    assert inventory.loc["day0/truncated.jpg", "reason"].startswith("unreadable (truncated or corrupt")
    assert inventory.loc["day2/thin.png", "reason"].startswith("too few pixels")
    views = read_views(whole / "views.csv")
    assert set(views["image_id"]) == set(inventory.index[inventory["status"] == "kept"])


def test_dedupe_from_the_inventorys_analyses_equals_dedupe_alone(corpus, tmp_path):
    write_inventory(corpus, tmp_path / "inventory.csv", RULES, analyser=Analyser(SETTINGS), views_csv=tmp_path / "views.csv")
    inventory = read_inventory(tmp_path / "inventory.csv")
    from_views = dedupe(inventory, SETTINGS, views=read_views(tmp_path / "views.csv"))
    alone = dedupe(inventory, SETTINGS)
    for table in ("clusters", "hashes", "pairs"):
        pd.testing.assert_frame_equal(getattr(from_views, table), getattr(alone, table))
    clusters = from_views.clusters.set_index("image_id")
    # the reposts of the first photographs joined them; the photographs stayed apart
    assert clusters.loc["day0/photo_0_mirror.jpg", "cluster_id"] == clusters.loc["day0/photo_0.jpg", "cluster_id"]
    assert clusters.loc["day1/photo_1_crop.jpg", "cluster_id"] == clusters.loc["day1/photo_1.jpg", "cluster_id"]
    assert clusters["cluster_id"].nunique() == 6


def test_views_made_under_other_settings_are_refused(corpus, tmp_path):
    write_inventory(corpus, tmp_path / "inventory.csv", RULES, analyser=Analyser(DedupeSettings(crops=False)), views_csv=tmp_path / "views.csv")
    with pytest.raises(ValueError, match="other dedupe settings: rerun it"):
        dedupe(read_inventory(tmp_path / "inventory.csv"), SETTINGS, views=read_views(tmp_path / "views.csv"))


def test_analyser_takes_only_analysis_settings():
    assert Analyser.of({"crops": False, "hash_size": 4}).settings.bits == 16
    with pytest.raises(ValueError, match="max_distance"):
        Analyser.of({"max_distance": 4})


PREPARED = ["results/inventory/inventory.csv", "results/inventory/views.csv", "results/dedupe/clusters.csv",
            "results/dedupe/pairs.csv", "results/dedupe/hashes.csv", "results/working/manifest.csv"]  # fmt: skip


def test_sharded_workflow_run_equals_the_unsharded_run(corpus, tmp_path):
    """inventory.shards 4 against 1 through the workflow: the same inventory, clusters and working images."""
    outputs = {}
    for shards in (1, 4):
        workdir = copy_workflow(tmp_path / f"shards{shards}")
        config = yaml.safe_load((workdir / "config" / "own_data.yaml").read_text())
        config["data"] = {"images": str(corpus), "annotations": "data/annotations.csv", "metadata": None}
        config["inventory"] = {"min_bytes": RULES.min_bytes, "min_side": RULES.min_side, "shards": shards}
        config["working"] = {"short_side": 64, "shards": shards}
        (workdir / "data").mkdir(exist_ok=True)
        pd.DataFrame({"image_id": ["day0/photo_0.jpg"], "annotator": ["a"], "protest": ["yes"]}).to_csv(workdir / "data/annotations.csv", index=False)
        configfile = workdir / "study.yaml"
        configfile.write_text(yaml.safe_dump(config, sort_keys=False))
        done = run_snakemake(workdir, configfile, "--cores", "2", *PREPARED, timeout=600)
        assert done.returncode == 0, done.stderr[-4000:]
        if shards == 4:
            assert len(list((workdir / "results/inventory/shards").glob("*-of-4.csv"))) == 4
            assert sorted(p.name for p in (workdir / "results/logs/prepare").glob("working_images_*-of-4.log")) == [
                f"working_images_{i}-of-4.log" for i in range(1, 5)
            ]
        outputs[shards] = {name: (workdir / name).read_bytes() for name in PREPARED}
        images = workdir / "results/working/images"
        outputs[shards]["images"] = {str(p.relative_to(images)): p.read_bytes() for p in sorted(images.rglob("*.png"))}
    for name in [*PREPARED, "images"]:
        assert outputs[4][name] == outputs[1][name], name
