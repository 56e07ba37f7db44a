"""Fetching from Rekognition: Stubber, throttling, resume, cost cap, credentials, moto, recorded responses."""

from __future__ import annotations

import hashlib
import json
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import boto3
import pandas as pd
import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber

from images_as_data.autotag.backends import AwsBackend, NoCredentialsError, make_backend, make_rekognition_client
from images_as_data.autotag.cache import ResponseCache
from images_as_data.autotag.compare import run_comparison_table, run_threshold_sweep
from images_as_data.autotag.fetch import CallCapExceeded, MissingCachedResponses, fetch_responses, run_fetch
from images_as_data.autotag.figures import run_figure_6_3
from images_as_data.autotag.recorded import main as import_recorded_cli
from images_as_data.autotag.recorded import recorded_celebrities, recorded_detect_labels
from images_as_data.autotag.settings import ClientSettings, fetch_settings
from images_as_data.autotag.tidy import run_tidy, tidy_celebrities, tidy_labels, tidy_requests
from images_as_data.common.runlog import setup_rule_logging

from .test_autotag import default_config, tiny_sample

FAKE_KEY_ID = "AKIAFAKEKEYID7H5TEST"
FAKE_SECRET = "fake/Secret+Key/h5ZZxx0123456789abcdefXY"
FAKE_TOKEN = "FakeSessionToken/h5-never-in-outputs"
DETECT_LABELS_PARAMS = {"Image": {"Bytes": ANY}, "MinConfidence": 20.0, "MaxLabels": 100}


