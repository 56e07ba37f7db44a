"""The demo corpus generator: determinism, planted ground truth, no trivial cues, annotations."""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

import imagehash
import numpy as np
import pandas as pd
import pytest
from PIL import Image, ImageOps
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from images_as_data.demo.annotation import ANNOTATION_COLUMNS, emotion_label_counts
from images_as_data.demo.corpus import (
    METADATA_COLUMNS,
    PLANTED_COLUMNS,
    annotate_plans,
    demo_layout,
    demo_outdir,
    generate_demo_corpus,
    plan_corpus,
)
from images_as_data.demo.people import LEADER_NAMES
from images_as_data.demo.plan import DATE_FOLDERS, LEGEND_CATEGORIES
from images_as_data.demo.planted import (
    BOOK_MIN_BYTES,
    COPY_RATES,
    DEFECT_COUNTS,
    MAX_PIXELS,
    MIN_SIDE,
)

SIZE_RANGE = (150, 300)
CORPUS_ARGS = dict(
    n_images=300,
    seed=31,
    labelled_fraction=0.85,
    leaders_per_class=5,
    legend_external_per_class=4,
    size_range=SIZE_RANGE,
)
SMALL_ARGS = dict(n_images=40, seed=5, leaders_per_class=2, legend_external_per_class=2, size_range=(150, 260))
EMOTIONS = ["fear", "anger", "disgust", "sadness", "enthusiasm"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    outdir = tmp_path_factory.mktemp("demo")
    generate_demo_corpus(outdir, **CORPUS_ARGS)
    return outdir


@pytest.fixture(scope="module")
def planted(corpus: Path) -> pd.DataFrame:
    return pd.read_csv(corpus / "planted.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def metadata(corpus: Path) -> pd.DataFrame:
    return pd.read_csv(corpus / "metadata.csv", keep_default_na=False)


@pytest.fixture(scope="module")
def annotations(corpus: Path) -> pd.DataFrame:
    return pd.read_csv(corpus / "annotations.csv")


def tree_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file()
    }


def phash_int(img: Image.Image) -> int:
    return int.from_bytes(np.packbits(imagehash.phash(img).hash.ravel()).tobytes(), "big")


def upright_rgb(path: Path) -> Image.Image:
    with Image.open(path) as img:
        return ImageOps.exif_transpose(img).convert("RGB")


def observed_outcome(path: Path) -> tuple[str, str]:
    """The default inventory rules, applied independently of the inventory stage."""
    if path.stat().st_size < BOOK_MIN_BYTES:
        return "excluded", "min_bytes"
    try:
        with Image.open(path) as img:
            if img.width * img.height > MAX_PIXELS:
                return "excluded", "max_pixels"
            img.load()
            short_side = min(img.size)
    except OSError:  # not an image, or damaged (PIL's UnidentifiedImageError is an OSError)
        return "excluded", "unreadable"
    if short_side < MIN_SIDE:
        return "excluded", "min_side"
    return "kept", ""


def regular_ids(metadata: pd.DataFrame, planted: pd.DataFrame) -> list[str]:
    """Ordinary distinct pictures: not a planted copy or defect (originals count)."""
    special = set(planted.loc[planted["kind"] != "original", "image_id"])
    return [i for i in metadata["image_id"] if i not in special]


def test_outputs_follow_the_rule_layout(corpus: Path):
    layout = demo_layout(corpus)
    assert set(layout) == {"raw", "annotations", "metadata", "planted", "leaders", "legend_positive", "legend_negative"}
    assert all(path.exists() for path in layout.values())
    assert demo_outdir({k: str(v) for k, v in layout.items()}) == corpus
    wrong = {**{k: str(v) for k, v in layout.items()}, "planted": str(corpus / "truth.csv")}
    with pytest.raises(ValueError, match="output 'planted'"):
        demo_outdir(wrong)
    assert list(pd.read_csv(layout["planted"]).columns) == list(PLANTED_COLUMNS)
    assert list(pd.read_csv(layout["metadata"]).columns) == list(METADATA_COLUMNS)


def test_same_arguments_give_byte_identical_files_and_another_seed_does_not(tmp_path: Path):
    first = generate_demo_corpus(tmp_path / "a", **SMALL_ARGS)
    second = generate_demo_corpus(tmp_path / "b", **SMALL_ARGS)
    other = generate_demo_corpus(tmp_path / "c", **{**SMALL_ARGS, "seed": 6})
    digest_a, digest_b, digest_c = (tree_digest(tmp_path / name) for name in "abc")
    assert digest_a == digest_b
    assert first == second
    assert other != first
    raw_a = {k for k in digest_a if k.startswith("raw/")}
    raw_c = {k for k in digest_c if k.startswith("raw/")}
    assert not raw_a & raw_c
    assert digest_a["annotations.csv"] != digest_c["annotations.csv"]


def test_every_planted_kind_is_present_with_its_ground_truth(planted: pd.DataFrame, metadata: pd.DataFrame):
    kinds = set(planted["kind"])
    assert kinds == set(COPY_RATES) | set(DEFECT_COUNTS) | {"original"}
    assert set(planted["image_id"]) <= set(metadata["image_id"])
    copies = planted[planted["of_image_id"] != ""]
    assert set(copies["kind"]) == set(COPY_RATES)
    originals = set(planted.loc[planted["kind"] == "original", "image_id"])
    assert set(copies["of_image_id"]) == originals
    assert set(copies["expected_match"]) == {"exact", "pixel", "near", "url"}
    assert (copies["expected_status"] == "kept").all()
    defects = planted[planted["kind"].isin(DEFECT_COUNTS)]
    assert defects["kind"].value_counts().to_dict() == DEFECT_COUNTS
    assert set(defects["expected_status"]) == {"kept", "excluded"}
    excluded = defects[defects["expected_status"] == "excluded"]
    assert set(excluded["expected_reason"]) == {"min_bytes", "unreadable", "max_pixels", "min_side"}
    assert (planted["detail"] != "").all()


def test_every_file_gets_the_expected_inventory_outcome(corpus: Path, planted: pd.DataFrame, metadata: pd.DataFrame):
    expected = {row.image_id: (row.expected_status, row.expected_reason) for row in planted.itertuples()}
    for image_id in metadata["image_id"]:
        assert observed_outcome(corpus / "raw" / image_id) == expected.get(image_id, ("kept", "")), image_id


def test_unusual_files_are_what_planted_csv_says(corpus: Path, planted: pd.DataFrame):
    by_kind = planted.groupby("kind")["image_id"].apply(list)
    with Image.open(corpus / "raw" / by_kind["exif_rotated"][0]) as img:
        orientation = img.getexif().get(0x0112)
        assert orientation in (6, 8)
        assert ImageOps.exif_transpose(img).size == img.size[::-1]
    with Image.open(corpus / "raw" / by_kind["cmyk_jpeg"][0]) as img:
        assert (img.format, img.mode) == ("JPEG", "CMYK")
    with Image.open(corpus / "raw" / by_kind["palette_transparency"][0]) as img:
        assert (img.format, img.mode) == ("PNG", "P") and "transparency" in img.info
    with Image.open(corpus / "raw" / by_kind["animated_gif"][0]) as img:
        assert img.format == "GIF" and img.is_animated and img.n_frames > 1
    assert (corpus / "raw" / by_kind["not_an_image"][0]).read_bytes().startswith(b"<!DOCTYPE html")
    for image_id in by_kind["truncated_jpeg"]:
        with Image.open(corpus / "raw" / image_id) as img:
            assert img.format == "JPEG"  # the header is intact; decoding the pixels fails
            with pytest.raises(OSError, match="truncated"):
                img.load()


def test_copies_match_their_originals_by_bytes_pixels_hash_or_url(
    corpus: Path, planted: pd.DataFrame, metadata: pd.DataFrame
):
    raw = corpus / "raw"
    url = dict(zip(metadata["image_id"], metadata["url"]))
    for row in planted[planted["of_image_id"] != ""].itertuples():
        copy_bytes, original_bytes = (raw / row.image_id).read_bytes(), (raw / row.of_image_id).read_bytes()
        assert (copy_bytes == original_bytes) == (row.expected_match == "exact"), row.image_id
        if row.expected_match == "pixel":
            assert np.array_equal(
                np.asarray(upright_rgb(raw / row.image_id)), np.asarray(upright_rgb(raw / row.of_image_id))
            )
        distance = imagehash.phash(upright_rgb(raw / row.image_id)) - imagehash.phash(
            upright_rgb(raw / row.of_image_id)
        )
        assert distance <= 8, (row.kind, row.image_id, distance)
        assert (url[row.image_id] == url[row.of_image_id]) == (row.kind == "repost"), row.image_id


def test_distinct_pictures_are_more_than_10_phash_bits_apart(
    corpus: Path, planted: pd.DataFrame, metadata: pd.DataFrame
):
    unreadable = set(planted.loc[planted["expected_reason"] == "unreadable", "image_id"])
    distinct = [i for i in regular_ids(metadata, planted) if i not in unreadable]
    distinct += list(
        planted.loc[planted["kind"].isin(DEFECT_COUNTS) & ~planted["image_id"].isin(unreadable), "image_id"]
    )
    hashes = np.array([phash_int(upright_rgb(corpus / "raw" / i)) for i in distinct], dtype=np.uint64)
    distances = np.bitwise_count(hashes[:, None] ^ hashes[None, :])
    np.fill_diagonal(distances, 64)
    assert len(distinct) >= CORPUS_ARGS["n_images"]
    assert distances.min() > 10


def test_format_size_and_name_are_drawn_independently_of_content(
    corpus: Path, planted: pd.DataFrame, metadata: pd.DataFrame
):
    formats = []
    low, high = SIZE_RANGE
    for image_id in regular_ids(metadata, planted):
        folder, name = image_id.split("/")
        assert folder in DATE_FOLDERS
        assert re.fullmatch(r"[A-Za-z0-9]{12,16}\.(jpg|jpeg|png|webp|gif)", name), name
        with Image.open(corpus / "raw" / image_id) as img:
            formats.append(img.format)
            width, height = img.size
        assert low <= width <= high and low <= height <= high, image_id
        assert 1 / 3 - 0.02 <= width / height <= 3 + 0.05, image_id
    shares = pd.Series(formats).value_counts(normalize=True)
    assert set(shares.index) == {"JPEG", "PNG", "WEBP", "GIF"}
    assert shares["JPEG"] > 0.6


def test_mean_colour_file_size_and_format_do_not_predict_protest(
    corpus: Path, planted: pd.DataFrame, metadata: pd.DataFrame, annotations: pd.DataFrame
):
    protest = annotations.groupby("image_id")["protest"].max()
    ids = [i for i in regular_ids(metadata, planted) if i in protest.index]
    rows = []
    for image_id in ids:
        path = corpus / "raw" / image_id
        with Image.open(path) as img:
            fmt = img.format
            mean_rgb = np.asarray(img.convert("RGB"), dtype=float).mean(axis=(0, 1))
        rows.append([*mean_rgb, np.log(path.stat().st_size), *[fmt == f for f in ("JPEG", "PNG", "WEBP", "GIF")]])
    labels = protest.loc[ids].to_numpy()
    assert 0.4 < labels.mean() < 0.6
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    accuracy = cross_val_score(model, np.asarray(rows, dtype=float), labels, cv=5).mean()
    assert accuracy <= 0.65


def gradient_histograms(path: Path, side: int = 64, cells: int = 4, bins: int = 8) -> np.ndarray:
    """Edge orientation histograms per cell of a small greyscale thumbnail (a tiny HOG)."""
    with Image.open(path) as img:
        grey = np.asarray(ImageOps.fit(img.convert("L"), (side, side)), dtype=float) / 255
    dy, dx = np.gradient(grey)
    magnitude = np.hypot(dx, dy)
    orientation = ((np.arctan2(dy, dx) % np.pi) / np.pi * bins).astype(int) % bins
    step = side // cells
    features = []
    for i in range(cells):
        for j in range(cells):
            window = (slice(i * step, (i + 1) * step), slice(j * step, (j + 1) * step))
            features.append(np.bincount(orientation[window].ravel(), weights=magnitude[window].ravel(), minlength=bins))
    return np.concatenate(features)


def test_crowd_structure_in_the_pixels_predicts_protest(
    corpus: Path, planted: pd.DataFrame, metadata: pd.DataFrame, annotations: pd.DataFrame
):
    protest = annotations.groupby("image_id")["protest"].max()
    ids = [i for i in regular_ids(metadata, planted) if i in protest.index]
    features = np.stack([gradient_histograms(corpus / "raw" / i) for i in ids])
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000))
    assert cross_val_score(model, features, protest.loc[ids].to_numpy(), cv=5).mean() >= 0.8


