"""Table 7.1 counts and Figures 7.1, 7.2, 4.2, 4.3 (non-empty PNG and PDF)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from images_as_data.labels.figures import (
    cooccurrence,
    emotion_label_counts,
    emotions_per_image,
    evoked,
    write_figure_7_1,
    write_figure_7_2,
    write_table_7_1,
)
from images_as_data.prepare.figures import pick_example_image, write_figures_4_2_4_3

EMOTIONS = ["fear", "anger", "sadness"]


def aggregated_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "cluster_id": ["a", "b", "c", "d"],
            "fear": [0.0, 4.0, 1.0, 0.0],
            "anger": [0.0, 0.0, 2.0, 6.0],
            "sadness": [0.0, 0.0, 3.0, 0.5],
        }
    )


def test_emotions_per_image_and_cooccurrence():
    flags = evoked(aggregated_frame(), EMOTIONS)
    assert emotions_per_image(flags).tolist() == [0.25, 0.25, 0.25, 0.25]
    matrix = cooccurrence(flags)
    assert matrix.loc["fear", "anger"] == pytest.approx(0.5)  # b and c evoke fear; c also anger
    assert matrix.loc["anger", "fear"] == pytest.approx(0.5)
    assert matrix.loc["sadness", "anger"] == pytest.approx(1.0)
    assert np.allclose(np.diag(matrix.values), 1.0)


def test_emotion_label_counts_follow_the_rule():
    counts = emotion_label_counts(aggregated_frame(), EMOTIONS, min_score=3, min_gap=3)
    assert counts.loc["fear"].tolist() == [1, 1]  # b positive; a is the one all-zero image
    assert counts.loc["anger"].tolist() == [1, 1]  # d: 6 vs 0.5
    assert counts.loc["sadness"].tolist() == [0, 1]


def write_split(path, task, counts: dict[tuple[str, str], int]) -> pd.DataFrame:
    rows = [
        {"image_id": f"{task}_{label}_{split}_{i}", "path": "p", "label": label, "split": split, "cluster_id": f"c{i}"}
        for (label, split), n in counts.items()
        for i in range(n)
    ]
    frame = pd.DataFrame(rows)
    frame.to_csv(path, index=False)
    return frame


def test_table_7_1_counts_match_splits(tmp_path):
    protest = write_split(
        tmp_path / "protest.csv",
        "protest",
        {("positive", "train"): 79, ("positive", "val"): 20, ("negative", "train"): 80, ("negative", "val"): 20},
    )
    leaders = write_split(
        tmp_path / "leaders.csv",
        "leaders",
        {("obama", "train"): 4, ("obama", "val"): 1, ("abe", "train"): 4, ("abe", "val"): 1},
    )
    # protest in the authors' layout: train/ and test/, test/ being the validation set.
    counts = write_table_7_1(
        [tmp_path / "protest.csv", tmp_path / "leaders.csv"], tmp_path / "t.csv", tmp_path / "t.md",
        folders={"protest": {"train": "train", "val": "test"}},
    )  # fmt: skip
    table = pd.read_csv(tmp_path / "t.csv", keep_default_na=False)
    assert list(table.columns) == ["task", "class", "split", "n", "folder", "note"]
    val = table[(table["task"] == "protest") & (table["split"] == "val")]
    assert set(val["folder"]) == {"test"} and val["note"].str.contains("test/ folder, used as the validation set").all()
    assert set(table.loc[table["task"] == "leaders", "note"]) == {""}
    assert table["task"].drop_duplicates().tolist() == ["protest", "leaders"]
    for task, splits in (("protest", protest), ("leaders", leaders)):
        rows = table[(table["task"] == task) & (table["split"] != "total")]
        expected = splits.groupby(["label", "split"]).size()
        assert rows.set_index(["class", "split"])["n"].sort_index().to_dict() == expected.sort_index().to_dict()
        totals = table[(table["task"] == task) & (table["split"] == "total")].set_index("class")["n"]
        assert totals.to_dict() == splits["label"].value_counts().to_dict()
    assert counts.equals(table)
    markdown = (tmp_path / "t.md").read_text()
    assert "99 (79/20)" in markdown and "100 (80/20)" in markdown
    assert "obama" in markdown
    assert "protest, val: the given test/ folder, used as the validation set" in markdown


def assert_figure_files(stem):
    for ext in (".png", ".pdf"):
        path = stem.with_name(stem.name + ext)
        assert path.exists() and path.stat().st_size > 1000, path


def test_emotion_figures_are_written(tmp_path):
    aggregated = tmp_path / "aggregated.csv"
    aggregated_frame().to_csv(aggregated, index=False)
    write_figure_7_1(aggregated, tmp_path / "figure_7_1", EMOTIONS, dpi=60, style="default")
    write_figure_7_2(aggregated, tmp_path / "figure_7_2", EMOTIONS, 3, 3, [0, 10], dpi=60, style="default")
    assert_figure_files(tmp_path / "figure_7_1")
    assert_figure_files(tmp_path / "figure_7_2")


def test_preprocessing_figures_use_the_widest_image(tmp_path):
    rows = []
    for name, size in (("tall", (40, 80)), ("wide", (120, 40)), ("square", (64, 64))):
        path = tmp_path / f"{name}.png"
        Image.fromarray(np.random.default_rng(len(name)).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(
            path
        )
        rows.append({"image_id": name, "cluster_id": name, "path": str(path), "width": size[0], "height": size[1]})
    manifest = tmp_path / "manifest.csv"
    pd.DataFrame(rows).to_csv(manifest, index=False)
    assert pick_example_image(pd.DataFrame(rows)).name == "wide.png"
    source = write_figures_4_2_4_3(
        manifest, tmp_path / "figure_4_2", tmp_path / "figure_4_3", seed=1, dpi=60, style="default"
    )
    assert source.name == "wide.png"
    assert_figure_files(tmp_path / "figure_4_2")
    assert_figure_files(tmp_path / "figure_4_3")