@pytest.fixture
def fake_credentials(monkeypatch, tmp_path):
    """Fake keys in the environment only; no shared config or credentials file is read."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", FAKE_TOKEN)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def labels_response(crowd: float | None) -> dict:
    labels = [{"Name": "Person", "Confidence": 99.1, "Instances": [], "Parents": []}]
    if crowd is not None:
        labels.append({"Name": "Crowd", "Confidence": crowd, "Instances": [], "Parents": [{"Name": "Person"}]})
    return {"Labels": labels, "LabelModelVersion": "2.0"}


def aws_setup(tmp_path: Path, n: int, **autotag) -> tuple[pd.DataFrame, object, ResponseCache]:
    sample = tiny_sample(tmp_path / "corpus", n)
    options = {"backend": "aws", "apis": ["detect_labels"], "cache_dir": str(tmp_path / "cache"), "max_in_flight": 1}
    config = default_config(**{**options, **autotag})
    settings = fetch_settings(config)
    return sample, settings, ResponseCache(settings.cache_root)


def stubbed_backend(region: str = "us-east-1") -> tuple[AwsBackend, Stubber]:
    client = boto3.client("rekognition", region_name=region, aws_access_key_id="x", aws_secret_access_key="y")
    return AwsBackend(client, region), Stubber(client)


# --- Stubber: only uncached images are called, interrupted runs resume ---------------------------------

def test_interrupted_run_resumes_with_exactly_the_missing_calls(tmp_path):
    sample, settings, cache = aws_setup(tmp_path, n=9)
    n, k = len(sample), 3
    backend, stubber = stubbed_backend()
    for index in range(k):
        stubber.add_response("detect_labels", labels_response(60.0 + index), DETECT_LABELS_PARAMS)
    stubber.add_client_error("detect_labels", "ThrottlingException", "Rate exceeded", 400)  # retries exhausted
    with stubber, pytest.raises(ClientError, match="ThrottlingException"):
        fetch_responses(sample, settings, backend, cache)
    assert len(list(cache.root.rglob("*.json"))) == k

    backend, stubber = stubbed_backend()
    for _ in range(n - k):
        stubber.add_response("detect_labels", labels_response(None), DETECT_LABELS_PARAMS)
    with stubber:  # an extra call would raise UnStubbedResponseError
        report = fetch_responses(sample, settings, backend, cache, tmp_path / "estimate.csv")
        stubber.assert_no_pending_responses()
    assert report.calls_made == n - k and report.from_cache == k
    estimate = pd.read_csv(tmp_path / "estimate.csv").iloc[0]
    assert (estimate["cached"], estimate["calls_needed"], estimate["cost_usd"]) == (k, n - k, round((n - k) * 0.001, 6))
    assert [record["response"]["Labels"][-1].get("Name") for record in report.records[:k]] == ["Crowd"] * k
    assert {record["region"] for record in report.records} == {"us-east-1"}


def test_cached_responses_requested_otherwise_are_not_mixed_in(tmp_path):
    sample, settings, cache = aws_setup(tmp_path, n=2)
    backend, stubber = stubbed_backend()
    for _ in range(len(sample)):
        stubber.add_response("detect_labels", labels_response(65.0), DETECT_LABELS_PARAMS)
    with stubber:
        fetch_responses(sample, settings, backend, cache)
    changed = fetch_settings(default_config(backend="aws", apis=["detect_labels"], cache_dir=str(cache.root),
                                            detect_labels={"min_confidence": 55, "max_labels": 100}))
    with pytest.raises(ValueError, match=r"MinConfidence.*autotag.detect_labels.*cache_dir"):
        fetch_responses(sample, changed, backend, cache)


def test_the_cost_cap_stops_before_any_call(tmp_path, caplog):
    sample, settings, cache = aws_setup(tmp_path, n=6, max_calls=2)
    backend, stubber = stubbed_backend()
    with stubber, caplog.at_level(logging.INFO), pytest.raises(CallCapExceeded, match="autotag.max_calls is 2"):
        fetch_responses(sample, settings, backend, cache, tmp_path / "estimate.csv")
    assert pd.read_csv(tmp_path / "estimate.csv")["calls_needed"].tolist() == [len(sample)]
    assert "autotag estimate (aws backend)" in caplog.text
    assert not list(cache.root.rglob("*.json"))


def test_replay_lists_the_missing_images(tmp_path):
    sample, settings, cache = aws_setup(tmp_path, n=4, backend="replay")
    with pytest.raises(MissingCachedResponses, match="img_00.jpg.*img_01.jpg"):
        fetch_responses(sample, settings, None, cache)


def test_a_rejected_image_does_not_stop_the_others(tmp_path):
    sample, settings, cache = aws_setup(tmp_path, n=4)
    backend, stubber = stubbed_backend()
    stubber.add_client_error("detect_labels", "InvalidImageFormatException", "bad image", 400)
    for _ in range(len(sample) - 1):
        stubber.add_response("detect_labels", labels_response(70.0), DETECT_LABELS_PARAMS)
    with stubber, pytest.raises(RuntimeError, match=r"rejected 1 image.*img_00.jpg.*InvalidImageFormat"):
        fetch_responses(sample, settings, backend, cache)
    assert len(list(cache.root.rglob("*.json"))) == len(sample) - 1


def test_aws_backend_needs_credentials_only_for_uncached_images(tmp_path, monkeypatch):
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    sample, settings, cache = aws_setup(tmp_path, n=3)
    with pytest.raises(NoCredentialsError, match="aws configure"):
        fetch_responses(sample, settings, make_backend(settings), cache)
    stubbed, stubber = stubbed_backend()
    for _ in range(len(sample)):
        stubber.add_response("detect_labels", labels_response(75.0), DETECT_LABELS_PARAMS)
    with stubber:
        fetch_responses(sample, settings, stubbed, cache)
    assert fetch_responses(sample, settings, make_backend(settings), cache).calls_made == 0


# --- real HTTP: botocore's adaptive retries on throttling -----------------------------------------------

class ThrottleOnceHandler(BaseHTTPRequestHandler):
    """Answers the first request with ThrottlingException, the next ones with a DetectLabels response."""

    requests: list[str] = []

    def do_POST(self):  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers["Content-Length"]))
        type(self).requests.append(self.headers.get("X-Amz-Target", ""))
        throttled = len(type(self).requests) == 1
        body = {"__type": "ThrottlingException", "message": "Rate exceeded"} if throttled else labels_response(88.0)
        payload = json.dumps(body).encode()
        self.send_response(400 if throttled else 200)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_throttling_is_retried_by_botocore_then_succeeds(tmp_path, fake_credentials):
    ThrottleOnceHandler.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), ThrottleOnceHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        sample, settings, cache = aws_setup(tmp_path, n=2, max_attempts=3)
        client = make_rekognition_client(ClientSettings(
            region="us-east-1", endpoint_url=f"http://127.0.0.1:{server.server_port}", max_attempts=3))
        # botocore's max_attempts counts retries: 3 retries make 4 attempts in all.
        assert client.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 4}
        report = fetch_responses(sample.head(1), settings, AwsBackend(client, "us-east-1"), cache)
    finally:
        server.shutdown()
        server.server_close()
    assert ThrottleOnceHandler.requests == ["RekognitionService.DetectLabels"] * 2
    assert report.calls_made == 1 and report.records[0]["response"]["Labels"][-1]["Confidence"] == 88.0


# --- real HTTP round trip to moto, with credentials that must not leak -----------------------------------

@pytest.fixture
def moto_endpoint():
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def test_moto_round_trip_caches_and_never_writes_credentials(tmp_path, fake_credentials, moto_endpoint):
    sample = tiny_sample(tmp_path / "corpus", 5)
    sample.to_csv(tmp_path / "sample.csv", index=False)
    config = default_config(backend="aws", apis=["detect_labels"], endpoint_url=moto_endpoint,
                            cache_dir=str(tmp_path / "cache"), max_in_flight=2)
    out = tmp_path / "out"
    rule = SimpleNamespace(log=[str(tmp_path / "fetch.log")], rule="autotag_fetch")
    setup_rule_logging(rule)
    logging.getLogger().setLevel(logging.DEBUG)  # botocore's own debug lines must still stay out
    calls = []

    def count_call(model, **kwargs) -> None:
        calls.append(model.name)
        logging.info("CALLING %s", model.name)

    client = make_rekognition_client(fetch_settings(config).client)
    client.meta.events.register("before-call", count_call)
    first = run_fetch(tmp_path / "sample.csv", config, out / "estimate.csv", out / "responses.jsonl",
                      backend=AwsBackend(client, "us-east-1"))
    second = run_fetch(tmp_path / "sample.csv", config, out / "estimate.csv", out / "responses.jsonl")
    logging.getLogger().handlers.clear()
    assert (first.calls_made, second.calls_made, len(calls)) == (len(sample), 0, len(sample))
    log_lines = (tmp_path / "fetch.log").read_text().splitlines()
    first_estimate = next(i for i, line in enumerate(log_lines) if "autotag estimate" in line)
    assert first_estimate < next(i for i, line in enumerate(log_lines) if "CALLING DetectLabels" in line)
    record = json.loads((out / "responses.jsonl").read_text().splitlines()[0])
    assert record["model_version"] == "3.0" and record["region"] == "us-east-1" and not record["simulated"]

    section = config["autotag"]
    run_tidy(out / "responses.jsonl", out / "labels.csv", out / "celebrities.csv", out / "requests.csv")
    inputs = {"sample": tmp_path / "sample.csv", **{name: out / f"{name}.csv" for name in ("labels", "celebrities", "requests")}}
    run_comparison_table("table_6_1", section, inputs, out / "table_6_1.csv", out / "table_6_1.md")
    run_threshold_sweep(section, inputs, out / "sweep.csv")
    run_figure_6_3(inputs, section, str(out / "figure_6_3.png"), 60, "default")
    assert "Simulated" not in (out / "table_6_1.md").read_text()
    written = [path for path in [*tmp_path.rglob("*")] if path.is_file() and "corpus" not in path.parts]
    assert len(written) > 10
    for path in written:
        content = path.read_bytes()
        for secret in (FAKE_KEY_ID, FAKE_SECRET, FAKE_TOKEN):
            assert secret.encode() not in content, f"{secret[:6]}... leaked into {path}"


# --- the authors' five recorded responses ------------------------------------------------------------

def recorded_sample(fixtures: Path) -> pd.DataFrame:
    images = sorted((fixtures / "rekognition" / "images").glob("*.jpg"))
    return pd.DataFrame({
        "image_id": [path.name for path in images], "path": [str(path) for path in images],
        "sha256": [hashlib.sha256(path.read_bytes()).hexdigest() for path in images],
    })


def test_recorded_responses_pass_through_the_stubbed_client(shared_fixtures, tmp_path):
    responses = recorded_detect_labels(shared_fixtures / "rekognition" / "awsrekognition_detect_labels.csv")
    sample = recorded_sample(shared_fixtures)
    assert set(responses) == set(sample["image_id"])
    settings = fetch_settings(default_config(backend="aws", apis=["detect_labels"], max_in_flight=1,
                                             cache_dir=str(tmp_path / "cache")))
    backend, stubber = stubbed_backend()
    for image_id in sample["image_id"]:
        stubber.add_response("detect_labels", responses[image_id], DETECT_LABELS_PARAMS)
    with stubber:
        report = fetch_responses(sample, settings, backend, ResponseCache(settings.cache_root))
    labels = tidy_labels(report.records)
    assert set(labels["model_version"]) == {"2.0"}
    person = labels[(labels["image_id"] == "ex_5.jpg") & (labels["label"] == "Person")].iloc[0]
    assert round(person["confidence"], 2) == 99.75 and person["n_instances"] == 3
    assert labels[labels["label"] == "Portrait"]["parents"].iloc[0] == "Face;Person;Photography"


def test_recorded_responses_replay_without_aws(shared_fixtures, tmp_path):
    folder = shared_fixtures / "rekognition"
    cache = ResponseCache(tmp_path / "cache")
    import_recorded_cli(["--images", str(folder / "images"), "--cache", str(cache.root),
                         "--labels", str(folder / "awsrekognition_detect_labels.csv"),
                         "--celebrities", str(folder / "awsrekognition_celeb_detect.csv")])
    sample = recorded_sample(shared_fixtures)
    settings = fetch_settings(default_config(backend="replay", cache_dir=str(tmp_path / "cache")))
    report = fetch_responses(sample, settings, None, cache)
    assert report.calls_made == 0 and report.from_cache == 2 * len(sample)
    celebrities = tidy_celebrities(report.records)
    assert sorted(celebrities[celebrities["image_id"] == "ex_4.jpg"]["name"]) == ["Paul Ryan", "Steve Scalise"]
    assert celebrities[celebrities["image_id"] == "ex_2.jpg"]["name"].tolist() == ["Ed Royce"]
    assert celebrities.loc[celebrities["name"] == "Paul Ryan", "urls"].iloc[0] == "www.imdb.com/name/nm3844055"
    assert all(record["request_time"].startswith("2019-05-13") for record in report.records)
    assert len(recorded_celebrities(folder / "awsrekognition_celeb_detect.csv")) == len(sample)
    # The recordings kept recognised faces only: how many faces went unrecognised is unknown, not 0.
    requests = tidy_requests(report.records)
    faces = requests[requests["api"] == "recognize_celebrities"].set_index("image_id")
    assert faces["n_unrecognized_faces"].isna().all()
    assert faces["n_celebrities"].to_dict() == {"ex_1.jpg": 0, "ex_2.jpg": 1, "ex_3.jpg": 0, "ex_4.jpg": 2, "ex_5.jpg": 0}
    written = tmp_path / "requests.csv"
    requests.to_csv(written, index=False)
    assert pd.read_csv(written).query("api == 'recognize_celebrities'")["n_unrecognized_faces"].isna().all()