def test_annotations_have_the_book_columns_ranges_and_annotators(
    corpus: Path, planted: pd.DataFrame, metadata: pd.DataFrame, annotations: pd.DataFrame
):
    assert list(annotations.columns) == list(ANNOTATION_COLUMNS)
    assert set(annotations["image_id"]) <= set(metadata["image_id"])
    assert annotations[["protest", "legend"]].isin([0, 1]).all().all()
    scores = annotations[EMOTIONS]
    assert (scores.dtypes == np.int64).all() and scores.min().min() >= 0 and scores.max().max() <= 10
    per_image = annotations.groupby("image_id")["annotator"]
    assert per_image.size().between(1, 3).all()
    assert (per_image.nunique() == per_image.size()).all()
    regular = regular_ids(metadata, planted)
    labelled_share = np.isin(regular, annotations["image_id"]).mean()
    assert abs(labelled_share - CORPUS_ARGS["labelled_fraction"]) < 0.03
    shares = metadata.set_index("image_id").loc[regular, "shares"]
    most_shared = shares.sort_values(ascending=False).index[:20]
    assert (per_image.size().loc[most_shared] >= 2).all()
    copies = planted.loc[planted["of_image_id"] != "", "image_id"]
    assert copies.isin(annotations["image_id"]).any(), "some duplicates must carry their own annotations"
    unusable = planted.loc[planted["expected_status"] == "excluded", "image_id"]
    assert unusable.isin(annotations["image_id"]).any(), "some excluded files must be annotated"


