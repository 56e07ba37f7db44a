"""Folder listings (the image tree as an input) and atomic writes that survive killed jobs."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from images_as_data.common.atomic import atomic_dir, atomic_path, partial_path, write_if_changed
from images_as_data.common.listing import LOOP, OUTSIDE, list_tree, listing_csv, listing_csv_of_folders


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "project" / "raw"
    for day in ("2020-06-01", "2020-06-02/deeper"):
        (root / day).mkdir(parents=True)
    for i in range(3):
        (root / "2020-06-01" / f"img_{i:03d}.jpg").write_bytes(bytes([i]) * 100)
    (root / "2020-06-02" / "deeper" / "img_005.jpg").write_bytes(b"five" * 50)
    (root / ".snakemake_timestamp").write_bytes(b"")
    return root


def listing(root: Path) -> bytes:
    return listing_csv(list_tree(root))


def test_listing_lists_every_file_at_any_depth_but_snakemakes_marker(tree):
    assert [e.path for e in list_tree(tree)] == [
        "2020-06-01/img_000.jpg", "2020-06-01/img_001.jpg", "2020-06-01/img_002.jpg", "2020-06-02/deeper/img_005.jpg",
    ]  # fmt: skip


@pytest.mark.parametrize("change", ["add", "delete", "replace", "rename", "touch"])
def test_any_change_below_the_folder_changes_the_listing(tree, change):
    before = listing(tree)
    target = tree / "2020-06-02" / "deeper" / "img_005.jpg"
    if change == "add":
        (target.parent / "img_006.jpg").write_bytes(b"new")
    elif change == "delete":
        target.unlink()
    elif change == "replace":
        stat = target.stat()
        target.write_bytes(b"FIVE" * 50)  # same size
        os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    elif change == "rename":
        target.rename(target.with_name("img_050.jpg"))
    else:
        os.utime(target, ns=(target.stat().st_atime_ns, target.stat().st_mtime_ns + 10**9))
    assert listing(tree) != before


def test_moving_the_folder_or_looking_again_leaves_the_listing_unchanged(tree, tmp_path):
    before = listing(tree)
    assert listing(tree) == before
    moved = tmp_path / "elsewhere" / "project"
    shutil.move(tree.parent, moved)
    assert listing(moved / "raw") == before


def test_links_outside_are_listed_not_followed_unless_asked(tmp_path):
    root, outside = tmp_path / "raw", tmp_path / "outside"
    root.mkdir()
    (outside / "sub").mkdir(parents=True)
    (outside / "sub" / "x.jpg").write_bytes(b"x")
    (root / "out").symlink_to(outside / "sub", target_is_directory=True)
    (root / "loop").symlink_to(".", target_is_directory=True)
    excluded = {e.path: e for e in list_tree(root)}
    assert excluded["out"].kind == OUTSIDE and excluded["out"].target == str(outside / "sub")
    assert excluded["loop"].kind == LOOP
    followed = {e.path: e for e in list_tree(root, outside="follow")}
    assert followed["out/x.jpg"].kind == "file"


def test_task_folders_listing_counts_a_folder_appearing(tmp_path):
    folders = {"positive": tmp_path / "pos", "negative": tmp_path / "neg"}
    (tmp_path / "pos").mkdir()
    (tmp_path / "pos" / "a.jpg").write_bytes(b"a")
    before = listing_csv_of_folders(folders)
    (tmp_path / "neg").mkdir()
    assert listing_csv_of_folders(folders) != before
    assert b"positive/a.jpg" in before


def test_write_if_changed_keeps_the_time_stamp_of_an_unchanged_file(tmp_path):
    path = tmp_path / "snap" / "listing.csv"
    assert write_if_changed(b"a,b\n", path)
    os.utime(path, ns=(1, 1))
    assert not write_if_changed(b"a,b\n", path)
    assert path.stat().st_mtime_ns == 1
    assert write_if_changed(b"a,c\n", path) and path.read_bytes() == b"a,c\n"
    assert [p.name for p in path.parent.iterdir()] == ["listing.csv"]


def test_a_rerun_removes_what_a_killed_writer_left(tmp_path):
    target = tmp_path / "working" / "images"
    (partial_path(target) / "half").mkdir(parents=True)  # killed while writing
    (tmp_path / "working" / ".images.ab12cd_3").mkdir()  # left by the earlier mkdtemp naming
    with atomic_dir(target) as staging:
        (staging / "a.png").write_bytes(b"png")
    assert sorted(p.name for p in (tmp_path / "working").iterdir()) == ["images"]
    assert [p.name for p in target.iterdir()] == ["a.png"]
    partial_path(tmp_path / "model.pt", ".pt").write_bytes(b"half a model")
    with atomic_path(tmp_path / "model.pt") as tmp:
        tmp.write_bytes(b"model")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt", "working"]
