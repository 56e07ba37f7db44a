"""Task label rules: binary any-yes, the book's emotion rule, external/folder/presplit images."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from images_as_data.labels.tasks import (
    LABEL_COLUMNS,
    LabelError,
    build_task_labels,
    emotion_label,
    file_sha256,
    write_task_labels,
)

EMOTIONS = ["fear", "anger", "disgust", "sadness", "enthusiasm"]
LABELS_CONFIG = {"emotions": EMOTIONS, "emotion_min_score": 3, "emotion_min_gap": 3}


def scores(**values: float) -> dict[str, float]:
    return {name: float(values.get(name, 0.0)) for name in EMOTIONS}


@pytest.mark.parametrize(
    ("means", "expected"),
    [
        (scores(anger=3), "positive"),  # exactly the minimum score, gap 3 to the zeros
        (scores(anger=2.99), None),  # below the minimum score
        (scores(anger=5, fear=2), "positive"),  # gap exactly 3
        (scores(anger=5, fear=2.01), None),  # gap just below 3
        (scores(anger=6, fear=6), None),  # tie for the top emotion
        (scores(fear=8, anger=4), None),  # anger is not the top emotion
        (scores(), "negative"),  # all zeros
        (scores(fear=0.5), None),  # not all zero, anger not positive: dropped
        (scores(anger=10 / 3, fear=1 / 3), "positive"),  # means of three annotators; float rounding
    ],
)
def test_emotion_rule_edge_cases(means, expected):
    assert emotion_label(means, "anger", min_score=3, min_gap=3) == expected


def test_tie_is_never_positive_even_without_gap():
    assert emotion_label(scores(anger=6, fear=6), "anger", min_score=3, min_gap=0) is None
    assert emotion_label(scores(anger=6, fear=5.5), "anger", min_score=3, min_gap=0) == "positive"


def corpus_tables(rows: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    aggregated = pd.DataFrame(rows)
    manifest = pd.DataFrame(
        {
            "image_id": aggregated["cluster_id"],
            "cluster_id": aggregated["cluster_id"],
            "path": "w/" + aggregated["cluster_id"] + ".png",
        }
    )
    return aggregated, manifest


def test_binary_task_any_yes_and_working_paths():
    aggregated, manifest = corpus_tables([{"cluster_id": "a.jpg", "protest": 1}, {"cluster_id": "b.jpg", "protest": 0}])
    labels = build_task_labels("protest", {"type": "binary", "column": "protest"}, LABELS_CONFIG, aggregated, manifest)
    assert list(labels.columns) == LABEL_COLUMNS
    assert labels.set_index("image_id")["label"].to_dict() == {"a.jpg": "positive", "b.jpg": "negative"}
    assert labels["path"].tolist() == ["w/a.jpg.png", "w/b.jpg.png"]
    assert set(labels["source"]) == {"corpus"}


def test_emotion_task_drops_ambiguous_images():
    aggregated, manifest = corpus_tables(
        [
            {"cluster_id": "pos.jpg", **scores(anger=4)},
            {"cluster_id": "neg.jpg", **scores()},
            {"cluster_id": "tie.jpg", **scores(anger=5, fear=5)},
            {"cluster_id": "weak.jpg", **scores(anger=2)},
        ]
    )
    labels = build_task_labels("anger", {"type": "emotion"}, LABELS_CONFIG, aggregated, manifest)
    assert labels.set_index("image_id")["label"].to_dict() == {"neg.jpg": "negative", "pos.jpg": "positive"}


def test_missing_working_image_is_an_error():
    aggregated, manifest = corpus_tables([{"cluster_id": "a.jpg", "protest": 1}])
    with pytest.raises(LabelError, match="a.jpg"):
        build_task_labels(
            "protest", {"type": "binary", "column": "protest"}, LABELS_CONFIG, aggregated, manifest.iloc[0:0]
        )


def save_image(path, seed: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 256, size=(8, 8, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)


def test_external_images_group_exact_copies(tmp_path):
    corpus_file = tmp_path / "raw" / "a.jpg.png"
    save_image(corpus_file, 1)
    external = tmp_path / "web"
    save_image(external / "pos" / "one.png", 2)
    save_image(external / "pos" / "sub" / "copy_of_one.png", 2)
    (external / "neg").mkdir()
    (external / "neg" / "corpus_copy.png").write_bytes(corpus_file.read_bytes())
    (external / "neg" / "notes.txt").write_text("not an image")
    aggregated, manifest = corpus_tables([{"cluster_id": "a.jpg", "legend": 0}])
    spec = {
        "type": "binary",
        "column": "legend",
        "external": {"positive": str(external / "pos"), "negative": str(external / "neg")},
    }
    corpus_clusters = {file_sha256(corpus_file): "a.jpg"}
    labels = build_task_labels("legend", spec, LABELS_CONFIG, aggregated, manifest, corpus_clusters).set_index(
        "image_id"
    )
    assert set(labels.index) == {
        "a.jpg",
        "legend:positive/one.png",
        "legend:positive/sub/copy_of_one.png",
        "legend:negative/corpus_copy.png",
    }
    assert labels.loc["legend:negative/corpus_copy.png", "cluster_id"] == "a.jpg"
    copies = labels.loc[["legend:positive/one.png", "legend:positive/sub/copy_of_one.png"], "cluster_id"]
    assert copies.nunique() == 1 and copies.iloc[0].startswith("sha256:")
    assert labels.loc["legend:positive/one.png", "source"] == "external"
    assert labels.loc["legend:positive/one.png", "path"] == (external / "pos" / "one.png").as_posix()


def test_folders_task_takes_class_from_folder(tmp_path):
    for name, seed in [("cats/1.png", 1), ("cats/2.png", 2), ("dogs/1.png", 3)]:
        save_image(tmp_path / "pets" / name, seed)
    labels = build_task_labels("pets", {"type": "folders", "path": str(tmp_path / "pets")}, LABELS_CONFIG)
    assert labels.set_index("image_id")["label"].to_dict() == {
        "pets:cats/1.png": "cats",
        "pets:cats/2.png": "cats",
        "pets:dogs/1.png": "dogs",
    }
    assert "given_split" not in labels.columns
    save_image(tmp_path / "pets" / "loose.png", 4)
    with pytest.raises(LabelError, match="loose.png is not inside a class folder"):
        build_task_labels("pets", {"type": "folders", "path": str(tmp_path / "pets")}, LABELS_CONFIG)


def test_presplit_task_records_given_split(tmp_path):
    root = tmp_path / "leaders"
    for name, seed in [("train/obama/1.png", 1), ("train/abe/1.png", 2), ("val/obama/2.png", 3), ("val/abe/2.png", 4)]:
        save_image(root / name, seed)
    out = tmp_path / "labels" / "leaders.csv"
    write_task_labels("leaders", {"type": "presplit", "path": str(root)}, {}, out)
    labels = pd.read_csv(out).set_index("image_id")
    assert labels.loc["leaders:val/abe/2.png", ["label", "given_split"]].tolist() == ["abe", "val"]
    assert labels["given_split"].value_counts().to_dict() == {"train": 2, "val": 2}


def test_presplit_task_without_val_stops(tmp_path):
    save_image(tmp_path / "leaders" / "train" / "obama" / "1.png", 1)
    with pytest.raises(LabelError, match="val/ holds no images"):
        build_task_labels("leaders", {"type": "presplit", "path": str(tmp_path / "leaders")}, {})
    save_image(tmp_path / "leaders" / "validation" / "obama" / "2.png", 2)
    with pytest.raises(LabelError, match="validation"):
        build_task_labels("leaders", {"type": "presplit", "path": str(tmp_path / "leaders")}, {})


def test_presplit_task_in_the_authors_train_test_layout(tmp_path):
    """The authors' data have train/ and test/, and their scripts validate on test/."""
    root = tmp_path / "protest"
    for name, seed in [("train/positive/1.png", 1), ("train/negative/1.png", 2), ("test/positive/2.png", 3),
                       ("test/negative/2.png", 4)]:  # fmt: skip
        save_image(root / name, seed)
    with pytest.raises(LabelError, match=r"set tasks.protest.val_folder: test"):
        build_task_labels("protest", {"type": "presplit", "path": str(root)}, {})
    labels = build_task_labels("protest", {"type": "presplit", "path": str(root), "val_folder": "test"}, {})
    assert labels.set_index("image_id")["given_split"].to_dict() == {
        "protest:test/negative/2.png": "val", "protest:test/positive/2.png": "val",
        "protest:train/negative/1.png": "train", "protest:train/positive/1.png": "train",
    }  # fmt: skip
    save_image(root / "val" / "positive" / "3.png", 5)
    with pytest.raises(LabelError, match=r"folder one of \['train', 'test'\].*tasks.protest.val_folder"):
        build_task_labels("protest", {"type": "presplit", "path": str(root), "val_folder": "test"}, {})
