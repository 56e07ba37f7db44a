"""Autotagger comparison: sample, image limits, cache, simulation, tidy tables, metrics, figures."""

from __future__ import annotations

import copy
import hashlib
import io
import json
from pathlib import Path

import boto3
import numpy as np
import pandas as pd
import pytest
import yaml
from botocore.stub import ANY, Stubber
from PIL import Image
from snakemake.utils import validate

from images_as_data.autotag.cache import ResponseCache, make_record
from images_as_data.autotag.compare import (
    AutotagOutput,
    Comparison,
    binary_metrics,
    compare_with_finetuned,
    comparison_markdown,
    comparison_table,
    read_finetuned_predictions,
    threshold_sweep,
)
from images_as_data.autotag.fetch import run_fetch
from images_as_data.autotag.figures import figure_6_3, label_frequencies, pr_curve
from images_as_data.autotag.images import prepare_image
from images_as_data.autotag.sample import select_sample
from images_as_data.autotag.settings import ImageLimits, check_autotag_config, fetch_config, fetch_settings
from images_as_data.autotag.simulated import (
    SceneTruth,
    simulate_detect_labels,
    simulate_recognize_celebrities,
)
from images_as_data.autotag.tidy import tidy_celebrities, tidy_labels, tidy_requests
from images_as_data.common.config import ConfigError

from .conftest import REPO

BOOK_TABLE_6_1 = {"tn": 321, "fn": 48, "fp": 72, "tp": 374}
BOOK_TABLE_6_2 = {"tn": 779, "fn": 5, "fp": 0, "tp": 31}


def default_config(**autotag) -> dict:
    """The repository's config, schema-validated, with `autotag` keys overridden."""
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    validate(config, str(REPO / "config" / "schema.yaml"), set_default=True)
    config["autotag"].update(copy.deepcopy(autotag))
    return config


def build_tiny_corpus(root: Path, n: int = 12, size: tuple[int, int] = (120, 100)) -> dict[str, Path]:
    """Raw JPEGs and the inventory, clusters, aggregated labels and metadata CSVs of a tiny corpus.

    Image i is a protest when i is even and shows the celebrity when i % 4 == 0; the last
    image duplicates the first (same cluster, fewer shares), so only n - 1 roots exist.
    """
    rng = np.random.default_rng(7)
    raw = root / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    inventory, clusters, aggregated, metadata = [], [], [], []
    for index in range(n):
        image_id = f"img_{index:02d}.jpg"
        path = raw / image_id
        Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(path, quality=90)
        inventory.append({"image_id": image_id, "path": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                          "status": "kept"})
        metadata.append({"image_id": image_id, "url": f"https://t.co/{index}", "shares": 10 * index})
    duplicate_of = inventory[0]["image_id"]
    for index, row in enumerate(inventory):
        is_duplicate = index == n - 1
        cluster = duplicate_of if is_duplicate else row["image_id"]
        clusters.append({"image_id": row["image_id"], "cluster_id": cluster, "is_root": not is_duplicate})
        if not is_duplicate:
            aggregated.append({"cluster_id": row["image_id"], "n_annotators": 2, "protest": int(index % 2 == 0),
                               "legend": int(index % 4 == 0), "fear": 0.5})
    paths = {}
    for name, rows in [("inventory", inventory), ("clusters", clusters), ("aggregated", aggregated), ("metadata", metadata)]:
        paths[name] = root / f"{name}.csv"
        pd.DataFrame(rows).to_csv(paths[name], index=False)
    paths["raw"] = raw
    return paths


def tiny_sample(root: Path, n: int = 12) -> pd.DataFrame:
    paths = build_tiny_corpus(root, n)
    return select_sample(*(pd.read_csv(paths[name]) for name in ("inventory", "clusters", "aggregated", "metadata")),
                         mode="all_labelled", n_most_shared=100)


def labels_from_counts(tn: int, fp: int, fn: int, tp: int) -> tuple[np.ndarray, np.ndarray]:
    """Manual and autotagger yes/no vectors with the given confusion counts."""
    manual = np.array([False] * tn + [False] * fp + [True] * fn + [True] * tp)
    predicted = np.array([False] * tn + [True] * fp + [False] * fn + [True] * tp)
    return manual, predicted


# --- metrics against the book -------------------------------------------------------------

