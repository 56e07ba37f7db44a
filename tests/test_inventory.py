"""Inventory: every raw file gets one row; exclusions are checked in order with a reason."""

from __future__ import annotations

import hashlib
import os
import struct
import unicodedata
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from images_as_data.prepare import inventory as inventory_module
from images_as_data.prepare.inventory import (
    INVENTORY_COLUMNS,
    InventoryRules,
    build_inventory,
    find_raw_files,
    image_id_problem,
    inspect_file,
    read_inventory,
    reason_category,
    write_inventory,
)

RULES = InventoryRules(min_bytes=1000, max_pixels=200 * 200, min_side=16)


def noise(width: int, height: int, mode: str = "RGB", seed: int = 0) -> Image.Image:
    """Incompressible pixels, so files are comfortably above RULES.min_bytes."""
    rng = np.random.default_rng(seed)
    channels = len(Image.new(mode, (1, 1)).getbands())
    array = rng.integers(0, 256, size=(height, width, channels), dtype=np.uint8)
    return Image.fromarray(array.squeeze(-1) if channels == 1 else array, mode=None).convert(mode)


def png_bomb(path: Path, width: int, height: int, padding: int = 4000) -> None:
    """A PNG whose header claims ``width x height`` but carries almost no data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"tEXt", b"pad\x00" + b"x" * padding)
    body += chunk(b"IDAT", zlib.compress(b"\x00" * 100)) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "raw"
    (root / "nested" / "deeper").mkdir(parents=True)
    (root / ".hidden").mkdir()
    noise(64, 48).save(root / "good.png")
    noise(40, 40, seed=1).save(root / "nested" / "deeper" / "b.jpg", quality=95)
    noise(40, 40, seed=2).save(root / ".hidden" / ".dot.png")
    noise(8, 8).save(root / "tiny.png")  # under min_bytes
    (root / "fake.jpg").write_text("this is not an image\n" * 100)  # not an image
    (root / "small_text.jpg").write_text("short")  # both too small and not an image: size first
    (root / "empty.jpg").write_bytes(b"")  # a failed download
    noise(300, 300, "L").save(root / "big.png")  # over max_pixels (90000 > 40000)
    png_bomb(root / "bomb.png", 30000, 30000)  # 900 Mpx: beyond PIL's own guard too
    full = root / "truncated.jpg"
    noise(100, 100, seed=3).save(full, quality=95)
    full.write_bytes(full.read_bytes()[: full.stat().st_size // 2])  # unreadable
    noise(200, 10).save(root / "thin.png")  # too few pixels
    noise(40, 40, "CMYK").save(root / "cmyk.jpg", quality=95)
    frames = [noise(40, 40, seed=s).convert("P", palette=Image.Palette.ADAPTIVE) for s in range(3)]
    frames[0].save(root / "anim.gif", save_all=True, append_images=frames[1:], duration=50)
    noise(40, 40, "RGBA").save(root / "alpha.png")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees to display: stored size must be reported
    noise(60, 30).save(root / "rotated.jpg", exif=exif, quality=95)
    noise(40, 40).save(root / "back\\slash.png")
    noise(40, 40).save(root / "new\nline.png")
    return root


def test_every_file_gets_one_row_with_the_expected_reason(corpus: Path):
    inventory = build_inventory(corpus, RULES).set_index("image_id")
    assert inventory.index.is_unique and len(inventory) == 17
    expected = {
        "good.png": "kept",
        "nested/deeper/b.jpg": "kept",
        ".hidden/.dot.png": "kept",
        "cmyk.jpg": "kept",
        "anim.gif": "kept",
        "alpha.png": "kept",
        "rotated.jpg": "kept",
        "tiny.png": "under min_bytes",
        "small_text.jpg": "under min_bytes",
        "empty.jpg": "under min_bytes",
        "fake.jpg": "not an image",
        "big.png": "over max_pixels",
        "bomb.png": "over max_pixels",
        "truncated.jpg": "unreadable",
        "thin.png": "too few pixels",
        "back\\slash.png": "invalid image id",
        "new\nline.png": "invalid image id",
    }
    for image_id, outcome in expected.items():
        row = inventory.loc[image_id]
        if outcome == "kept":
            assert row["status"] == "kept" and row["reason"] == "", image_id
        else:
            assert row["status"] == "excluded", image_id
            assert reason_category(row["reason"]) == outcome, (image_id, row["reason"])
    tiny_size = (corpus / "tiny.png").stat().st_size
    assert inventory.loc["tiny.png", "reason"] == f"under 1000 bytes ({tiny_size} bytes)"
    assert inventory.loc["empty.jpg", "reason"] == "under 1000 bytes (an empty file)"
    assert "30000 x 30000" in inventory.loc["bomb.png", "reason"]
    assert "shorter side 10 < 16" in inventory.loc["thin.png", "reason"]


def test_recorded_properties(corpus: Path):
    inventory = build_inventory(corpus, RULES).set_index("image_id")
    assert inventory.loc["cmyk.jpg", ["format", "mode"]].tolist() == ["JPEG", "CMYK"]
    assert inventory.loc["anim.gif", ["format", "mode", "n_frames"]].tolist() == ["GIF", "P", 3]
    assert inventory.loc["alpha.png", "mode"] == "RGBA"
    assert inventory.loc["rotated.jpg", ["width", "height"]].tolist() == [60, 30]  # as stored
    assert inventory.loc["bomb.png", ["width", "height"]].tolist() == [30000, 30000]
    for image_id, row in inventory.iterrows():
        digest = hashlib.sha256(Path(row["path"]).read_bytes()).hexdigest()
        assert row["sha256"] == digest, image_id
        assert row["bytes"] == Path(row["path"]).stat().st_size


def test_rows_are_sorted_and_counts_reconcile(corpus: Path, caplog):
    caplog.set_level("INFO")
    inventory = build_inventory(corpus, RULES)
    assert inventory["image_id"].tolist() == sorted(inventory["image_id"])
    assert list(inventory.columns) == INVENTORY_COLUMNS
    assert "raw files 17 = kept 7 + excluded 10" in caplog.text


def test_parallel_run_equals_serial_run(corpus: Path):
    serial = build_inventory(corpus, RULES, workers=1)
    parallel = build_inventory(corpus, RULES, workers=2, progress_every=5)
    pd.testing.assert_frame_equal(serial, parallel)


def test_undecodable_file_name_is_excluded_not_fatal(tmp_path: Path):
    root = tmp_path / "raw"
    root.mkdir()
    name = os.fsdecode(b"caf\xe9.png")  # Latin-1 bytes: not valid UTF-8
    noise(40, 40).save(os.path.join(root, name))
    row = inspect_file(find_raw_files(root)[0], str(root), RULES)
    assert row["status"] == "excluded" and "not valid UTF-8" in row["reason"]
    assert row["image_id"] == "caf\\xe9.png"
    row["image_id"].encode("utf-8")


def test_broken_link_is_excluded(tmp_path: Path):
    root = tmp_path / "raw"
    root.mkdir()
    (root / "gone.png").symlink_to(root / "missing.png")
    inventory = build_inventory(root, RULES)
    assert inventory.loc[0, "reason"].startswith("not a regular file")


@pytest.mark.parametrize(
    ("image_id", "problem"),
    [
        ("protest/img_1.jpg", None),
        ("a b/c,d.jpg", None),
        ("/abs/path.jpg", "absolute"),
        ("../up.jpg", ".."),
        ("a//b.jpg", "empty"),
        ("dir\\file.jpg", "backslash"),
        ("tab\there.jpg", "control"),
        ("dir/ padded.jpg", "whitespace"),
        ("", "empty"),
    ],
)
def test_image_id_problem(image_id: str, problem: str | None):
    found = image_id_problem(image_id)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


def test_missing_folder_names_the_config_key(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="data.images"):
        build_inventory(tmp_path / "nowhere", RULES)


def test_written_csv_round_trips(corpus: Path, tmp_path: Path):
    out = tmp_path / "out" / "inventory.csv"
    written = write_inventory(corpus, out, RULES)
    again = read_inventory(out)
    assert list(again.columns) == INVENTORY_COLUMNS
    assert again["image_id"].tolist() == written["image_id"].tolist()
    assert again["sha256"].tolist() == written["sha256"].tolist()
    assert (again["status"] == "kept").sum() == 7


def test_read_inventory_names_missing_columns(tmp_path: Path):
    path = tmp_path / "inventory.csv"
    pd.DataFrame({"image_id": ["a.jpg"]}).to_csv(path, index=False)
    with pytest.raises(ValueError, match="inventory.csv.*missing inventory columns"):
        read_inventory(path)


def test_snakemakes_folder_marker_is_not_a_corpus_file(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.jpg").write_bytes(b"x")
    (tmp_path / ".snakemake_timestamp").write_bytes(b"")
    (tmp_path / ".hidden.png").write_bytes(b"y")
    assert find_raw_files(tmp_path) == [".hidden.png", "sub/a.jpg"]


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


@pytest.fixture
def linked(tmp_path: Path) -> Path:
    """A corpus with every kind of link: to a file inside and outside, to a folder inside and
    outside, a folder looping back, and a link to nothing outside."""
    root = tmp_path / "raw"
    (root / "2020-06-01").mkdir(parents=True)
    outside = tmp_path / "elsewhere"
    (outside / "folder").mkdir(parents=True)
    noise(40, 40, seed=1).save(root / "2020-06-01" / "a.png")
    noise(40, 40, seed=2).save(outside / "secret.png")
    noise(40, 40, seed=3).save(outside / "folder" / "b.png")
    (root / "inside_link.png").symlink_to("2020-06-01/a.png")
    (root / "outside_link.png").symlink_to(outside / "secret.png")
    (root / "by_topic").symlink_to("2020-06-01", target_is_directory=True)
    (root / "outside_folder").symlink_to(outside / "folder", target_is_directory=True)
    (root / "2020-06-01" / "loop").symlink_to("..", target_is_directory=True)
    (root / "dangling.png").symlink_to(outside / "gone.png")
    return root


def test_symbolic_links_follow_one_rule_and_outside_targets_are_never_read(linked: Path, monkeypatch):
    opened = []
    real_sha, real_open = inventory_module.file_sha256, inventory_module.Image.open
    monkeypatch.setattr(inventory_module, "file_sha256", lambda path: opened.append(os.path.realpath(path)) or real_sha(path))
    monkeypatch.setattr(inventory_module.Image, "open", lambda path, *a: opened.append(os.path.realpath(path)) or real_open(path, *a))
    inventory = build_inventory(linked, RULES).set_index("image_id")
    assert sorted(inventory.index) == [
        "2020-06-01/a.png", "2020-06-01/loop", "by_topic/a.png", "by_topic/loop",
        "dangling.png", "inside_link.png", "outside_folder", "outside_link.png",
    ]  # fmt: skip
    kept = inventory[inventory["status"] == "kept"]
    assert sorted(kept.index) == ["2020-06-01/a.png", "by_topic/a.png", "inside_link.png"]
    assert kept["sha256"].nunique() == 1  # one picture, reached three ways (dedupe merges them)
    for image_id in ("outside_link.png", "outside_folder", "dangling.png"):
        assert inventory.loc[image_id, "reason"].startswith("link outside data.images"), image_id
        assert pd.isna(inventory.loc[image_id, "sha256"])
    assert "looping back" in inventory.loc["2020-06-01/loop", "reason"]
    outside = linked.parent / "elsewhere"
    assert not [path for path in opened if path.startswith(str(outside))], "a file outside data.images was read"
    assert (inventory["status"] == "kept").sum() + (inventory["status"] == "excluded").sum() == len(inventory)


def test_ids_are_nfc_whatever_the_spelling_on_disk(tmp_path: Path):
    root = tmp_path / "raw"
    (root / unicodedata.normalize("NFD", "Zürich")).mkdir(parents=True)
    noise(40, 40).save(root / unicodedata.normalize("NFD", "Zürich") / unicodedata.normalize("NFD", "café.png"))
    inventory = build_inventory(root, RULES)
    assert inventory["image_id"].tolist() == [unicodedata.normalize("NFC", "Zürich/café.png")]
    assert inventory.loc[0, "status"] == "kept"
    assert Path(inventory.loc[0, "path"]).exists()  # the path is the spelling on disk


def test_two_spellings_of_one_name_keep_distinct_ids_and_the_second_is_excluded(tmp_path: Path):
    root = tmp_path / "raw"
    root.mkdir()
    noise(40, 40, seed=1).save(root / unicodedata.normalize("NFC", "café.png"))
    noise(40, 40, seed=2).save(root / unicodedata.normalize("NFD", "café.png"))
    inventory = build_inventory(root, RULES).set_index("image_id")
    assert inventory.index.is_unique and len(inventory) == 2
    assert inventory.loc[unicodedata.normalize("NFC", "café.png"), "status"] == "kept"
    other = inventory.loc[unicodedata.normalize("NFD", "café.png")]
    assert other["status"] == "excluded" and "Unicode NFC" in other["reason"]


def test_cache_hashes_and_decodes_only_what_changed(corpus: Path, tmp_path: Path, monkeypatch):
    out, cache = tmp_path / "inventory.csv", tmp_path / ".inventory_cache.csv"
    first = write_inventory(corpus, out, RULES, cache_csv=cache)
    hashed = []
    real_sha = inventory_module.file_sha256
    monkeypatch.setattr(inventory_module, "file_sha256", lambda path: hashed.append(Path(path).name) or real_sha(path))
    noise(64, 48, seed=9).save(corpus / "good.png")  # replaced
    noise(40, 40, seed=10).save(corpus / "nested" / "new.png")  # added
    (corpus / "fake.jpg").unlink()  # deleted
    second = write_inventory(corpus, out, RULES, cache_csv=cache)
    assert sorted(hashed) == ["good.png", "new.png"]
    assert out.read_bytes() == csv_bytes(build_inventory(corpus, RULES)), "reused rows must equal fresh ones"
    assert "fake.jpg" not in set(second["image_id"]) and "nested/new.png" in set(second["image_id"])
    changed = second.set_index("image_id").loc["good.png", "sha256"]
    assert changed != first.set_index("image_id").loc["good.png", "sha256"]
    hashed.clear()
    write_inventory(corpus, out, RULES.__class__(min_bytes=1000, max_pixels=200 * 200, min_side=41), cache_csv=cache)
    assert hashed == [], "new rules re-check the images but reuse their hashes"


def test_unreadable_cache_is_ignored(corpus: Path, tmp_path: Path):
    cache = tmp_path / ".inventory_cache.csv"
    cache.write_text("garbage,\n1,2,3\n")
    write_inventory(corpus, tmp_path / "inventory.csv", RULES, cache_csv=cache)
    assert (tmp_path / "inventory.csv").read_bytes() == csv_bytes(build_inventory(corpus, RULES))
