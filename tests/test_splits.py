"""Splits: balance, whole clusters per split, stratified proportions, determinism, presplit."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from images_as_data.labels.splits import SplitError, make_splits, split_targets, write_splits

TRAIN_VAL = {"scheme": "train_val", "train_fraction": 0.8, "val_fraction": 0.2, "test_fraction": 0.0, "balance": True}
TRAIN_VAL_TEST = {**TRAIN_VAL, "scheme": "train_val_test", "val_fraction": 0.1, "test_fraction": 0.1}


def labels_frame(n_positive: int, n_negative: int, cluster_size: int = 1) -> pd.DataFrame:
    """Labels where consecutive images of a class form clusters of ``cluster_size``."""
    rows = []
    for label, n in (("positive", n_positive), ("negative", n_negative)):
        for index in range(n):
            image_id = f"{label}_{index:04d}.jpg"
            cluster = f"{label}_{index - index % cluster_size:04d}.jpg"
            rows.append(
                {
                    "image_id": image_id,
                    "path": f"w/{image_id}",
                    "label": label,
                    "source": "corpus",
                    "cluster_id": cluster,
                }
            )
    return pd.DataFrame(rows)


def test_book_rounding_of_held_out_splits():
    assert split_targets(97, {"train": 0.8, "val": 0.2}) == {"train": 77, "val": 20}
    assert split_targets(99, {"train": 0.8, "val": 0.2}) == {"train": 79, "val": 20}
    assert split_targets(100, {"train": 0.8, "val": 0.2}) == {"train": 80, "val": 20}
    assert split_targets(100, {"train": 0.8, "val": 0.1, "test": 0.1}) == {"train": 80, "val": 10, "test": 10}


def test_balance_matches_class_sizes():
    splits = make_splits(labels_frame(30, 70), "protest", "binary", TRAIN_VAL, seed=1)
    assert splits["label"].value_counts().to_dict() == {"negative": 30, "positive": 30}
    assert splits.groupby(["label", "split"]).size().to_dict() == {
        ("negative", "train"): 24,
        ("negative", "val"): 6,
        ("positive", "train"): 24,
        ("positive", "val"): 6,
    }


def test_folders_tasks_are_not_balanced():
    splits = make_splits(labels_frame(30, 70), "pets", "folders", TRAIN_VAL, seed=1)
    assert len(splits) == 100


def test_no_cluster_crosses_splits():
    labels = labels_frame(40, 40, cluster_size=4)  # ten clusters of four images per class
    splits = make_splits(labels, "protest", "binary", TRAIN_VAL, seed=3)
    assert (splits.groupby("cluster_id")["split"].nunique() == 1).all()
    assert splits.groupby(["label", "split"]).size().to_dict() == {
        ("negative", "train"): 32,
        ("negative", "val"): 8,
        ("positive", "train"): 32,
        ("positive", "val"): 8,
    }


def test_train_val_test_proportions():
    splits = make_splits(labels_frame(100, 100), "protest", "binary", TRAIN_VAL_TEST, seed=5)
    counts = splits.groupby(["label", "split"]).size()
    for label in ("positive", "negative"):
        assert counts[label].to_dict() == {"test": 10, "train": 80, "val": 10}
    assert splits["split"].drop_duplicates().tolist() == ["train", "val", "test"]


def test_same_seed_is_byte_identical_and_other_seed_differs(tmp_path):
    labels = tmp_path / "protest_labels.csv"
    labels_frame(40, 90).to_csv(labels, index=False)
    outputs = []
    for name, seed in (("a", 2020), ("b", 2020), ("c", 2021)):
        out = tmp_path / f"{name}.csv"
        write_splits(labels, out, "protest", "binary", TRAIN_VAL, seed)
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    assert outputs[0] != outputs[2]


def test_task_name_changes_the_draw():
    labels = labels_frame(40, 90)
    first = make_splits(labels, "protest", "binary", TRAIN_VAL, seed=1)
    second = make_splits(labels, "legend", "binary", TRAIN_VAL, seed=1)
    assert not first.equals(second)


def test_presplit_keeps_given_split():
    labels = pd.DataFrame(
        {
            "image_id": ["t:train/a/1", "t:val/a/2", "t:train/b/3", "t:val/b/4", "t:train/b/5"],
            "path": ["1", "2", "3", "4", "5"],
            "label": ["a", "a", "b", "b", "b"],
            "source": "folder",
            "cluster_id": ["c1", "c2", "c3", "c4", "c5"],
            "given_split": ["train", "val", "train", "val", "train"],
        }
    )
    splits = make_splits(labels, "t", "presplit", TRAIN_VAL, seed=1).set_index("image_id")
    assert splits["split"].to_dict() == dict(zip(labels["image_id"], labels["given_split"]))


def test_too_small_class_names_task_and_class():
    unbalanced = {**TRAIN_VAL, "balance": False}
    with pytest.raises(SplitError, match=r"task fear, class 'positive': 1 image"):
        make_splits(labels_frame(1, 10), "fear", "emotion", unbalanced, seed=1)
    one_cluster = labels_frame(8, 8)
    one_cluster.loc[one_cluster["label"] == "positive", "cluster_id"] = "positive_0000.jpg"
    with pytest.raises(SplitError, match=r"task fear, class 'positive': 8 image\(s\) in 1 cluster"):
        make_splits(one_cluster, "fear", "emotion", TRAIN_VAL, seed=1)


def test_materialised_folders_link_to_the_images(tmp_path):
    labels = labels_frame(5, 5)
    (tmp_path / "w").mkdir()
    for path in labels["path"]:
        (tmp_path / path).write_bytes(path.encode())
    labels["path"] = [str(tmp_path / path) for path in labels["path"]]
    labels_csv = tmp_path / "labels.csv"
    labels.to_csv(labels_csv, index=False)
    folders = tmp_path / "splits" / "protest"
    splits = write_splits(labels_csv, tmp_path / "splits" / "protest.csv", "protest", "binary", TRAIN_VAL, 1, folders)
    links = sorted(folders.rglob("*.jpg"))
    assert len(links) == len(splits) == 10
    assert all(link.is_symlink() and not os.path.isabs(os.readlink(link)) for link in links)
    first = splits.iloc[0]
    link = folders / first["split"] / first["label"] / first["image_id"]
    assert link.read_bytes() == open(first["path"], "rb").read()