@pytest.mark.parametrize(
    "counts, percent",
    [(BOOK_TABLE_6_1, (85.3, 83.9, 88.6)), (BOOK_TABLE_6_2, (99.4, 100.0, 86.1))],
)
def test_metrics_give_the_books_percentages_from_the_books_counts(counts, percent):
    metrics = binary_metrics(*labels_from_counts(**counts))
    assert {key: metrics[key] for key in counts} == counts
    assert metrics["n_images"] == 815
    assert tuple(round(100 * metrics[key], 1) for key in ("accuracy", "precision", "recall")) == percent


def output_of(sample: pd.DataFrame, crowd: dict[str, float], simulated: bool = False) -> AutotagOutput:
    """An AutotagOutput whose DetectLabels returned Crowd at the given confidences (and nothing else)."""
    labels = pd.DataFrame({"image_id": list(crowd), "label": "Crowd", "confidence": list(crowd.values()),
                           "model_version": "2.0", "simulated": simulated})
    celebrities = pd.DataFrame(columns=["image_id", "name", "match_confidence", "simulated"])
    requests = pd.DataFrame({"image_id": sample["image_id"], "api": "detect_labels", "model_version": "2.0",
                             "simulated": simulated})
    return AutotagOutput(sample, labels, celebrities, requests)


def test_book_table_renders_in_the_books_layout():
    manual, predicted = labels_from_counts(**BOOK_TABLE_6_1)
    sample = pd.DataFrame({"image_id": [f"i{k}" for k in range(len(manual))], "protest": manual.astype(int)})
    output = output_of(sample, dict.fromkeys(sample["image_id"][predicted], 80.0))
    table = comparison_table(Comparison("label", "Crowd", 50, "protest"), output)
    markdown = comparison_markdown(table, "Table 6.1")
    rows = [line for line in markdown.splitlines() if line.startswith("| no Crowd") or line.startswith("| Crowd")]
    assert [int(cell) for cell in rows[0].split("|")[2:4]] == [321, 48]
    assert [int(cell) for cell in rows[1].split("|")[2:4]] == [72, 374]
    assert "accuracy 85.3 %, precision 83.9 %, recall 88.6 %" in markdown
    assert "Simulated" not in markdown and "(AWS)" in markdown
    assert table.loc[0, "model_version"] == "2.0" and not table.loc[0, "simulated"]


def test_simulated_responses_are_flagged_even_when_nothing_was_found():
    sample = pd.DataFrame({"image_id": ["a", "b"], "protest": [1, 0]})
    table = comparison_table(Comparison("label", "Crowd", 50, "protest"), output_of(sample, {}, simulated=True))
    assert table.loc[0, "simulated"] and table.loc[0, "fn"] == 1
    markdown = comparison_markdown(table, "Table 6.1")
    assert "Simulated responses" in markdown and "(simulated AWS)" in markdown


def test_precision_is_undefined_when_the_autotagger_never_says_yes():
    metrics = binary_metrics(np.array([True, False]), np.array([False, False]))
    assert np.isnan(metrics["precision"]) and metrics["recall"] == 0


# --- sample -------------------------------------------------------------------------------

def test_sample_takes_labelled_roots_ranked_by_cluster_shares(tmp_path):
    paths = build_tiny_corpus(tmp_path, n=6)
    tables = [pd.read_csv(paths[name]) for name in ("inventory", "clusters", "aggregated", "metadata")]
    sample = select_sample(*tables, mode="most_shared", n_most_shared=3)
    # img_00 has 0 shares itself but its duplicate img_05 has 50: the cluster counts 50.
    assert list(sample["image_id"]) == ["img_00.jpg", "img_04.jpg", "img_03.jpg"]
    assert list(sample["shares"]) == [50, 40, 30]
    assert "img_05.jpg" not in set(select_sample(*tables, mode="all_labelled", n_most_shared=1)["image_id"])
    assert {"sha256", "path", "protest", "legend", "rank"} <= set(sample.columns)


def test_sample_rejects_unknown_mode_and_missing_metadata(tmp_path):
    paths = build_tiny_corpus(tmp_path, n=4)
    tables = [pd.read_csv(paths[name]) for name in ("inventory", "clusters", "aggregated")]
    with pytest.raises(ConfigError, match="autotag.sample"):
        select_sample(*tables, None, mode="random", n_most_shared=3)
    with pytest.raises(ConfigError, match="data.metadata"):
        select_sample(*tables, None, mode="most_shared", n_most_shared=3)


