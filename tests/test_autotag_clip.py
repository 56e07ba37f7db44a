"""The local zero-shot CLIP tagger: random weights offline, the real weight-loading path with a locally
saved checkpoint, the pinned checksum, fetching weights once, batches, resume, cap and replay."""

from __future__ import annotations

import hashlib
import json
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import open_clip
import pandas as pd
import pytest
import torch
import yaml
from PIL import Image

from images_as_data.autotag import clip_tagger
from images_as_data.autotag.clip_tagger import ChecksumMismatch, ClipBackend, fetch_checkpoint, load_clip, run_clip, score_images
from images_as_data.autotag.fetch import CallCapExceeded, MissingCachedResponses
from images_as_data.autotag.images import prepare_image
from images_as_data.autotag.settings import SERVICE_LIMITS, clip_checkpoint_path
from images_as_data.autotag.tidy import tidy_labels

from .conftest import REPO
from .test_autotag import default_config, tiny_sample
from .test_autotag_services import loopback_only  # noqa: F401 (an autouse fixture: nothing leaves 127.0.0.1)

MODEL = "tiny-test-CLIP"
SIZE = 32
# A CLIP with open_clip's own architecture (vision transformer, text transformer and tokenizer),
# only narrow and shallow, so that saving, serving and loading its checkpoint takes a moment.
TINY = {"embed_dim": 32, "vision_cfg": {"image_size": SIZE, "layers": 2, "width": 64, "patch_size": 16},
        "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2}}


@pytest.fixture(scope="module", autouse=True)
def tiny_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("open_clip_configs") / f"{MODEL}.json"
    path.write_text(json.dumps(TINY))
    open_clip.add_model_config(path)
VOCABULARY = ["a photo of a protest", "a photo of a crowd", "a portrait of a person", "a screenshot of text"]


def clip_config(tmp_path: Path, **clip) -> dict:
    config = default_config(services=["clip"], cache_dir=str(tmp_path / "cache"))
    config["autotag"]["clip"].update({"model": MODEL, "weights": "random", "checkpoint_sha256": None, "image_size": SIZE,
                                      "device": "cpu", "threads": 1, "batch_size": 4, "vocabulary": VOCABULARY,
                                      "label_comparison": {"label": VOCABULARY[0], "min_confidence": 20,
                                                           "manual_column": "protest", "task": "protest"}, **clip})
    return config


@pytest.fixture
def sample_csv(tmp_path) -> Path:
    tiny_sample(tmp_path / "corpus", 10).to_csv(tmp_path / "sample.csv", index=False)  # 9 distinct images
    return tmp_path / "sample.csv"


def score(tmp_path: Path, config: dict, name: str = "run"):
    out = tmp_path / name
    return run_clip(tmp_path / "sample.csv", config, out / "estimate.csv", out / "responses.jsonl")


def test_random_weights_score_every_prompt_deterministically_and_are_marked(tmp_path, sample_csv):
    config = clip_config(tmp_path)
    first = score(tmp_path, config)
    assert first.calls_made == 9
    for record in first.records:
        labels = record["response"]["labels"]
        assert sorted(entry["label"] for entry in labels) == sorted(VOCABULARY)
        assert sum(entry["score"] for entry in labels) == pytest.approx(1.0, abs=1e-5)
        assert [entry["score"] for entry in labels] == sorted((entry["score"] for entry in labels), reverse=True)
        assert record["simulated"] and record["model_version"] == f"open_clip {MODEL} random init (seed 2020)"
        assert record["endpoint"] == "local:cpu" and record["backend"] == "local"
    assert {path.parent.parent.name for path in (tmp_path / "cache").rglob("*.json")} == {"simulated"}
    estimate = pd.read_csv(tmp_path / "run" / "estimate.csv").iloc[0]
    assert (estimate["cost_usd"], estimate["calls_needed"], estimate["service"]) == (0.0, 9, "clip")
    # Scores do not depend on how images were batched or on a rerun.
    again = score(tmp_path, clip_config(tmp_path, batch_size=2), "again")
    assert again.calls_made == 0
    fresh = score(tmp_path, clip_config(tmp_path / "other", batch_size=3), "fresh")
    for left, right in zip(first.records, fresh.records):
        for a, b in zip(left["response"]["labels"], right["response"]["labels"]):
            assert a["label"] == b["label"] and a["score"] == pytest.approx(b["score"], abs=1e-5)
    labels = tidy_labels(first.records)
    assert set(labels["service"]) == {"clip"} and len(labels) == 9 * len(VOCABULARY)
    assert labels["confidence"].between(0, 100).all()


def test_a_changed_vocabulary_or_seed_is_scored_again(tmp_path, sample_csv):
    score(tmp_path, clip_config(tmp_path))
    assert score(tmp_path, clip_config(tmp_path, vocabulary=[*VOCABULARY, "a cartoon"])).calls_made == 9
    reseeded = clip_config(tmp_path, vocabulary=[*VOCABULARY, "a cartoon"])
    reseeded["seed"] = 7
    assert score(tmp_path, reseeded).calls_made == 9


def test_an_interrupted_run_resumes_with_the_images_not_yet_scored(tmp_path, sample_csv, monkeypatch):
    config = clip_config(tmp_path, batch_size=4)
    real = ClipBackend.call_batch
    batches = []

    def second_batch_fails(self, api, images, parameters):
        batches.append(len(images))
        if len(batches) == 2:
            raise RuntimeError("CUDA out of memory (simulated interruption)")
        return real(self, api, images, parameters)

    monkeypatch.setattr(ClipBackend, "call_batch", second_batch_fails)
    with pytest.raises(RuntimeError, match="out of memory"):
        score(tmp_path, config)
    assert len(list((tmp_path / "cache").rglob("*.json"))) == 4
    monkeypatch.setattr(ClipBackend, "call_batch", real)
    report = score(tmp_path, config)
    assert (report.calls_made, report.from_cache) == (9 - 4, 4)


def test_the_cap_stops_before_the_model_is_loaded_and_replay_needs_no_model(tmp_path, sample_csv, monkeypatch):
    def no_model(*args, **kwargs):
        raise AssertionError("the model must not be loaded")

    monkeypatch.setattr(clip_tagger, "load_clip", no_model)
    with pytest.raises(CallCapExceeded, match="autotag.clip.max_calls is 3"):
        score(tmp_path, clip_config(tmp_path, max_calls=3))
    with pytest.raises(MissingCachedResponses, match="autotag.clip.backend: local"):
        score(tmp_path, clip_config(tmp_path, backend="replay"))
    monkeypatch.undo()
    score(tmp_path, clip_config(tmp_path))
    monkeypatch.setattr(clip_tagger, "load_clip", no_model)
    replay = clip_config(tmp_path, backend="replay")
    assert score(tmp_path, replay, "replayed").from_cache == 9


# --- the real weight-loading path ----------------------------------------------------------------------

@pytest.fixture
def checkpoint(tmp_path) -> tuple[Path, torch.nn.Module]:
    """A CLIP model with (random) weights of its own, saved as a checkpoint file as open_clip's releases are."""
    torch.manual_seed(99)
    model = open_clip.create_model(MODEL, force_image_size=SIZE)
    path = tmp_path / "weights" / "my_clip.pt"
    path.parent.mkdir()
    torch.save({"state_dict": model.state_dict()}, path)
    return path, model.eval()


def test_a_saved_checkpoint_loads_checked_against_its_pinned_checksum(tmp_path, sample_csv, checkpoint):
    path, model = checkpoint
    checksum = hashlib.sha256(path.read_bytes()).hexdigest()
    config = clip_config(tmp_path, weights=str(path), checkpoint_sha256=checksum)
    report = score(tmp_path, config)
    assert not any(record["simulated"] for record in report.records)
    assert {record["model_version"] for record in report.records} == {f"open_clip {MODEL} file my_clip.pt sha256:{checksum[:12]}"}
    assert report.records[0]["request"]["checkpoint_sha256"] == checksum
    # The loaded model scores as the saved one does.
    loaded = load_clip(config["autotag"]["clip"], VOCABULARY, seed=0)
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, loaded.model.state_dict()[name]), name
    sample = pd.read_csv(sample_csv)
    image = prepare_image(sample["image_id"][0], sample["path"][0], sample["sha256"][0], SERVICE_LIMITS["clip"])
    rescored = score_images(loaded, [image])[0]["labels"]
    stored = report.records[0]["response"]["labels"]
    assert [entry["label"] for entry in rescored] == [entry["label"] for entry in stored]
    assert [entry["score"] for entry in rescored] == pytest.approx([entry["score"] for entry in stored], abs=1e-5)
    with torch.inference_mode():  # and as the in-memory model does
        pixels = loaded.preprocess(Image.open(sample["path"][0]).convert("RGB"))[None]
        assert torch.allclose(model.encode_image(pixels), loaded.model.encode_image(pixels), atol=1e-6)
    # A different file under the same pin is refused.
    torch.save({"state_dict": {k: v + 1 for k, v in model.state_dict().items()}}, path)
    with pytest.raises(ChecksumMismatch, match="not the pinned ones"):
        score(tmp_path, clip_config(tmp_path / "changed", weights=str(path), checkpoint_sha256=checksum))