def test_default_size_gives_the_book_like_label_mix():
    plans = plan_corpus(800, 2020, (150, 1600))
    annotations = pd.DataFrame(annotate_plans(plans, 0.85, 2020), columns=list(ANNOTATION_COLUMNS))
    labelled = annotations["image_id"].nunique()
    counts = emotion_label_counts(annotations)
    assert all(20 <= counts[e] <= 120 for e in EMOTIONS), counts
    assert 0.28 <= counts["none"] / labelled <= 0.40
    legend = annotations.groupby("image_id")["legend"].max()
    assert 0.03 <= legend.mean() <= 0.07
    protest = annotations.groupby("image_id")["protest"].max()
    assert 0.42 <= protest.mean() <= 0.58
    categories = {p.category for p in plans if p.category in LEGEND_CATEGORIES}
    assert categories - {"legend_headshot"}, "Legend must also appear outside headshots"
    other_people = sum(p.category in ("headshot", "group") for p in plans)
    assert other_people > sum(p.category == "legend_headshot" for p in plans)


def test_world_leaders_and_legend_external_follow_the_authors_layout(corpus: Path):
    leaders = corpus / "world_leaders"
    assert sorted(p.name for p in leaders.iterdir()) == ["train", "val"]
    for leader in LEADER_NAMES:
        train = sorted((leaders / "train" / leader).glob("*.jpg"))
        val = sorted((leaders / "val" / leader).glob("*.jpg"))
        assert (len(train), len(val)) == (4, 1)
        for path in train + val:
            with Image.open(path) as img:
                assert 0.8 <= img.width / img.height <= 1.25
    for label in ("positive", "negative"):
        files = sorted((corpus / "legend_external" / label).glob("*.jpg"))
        assert len(files) == CORPUS_ARGS["legend_external_per_class"]
        assert all(Image.open(io.BytesIO(f.read_bytes())).format == "JPEG" for f in files)


@pytest.mark.parametrize(
    "arguments, setting",
    [
        ({"n_images": 5}, "demo.n_images"),
        ({"labelled_fraction": 0}, "demo.labelled_fraction"),
        ({"leaders_per_class": 1}, "demo.leaders_per_class"),
        ({"legend_external_per_class": -1}, "demo.legend_external_per_class"),
        ({"size_range": (10, 100)}, "demo.size_range"),
    ],
)
def test_bad_arguments_name_the_setting_to_fix(tmp_path: Path, arguments: dict, setting: str):
    with pytest.raises(ValueError, match=re.escape(setting)):
        generate_demo_corpus(tmp_path, **arguments)
    assert not (tmp_path / "raw").exists()