# --- config -------------------------------------------------------------------------------

def test_config_checks_name_the_key_to_fix():
    config = default_config()
    check_autotag_config(config)
    own_data = copy.deepcopy(config)
    own_data["demo"]["generate"] = False
    with pytest.raises(ConfigError, match="autotag.backend: simulated"):
        check_autotag_config(own_data)
    no_price = default_config(price_per_call={"detect_labels": 0.001})
    with pytest.raises(ConfigError, match="price_per_call.*recognize_celebrities"):
        check_autotag_config(no_price)
    settings = fetch_settings(default_config(backend="aws", region="eu-west-1", max_attempts=3))
    assert settings.client.region == "eu-west-1" and settings.client.max_attempts == 3
    assert settings.request_parameters("detect_labels") == {"MinConfidence": 20.0, "MaxLabels": 100}
    assert settings.cache_root == Path("resources/autotag_cache")
    assert fetch_settings(default_config()).cache_root == Path("resources/autotag_cache/simulated")


def test_fetch_config_leaves_out_comparison_keys_for_real_backends():
    aws = fetch_config(default_config(backend="aws"))["autotag"]
    assert "label_comparison" not in aws and aws["backend"] == "aws"
    simulated = fetch_config(default_config())["autotag"]
    assert simulated["celebrity_comparison"]["name"] == "John Legend (demo stand-in)"


# --- image limits ---------------------------------------------------------------------------

def _write(path: Path, image: Image.Image, fmt: str, **options) -> Path:
    image.save(path, format=fmt, **options)
    return path


def test_images_within_limits_are_sent_unchanged(tmp_path):
    path = _write(tmp_path / "a.jpg", Image.new("RGB", (200, 150), "red"), "JPEG")
    prepared = prepare_image("a.jpg", path, None, ImageLimits())
    assert not prepared.reencoded and prepared.data == path.read_bytes()


@pytest.mark.parametrize(
    "image, fmt, limits, reason",
    [
        (Image.new("RGB", (200, 150), "blue"), "GIF", ImageLimits(), "format GIF"),
        (Image.new("RGBA", (200, 150), (0, 0, 255, 0)), "WEBP", ImageLimits(), "format WEBP"),
        (Image.new("RGB", (60, 40), "blue"), "PNG", ImageLimits(), "below 80"),
        (Image.new("RGB", (900, 300), "blue"), "PNG", ImageLimits(max_side=400), "exceed 400"),
    ],
)
def test_images_outside_limits_are_reencoded_as_jpeg_within_them(tmp_path, image, fmt, limits, reason):
    path = _write(tmp_path / f"x.{fmt.lower()}", image, fmt)
    prepared = prepare_image("x", path, None, limits)
    assert prepared.reencoded and reason in prepared.reason
    with Image.open(io.BytesIO(prepared.data)) as sent:
        assert sent.format == "JPEG"
        assert limits.min_side <= min(sent.size) and max(sent.size) <= limits.max_side
    assert prepared.sha256 == hashlib.sha256(path.read_bytes()).hexdigest() != prepared.sent_sha256


def test_too_many_bytes_are_brought_under_the_limit(tmp_path):
    noise = np.random.default_rng(0).integers(0, 255, (400, 400, 3), dtype=np.uint8)
    path = _write(tmp_path / "big.png", Image.fromarray(noise), "PNG")
    limits = ImageLimits(max_bytes=60_000)
    assert path.stat().st_size > limits.max_bytes
    prepared = prepare_image("big", path, None, limits)
    assert prepared.reencoded and "bytes exceed 60000" in prepared.reason
    assert len(prepared.data) <= limits.max_bytes


def test_a_file_changed_since_the_inventory_is_refused(tmp_path):
    path = _write(tmp_path / "a.jpg", Image.new("RGB", (100, 100)), "JPEG")
    with pytest.raises(ValueError, match="changed since the inventory"):
        prepare_image("a.jpg", path, "0" * 64, ImageLimits())


# --- cache ---------------------------------------------------------------------------------