def test_unpinned_checkpoint_records_its_checksum_and_a_changed_file_is_scored_again(tmp_path, sample_csv, checkpoint):
    path, model = checkpoint
    config = clip_config(tmp_path, weights=str(path))
    first = score(tmp_path, config)
    assert first.records[0]["request"]["checkpoint_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    torch.save({"state_dict": {k: v * 0.5 for k, v in model.state_dict().items()}}, path)
    assert score(tmp_path, config).calls_made == 9


class QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def weights_server(checkpoint):
    path, _ = checkpoint
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietFiles, directory=str(path.parent)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/{path.name}"
    server.shutdown()
    server.server_close()


def test_weights_are_fetched_once_and_checked_before_they_are_kept(tmp_path, checkpoint, weights_server):
    path, _ = checkpoint
    checksum = hashlib.sha256(path.read_bytes()).hexdigest()
    options = {"model": "ViT-B-32", "pretrained": "openai", "weights": "pretrained", "checkpoint_url": weights_server,
               "weights_cache": str(tmp_path / "resources"), "checkpoint_sha256": "0" * 64}
    target = clip_checkpoint_path(options)
    assert target == tmp_path / "resources" / "open_clip" / "ViT-B-32" / "openai" / "checkpoint.pt"
    with pytest.raises(ChecksumMismatch, match=f"SHA-256 {checksum}"):
        fetch_checkpoint(options)
    assert not target.exists() and not list(target.parent.iterdir())  # nothing half-checked is left
    assert fetch_checkpoint({**options, "checkpoint_sha256": checksum}) == target
    assert target.read_bytes() == path.read_bytes()
    with pytest.raises(Exception, match="no weights 'nope'"):
        fetch_checkpoint({**options, "pretrained": "nope"})


def test_the_books_pin_is_the_checksum_openai_publishes_in_the_url():
    clip = yaml.safe_load((REPO / "config" / "book.yaml").read_text())["autotag"]["clip"]
    url = clip_tagger.checkpoint_source(clip["model"], clip["pretrained"])
    assert url.endswith("/ViT-B-32.pt") and url.split("/")[-2] == clip["checkpoint_sha256"]


def test_config_checks_name_the_key_to_fix(tmp_path):
    from images_as_data.autotag.settings import check_autotag_config
    from images_as_data.common.config import ConfigError

    config = clip_config(tmp_path)
    config["autotag"]["clip"]["label_comparison"]["label"] = "a photo of a riot"
    with pytest.raises(ConfigError, match="autotag.clip.label_comparison.label 'a photo of a riot' is not in autotag.clip.vocabulary"):
        check_autotag_config(config)
    own_data = default_config(services=["rekognition", "google"], backend="aws")
    own_data["demo"]["generate"] = False
    own_data["autotag"]["google"]["backend"] = "simulated"
    with pytest.raises(ConfigError, match="autotag.google.backend: simulated only makes sense.*backend google"):
        check_autotag_config(own_data)