def test_cache_round_trip_keeps_provenance_and_drops_headers(tmp_path):
    cache = ResponseCache(tmp_path)
    sha = "ab" * 32
    response = {"Labels": [], "LabelModelVersion": "2.0",
                "ResponseMetadata": {"RequestId": "r-1", "HTTPHeaders": {"date": "x"}, "RetryAttempts": 2}}
    record = make_record("detect_labels", "a.jpg", sha, response, region="us-east-1", backend="aws",
                         request={"MinConfidence": 20.0}, sent=None)
    path = cache.store(record)
    assert path == tmp_path / "detect_labels" / f"{sha}.json"
    loaded = cache.load("detect_labels", sha)
    assert loaded["model_version"] == "2.0" and loaded["region"] == "us-east-1" and loaded["operation"] == "DetectLabels"
    assert loaded["response"]["ResponseMetadata"] == {"RequestId": "r-1"} and loaded["request_time"]
    assert not list(tmp_path.rglob(".*"))  # no temporary files left behind
    path.write_text("{not json")
    with pytest.raises(ValueError, match="delete it"):
        cache.load("detect_labels", sha)
    with pytest.raises(ValueError, match="sha256"):
        cache.path("detect_labels", "../../etc/passwd")


# --- simulation ----------------------------------------------------------------------------

def test_simulated_responses_have_rekognitions_exact_shape():
    """botocore's Stubber validates a response against the service model's output shape."""
    client = boto3.client("rekognition", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    rates = fetch_settings(default_config()).simulation
    truth = SceneTruth(crowd=True, celebrity=True)
    sha = "cd" * 32
    with Stubber(client) as stubber:
        labels = simulate_detect_labels(1, sha, truth, rates, {"MinConfidence": 20.0, "MaxLabels": 100})
        stubber.add_response("detect_labels", labels, {"Image": ANY, "MinConfidence": 20.0, "MaxLabels": 100})
        faces = simulate_recognize_celebrities(1, sha, truth, rates, "Stand-in")
        stubber.add_response("recognize_celebrities", faces, {"Image": ANY})
        assert client.detect_labels(Image={"Bytes": b"x"}, MinConfidence=20.0, MaxLabels=100)["Labels"]
        client.recognize_celebrities(Image={"Bytes": b"x"})
    assert labels["LabelModelVersion"] == "simulated"
    assert all(label["Confidence"] >= 20 for label in labels["Labels"])
    assert not any(label["Name"] == "Protest" for label in labels["Labels"])


def test_simulation_is_deterministic_per_image_and_follows_the_rates():
    rates = fetch_settings(default_config()).simulation
    request = {"MinConfidence": 20.0}
    shas = [hashlib.sha256(str(k).encode()).hexdigest() for k in range(400)]

    def says_crowd(sha, crowd):
        response = simulate_detect_labels(3, sha, SceneTruth(crowd, False), rates, request)
        return any(label["Name"] == "Crowd" and label["Confidence"] >= 50 for label in response["Labels"])

    assert simulate_detect_labels(3, shas[0], SceneTruth(True, False), rates, request) == \
        simulate_detect_labels(3, shas[0], SceneTruth(True, False), rates, request)
    recall = np.mean([says_crowd(sha, True) for sha in shas])
    false_alarms = np.mean([says_crowd(sha, False) for sha in shas])
    assert abs(recall - rates.crowd_recall) < 0.06 and abs(false_alarms - rates.crowd_false_positive_rate) < 0.06


def test_a_simulated_run_marks_every_output_and_reuses_its_cache(tmp_path):
    sample = tiny_sample(tmp_path)
    sample.to_csv(tmp_path / "sample.csv", index=False)
    config = default_config(cache_dir=str(tmp_path / "cache"))
    first = run_fetch(tmp_path / "sample.csv", config, tmp_path / "estimate.csv", tmp_path / "responses.jsonl")
    assert first.calls_made == 2 * len(sample)
    assert set(pd.read_csv(tmp_path / "estimate.csv")["calls_needed"]) == {len(sample)}
    assert all(path.parent.parent.name == "simulated" for path in (tmp_path / "cache").rglob("*.json"))
    again = run_fetch(tmp_path / "sample.csv", config, tmp_path / "estimate.csv", tmp_path / "responses2.jsonl")
    assert again.calls_made == 0
    assert (tmp_path / "responses.jsonl").read_text() == (tmp_path / "responses2.jsonl").read_text()
    changed = default_config(cache_dir=str(tmp_path / "cache"), simulation={"crowd_recall": 0.5})
    assert run_fetch(tmp_path / "sample.csv", changed, tmp_path / "e.csv", tmp_path / "r.jsonl").calls_made == 2 * len(sample)
    fewer_labels = default_config(cache_dir=str(tmp_path / "cache"), simulation={"crowd_recall": 0.5},
                                  detect_labels={"min_confidence": 50, "max_labels": 100})
    assert run_fetch(tmp_path / "sample.csv", fewer_labels, tmp_path / "e.csv", tmp_path / "r.jsonl").calls_made == len(sample)
    records = [json.loads(line) for line in (tmp_path / "responses.jsonl").read_text().splitlines()]
    for table in (tidy_labels(records), tidy_celebrities(records), tidy_requests(records)):
        assert len(table) and table["simulated"].all()


# --- tidy tables and comparisons ------------------------------------------------------------

def _records() -> list[dict]:
    labels = {"Labels": [
        {"Name": "Crowd", "Confidence": 71.5, "Instances": [], "Parents": [{"Name": "Person"}]},
        {"Name": "Person", "Confidence": 99.0, "Instances": [{"BoundingBox": {}, "Confidence": 99.0}] * 3, "Parents": []},
    ], "LabelModelVersion": "2.0"}
    celebrities = {"CelebrityFaces": [{
        "Urls": ["www.imdb.com/name/nm1"], "Name": "Jane Doe", "Id": "1a",
        "Face": {"BoundingBox": {"Width": 0.1, "Height": 0.2, "Left": 0.3, "Top": 0.4}, "Confidence": 99.9},
        "MatchConfidence": 97.0}], "UnrecognizedFaces": [{}, {}]}
    common = {"region": "us-east-1", "backend": "aws", "request": {}, "sent": {"reencoded": True, "reason": "format GIF", "bytes": 10}}
    return [
        make_record("detect_labels", "a", "a" * 64, labels, **common),
        make_record("detect_labels", "b", "b" * 64, {"Labels": [], "LabelModelVersion": "2.0"}, **common),
        make_record("recognize_celebrities", "a", "a" * 64, celebrities, **common),
        make_record("recognize_celebrities", "b", "b" * 64, {"CelebrityFaces": [], "UnrecognizedFaces": []}, **common),
    ]


def test_tidy_tables_have_one_row_per_label_face_and_call():
    labels, celebrities, requests = (tidy(_records()) for tidy in (tidy_labels, tidy_celebrities, tidy_requests))
    assert labels.to_dict("records")[0] == {"image_id": "a", "label": "Crowd", "confidence": 71.5, "parents": "Person",
                                            "n_instances": 0, "model_version": "2.0", "simulated": False,
                                            "service": "rekognition"}
    assert labels.loc[1, "n_instances"] == 3
    assert celebrities[["image_id", "name", "celebrity_id", "match_confidence", "bbox_left", "urls"]].values.tolist() == \
        [["a", "Jane Doe", "1a", 97.0, 0.3, "www.imdb.com/name/nm1"]]
    assert len(requests) == 4 and requests["reencoded"].all()
    assert requests.loc[2, "n_unrecognized_faces"] == 2 and requests.loc[3, "n_celebrities"] == 0


def test_threshold_sweep_and_finetuned_side_by_side(tmp_path):
    sample = pd.DataFrame({"image_id": ["a", "b", "c", "d"], "protest": [1, 0, 1, 0]})
    output = output_of(sample, {"a": 90.0, "b": 60.0, "c": 40.0})
    comparison = Comparison("label", "Crowd", 50, "protest", task="protest")
    sweep = threshold_sweep([comparison], output, np.array([0, 50, 95]))
    assert sweep[["threshold", "tp", "fp", "fn", "tn"]].values.tolist() == [[0, 2, 1, 0, 1], [50, 1, 1, 1, 1], [95, 0, 0, 2, 2]]
    predictions_csv = tmp_path / "predictions.csv"
    pd.DataFrame({"image_id": ["a", "b", "c", "d"], "status": ["ok", "failed", "ok", "ok"],
                  "predicted": ["positive", None, "positive", "positive"]}).to_csv(predictions_csv, index=False)
    splits_csv = tmp_path / "splits.csv"  # c is not in the task's split: the model never saw it
    pd.DataFrame({"image_id": ["a", "b", "d"], "split": ["val", "val", "train"]}).to_csv(splits_csv, index=False)
    predictions = read_finetuned_predictions(predictions_csv, splits_csv)
    assert predictions["image_id"].tolist() == ["a", "c"]
    table = compare_with_finetuned(comparison, output, predictions).set_index("method")
    assert table["n_images"].to_dict() == {"autotagger": 2, "fine-tuned": 2}
    assert table.loc["fine-tuned", "accuracy"] == 1.0
    assert (table.loc["autotagger", "tp"], table.loc["autotagger", "fn"]) == (1, 1)
    missing = compare_with_finetuned(comparison, output, None).set_index("method")
    assert missing.loc["autotagger", "n_images"] == 4 and missing.loc["fine-tuned", "n_images"] == 0
    assert "no fine-tuned predictions" in missing.loc["fine-tuned", "note"]


def test_figures_count_images_per_label_and_say_when_simulated(tmp_path):
    labels = pd.DataFrame({"image_id": ["a", "a", "b", "b", "c"], "label": ["Crowd", "Person", "Crowd", "Text", "Text"],
                           "confidence": [80.0, 99.0, 55.0, 50.0, 49.0], "simulated": True})
    assert label_frequencies(labels, 50, 25).to_dict() == {"Crowd": 2, "Person": 1}
    fig = figure_6_3(labels, 50, 25, n_images=3, simulated=True)
    assert any("simulated" in text.get_text() for text in fig.axes[0].texts)
    sweep = pd.DataFrame({"comparison": "Crowd vs manual protest", "threshold": [0, 50], "precision": [0.5, 1.0],
                          "recall": [1.0, 0.5], "simulated": False})
    fig = pr_curve(sweep, {"Crowd vs manual protest": 50})
    assert fig.axes[0].texts and not any("simulated" in text.get_text() for text in fig.axes[0].texts)


def test_pr_curve_marks_every_services_threshold_and_names_the_simulated_ones():
    sweep = pd.DataFrame({
        "comparison": ["Crowd vs manual protest"] * 2 + ["Google Protest vs manual protest"] * 2,
        "threshold": [0, 50, 0, 50], "precision": [0.5, 1.0, 0.6, 0.9], "recall": [1.0, 0.5, 1.0, 0.4],
        "simulated": True, "service": ["rekognition"] * 2 + ["google"] * 2,
    })
    fig = pr_curve(sweep, {"Crowd vs manual protest": 50, "Google Protest vs manual protest": 50})
    texts = [text.get_text() for text in fig.axes[0].texts]
    assert texts.count("≥ 50") == 2
    assert any("simulated responses or random weights (AWS, Google)" in text for text in texts)


def test_figure_6_4_counts_each_services_labels_above_its_own_threshold():
    from images_as_data.autotag.figures import figure_6_4, top_labels_by_service

    labels = pd.DataFrame({
        "image_id": ["a", "b", "a", "b", "c", "a", "b"],
        "label": ["Crowd", "Crowd", "Protest", "Protest", "Protest", "a photo of a protest", "a cartoon"],
        "confidence": [80.0, 40.0, 90.0, 60.0, 49.0, 12.0, 9.0],
        "service": ["rekognition", "rekognition", "google", "google", "google", "clip", "clip"],
    })
    requests = pd.DataFrame({"api": ["detect_labels", "google_label_detection", "azure_tags", "clip_zero_shot"],
                             "simulated": [False, True, True, True], "model_version": ["3.0", "simulated", None, "x"]})
    section = default_config(services=["rekognition", "google", "azure", "clip"])["autotag"]
    section["clip"]["top_labels_min_confidence"] = 10
    top = top_labels_by_service(labels, requests, section, n_sample=3)
    rows = {(row.service, row.label): row for row in top.itertuples()}
    assert rows[("rekognition", "Crowd")].n_images == 1 and rows[("rekognition", "Crowd")].proxy_label
    assert rows[("google", "Protest")].n_images == 2 and rows[("google", "Protest")].marker.startswith("simulated")
    assert ("clip", "a cartoon") not in rows and rows[("clip", "a photo of a protest")].marker.startswith("random weights")
    assert not rows[("rekognition", "Crowd")].simulated and rows[("rekognition", "Crowd")].model_version == "3.0"
    fig = figure_6_4(top, ["rekognition", "google", "azure", "clip"], 3)
    assert [ax.get_title() for ax in fig.axes] == ["Amazon Rekognition", "Google Cloud Vision", "Azure AI Vision",
                                                   "CLIP (open_clip, local)"]
    assert any("no label above" in text.get_text() for text in fig.axes[2].texts)
