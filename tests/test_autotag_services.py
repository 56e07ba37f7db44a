"""Google Cloud Vision and Azure AI Vision through their real clients against a fake server on 127.0.0.1:
credentials from each SDK's own chain, retries, resume, cost cap, replay, rejected images,
simulated responses in the documented formats, and no credential in any output."""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from images_as_data.autotag.azure_vision import parse_response as parse_azure
from images_as_data.autotag.backends import NoCredentialsError
from images_as_data.autotag.cache import ResponseCache
from images_as_data.autotag.cloud import run_cloud_fetch
from images_as_data.autotag.compare import run_service_table, run_threshold_sweep
from images_as_data.autotag.fetch import CallCapExceeded, MissingCachedResponses, RejectedImages, read_records
from images_as_data.autotag.figures import run_figure_6_4
from images_as_data.autotag.google_vision import parse_response as parse_google
from images_as_data.autotag.google_vision import response_json
from images_as_data.autotag.settings import AzureRates, GoogleRates, fetch_settings
from images_as_data.autotag.simulated import SceneTruth, simulate_azure_tags, simulate_google_labels
from images_as_data.autotag.tidy import run_tidy, tidy_labels
from images_as_data.common.runlog import setup_rule_logging

from .test_autotag import default_config, tiny_sample

SERVICES = ["google", "azure"]
AZURE_KEY = "AzureFakeKey0123456789abcdefNEVERinOUTPUTS"
GOOGLE_KEY_ID = "fakekeyid0123456789abcdefneverwritten"
GOOGLE_ACCESS = "ya29.FakeAccessTokenNeverWritten"
GOOGLE_API_KEY = "AIzaFakeApiKeyNeverWrittenAnywhere0"
ANNOTATE_PATH = "/v1/images:annotate"
ANALYZE_PATH = "/computervision/imageanalysis:analyze"


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """Fail a test that looks up or connects to anything but this machine (the SDKs must talk to the fake)."""
    real_connect, real_lookup = socket.socket.connect, socket.getaddrinfo

    def local(host) -> bool:
        if host in ("localhost", None):
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False

    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not local(address[0]):
            raise AssertionError(f"the test tried to connect to {address}")
        return real_connect(self, address)

    def lookup(host, *args, **kwargs):
        if not local(host):
            raise AssertionError(f"the test tried to resolve {host}")
        return real_lookup(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", lookup)


# --- the fake service ---------------------------------------------------------------------------

def google_answer(sent: bytes) -> dict:
    """A documented-format label detection answer; Crowd's score depends on the image."""
    crowd = 0.5 + (hashlib.sha256(sent).digest()[0] / 255) * 0.49
    return {"labelAnnotations": [
        {"mid": "/m/01g317", "description": "Person", "score": 0.97, "topicality": 0.97},
        {"mid": "/m/03qtwd", "description": "Crowd", "score": round(crowd, 4), "topicality": round(crowd, 4)},
    ]}


def azure_answer(sent: bytes) -> dict:
    crowd = 0.5 + (hashlib.sha256(sent).digest()[0] / 255) * 0.49
    return {"modelVersion": "2023-10-01", "metadata": {"width": 120, "height": 100},
            "tagsResult": {"values": [{"name": "person", "confidence": 0.99}, {"name": "crowd", "confidence": round(crowd, 4)}]}}


class FakeVision(BaseHTTPRequestHandler):
    """Google's images:annotate, its OAuth token endpoint and Azure's imageanalysis:analyze.

    The server's `state` says how to behave: throttle the first calls (429), stop answering
    after some successes (a fatal 403/401), reject chosen images (by the sent bytes' SHA-256).
    """

    def do_POST(self):  # noqa: N802 (http.server's naming)
        state = self.server.state
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        path = self.path.split("?")[0]
        with state.lock:
            state.headers.append({name.lower(): value for name, value in self.headers.items()})
            if path == "/token":
                return self._send(200, {"access_token": GOOGLE_ACCESS, "expires_in": 3600, "token_type": "Bearer"})
            sent = base64.b64decode(json.loads(body)["requests"][0]["image"]["content"]) if path == ANNOTATE_PATH else body
            state.calls.append(hashlib.sha256(sent).hexdigest())
            if len(state.calls) <= state.throttle_first:
                return self._send(429, {"error": {"code": 429, "message": "Rate exceeded", "status": "RESOURCE_EXHAUSTED"}},
                                  {"Retry-After": "0"})
            if state.fail_after is not None and state.successes >= state.fail_after:
                if path == ANNOTATE_PATH:
                    return self._send(403, {"error": {"code": 403, "message": "quota gone", "status": "PERMISSION_DENIED"}})
                return self._send(401, {"error": {"code": "401", "message": "Access denied due to invalid subscription key"}})
            rejected = hashlib.sha256(sent).hexdigest() in state.reject
            if path == ANNOTATE_PATH:
                if rejected:
                    return self._send(200, {"responses": [{"error": {"code": 3, "message": "Bad image data."}}]})
                state.successes += 1
                return self._send(200, {"responses": [state.google(sent)]})
            if rejected:
                return self._send(400, {"error": {"code": "InvalidImageFormat", "message": "Input data is not a valid image."}})
            state.successes += 1
            return self._send(200, state.azure(sent))

    def _send(self, status: int, payload: dict, headers: dict | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_service():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeVision)
    server.state = SimpleNamespace(lock=threading.Lock(), calls=[], headers=[], successes=0, throttle_first=0,
                                   fail_after=None, reject=set(), google=google_answer, azure=azure_answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_port}"
    yield server
    server.shutdown()
    server.server_close()


def _no_metadata_server(*args, **kwargs):
    raise AssertionError("the test tried to reach the GCE metadata server")


@pytest.fixture
def credentials(monkeypatch, tmp_path):
    """Each SDK's own chain: Google's ADC file (its token endpoint is the fake server) and Azure's key variable.

    Nothing else can be found: no gcloud config, no metadata server lookups.
    """
    def use(server):
        adc = tmp_path / "secrets" / "adc.json"
        adc.parent.mkdir(exist_ok=True)
        adc.write_text(json.dumps({
            "type": "service_account", "project_id": "fake-project", "private_key_id": GOOGLE_KEY_ID,
            "private_key": SERVICE_ACCOUNT_KEY, "client_email": "tagger@fake-project.iam.gserviceaccount.com",
            "client_id": "1234567890", "token_uri": f"{server.url}/token",
        }))
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(adc))
        monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "fake-project")
        monkeypatch.setenv("VISION_KEY", AZURE_KEY)
        return adc

    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "no-gcloud"))
    # google-auth reads NO_GCE_CHECK once, at import: set its flag itself, so that looking for
    # credentials never probes the metadata server's address (no traffic off 127.0.0.1).
    from google.auth.compute_engine import _metadata

    monkeypatch.setattr(_metadata, "_NO_GCE_CHECK", True)
    monkeypatch.setattr(_metadata, "ping", _no_metadata_server)
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.delenv("VISION_KEY", raising=False)
    monkeypatch.delenv("VISION_ENDPOINT", raising=False)
    return use


def _private_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


SERVICE_ACCOUNT_KEY = _private_key()
# What would identify the key: its base64 body lines (the PEM header is not secret).
KEY_LINES = [line for line in SERVICE_ACCOUNT_KEY.splitlines() if line and not line.startswith("-----")]


def service_config(tmp_path: Path, service: str, **options) -> dict:
    """The demo config comparing one live service against the fake endpoint, with fast retries."""
    config = default_config(services=[service], cache_dir=str(tmp_path / "cache"))
    config["autotag"][service].update({"backend": service, "max_in_flight": 1, **options})
    if service == "google":
        config["autotag"]["google"].setdefault("retry_initial_s", 0.01)
    else:
        config["autotag"]["azure"].setdefault("retry_backoff_s", 0.01)
    return config


def setup(tmp_path: Path, service: str, server, n: int = 6, **options):
    sample = tiny_sample(tmp_path / "corpus", n + 1)  # the last image duplicates the first
    sample.to_csv(tmp_path / "sample.csv", index=False)
    config = service_config(tmp_path, service, endpoint=server.url if server else None, **options)
    return sample, config


def fetch(tmp_path: Path, service: str, config: dict, name: str = "run"):
    out = tmp_path / name
    return run_cloud_fetch(service, tmp_path / "sample.csv", config, out / "estimate.csv", out / "responses.jsonl")


# --- resume, cost cap, replay, retries, rejected images --------------------------------------------

@pytest.mark.parametrize("service", SERVICES)
def test_an_interrupted_run_resumes_with_exactly_the_missing_calls(tmp_path, service, fake_service, credentials):
    credentials(fake_service)
    sample, config = setup(tmp_path, service, fake_service)
    n, k = len(sample), 2
    fake_service.state.fail_after = k
    with pytest.raises(Exception, match="quota gone|invalid subscription key"):
        fetch(tmp_path, service, config)
    cache = ResponseCache(fetch_settings(config, service).cache_root)
    assert len(list(cache.root.rglob("*.json"))) == k
    fake_service.state.fail_after, fake_service.state.calls = None, []
    report = fetch(tmp_path, service, config)
    assert (report.calls_made, report.from_cache, len(fake_service.state.calls)) == (n - k, k, n - k)
    estimate = pd.read_csv(tmp_path / "run" / "estimate.csv").iloc[0]
    price = config["autotag"][service]["price_per_call"]
    assert (estimate["cached"], estimate["calls_needed"], estimate["service"]) == (k, n - k, service)
    assert estimate["cost_usd"] == pytest.approx((n - k) * price)
    records = read_records(tmp_path / "run" / "responses.jsonl")
    assert [record["image_id"] for record in records] == sample["image_id"].tolist()
    assert {record["endpoint"] for record in records} == {fake_service.url}
    assert {record["model_version"] for record in records} == {"builtin/stable" if service == "google" else "2023-10-01"}
    assert all(record["request_time"] and not record["simulated"] for record in records)
    answer = google_answer if service == "google" else azure_answer  # stored as the service documents it
    paths = dict(zip(sample["image_id"], sample["path"]))
    assert all(record["response"] == answer(Path(paths[record["image_id"]]).read_bytes()) for record in records)
    # A third run makes no call at all.
    fake_service.state.calls = []
    assert fetch(tmp_path, service, config).calls_made == 0 and fake_service.state.calls == []


@pytest.mark.parametrize("service", SERVICES)
def test_the_cost_cap_stops_before_any_call(tmp_path, service, fake_service, credentials, caplog):
    credentials(fake_service)
    sample, config = setup(tmp_path, service, fake_service, max_calls=3)
    with caplog.at_level(logging.INFO), pytest.raises(CallCapExceeded, match=f"autotag.{service}.max_calls is 3"):
        fetch(tmp_path, service, config)
    assert fake_service.state.calls == [] and fake_service.state.headers == []
    assert pd.read_csv(tmp_path / "run" / "estimate.csv")["calls_needed"].tolist() == [len(sample)]
    assert f"autotag estimate ({service} backend)" in caplog.text


@pytest.mark.parametrize("service", SERVICES)
def test_replay_needs_no_credentials_and_lists_what_is_missing(tmp_path, service, fake_service, credentials):
    sample, config = setup(tmp_path, service, fake_service, backend="replay")
    with pytest.raises(MissingCachedResponses, match=f"img_00.jpg.*autotag.{service}.backend: {service}"):
        fetch(tmp_path, service, config)
    credentials(fake_service)
    fetch(tmp_path, service, service_config(tmp_path, service, endpoint=fake_service.url))
    fake_service.state.calls = []
    replayed = fetch(tmp_path, service, config, "replayed")
    assert (replayed.calls_made, replayed.from_cache, fake_service.state.calls) == (0, len(sample), [])


@pytest.mark.parametrize("service", SERVICES)
def test_throttling_is_retried_with_backoff_by_the_client(tmp_path, service, fake_service, credentials):
    credentials(fake_service)
    sample, config = setup(tmp_path, service, fake_service, n=2)
    fake_service.state.throttle_first = 2
    report = fetch(tmp_path, service, config)
    assert report.calls_made == len(sample)
    # The first image was tried three times (two 429 answers), each other image once.
    assert len(fake_service.state.calls) == len(sample) + 2


@pytest.mark.parametrize("service", SERVICES)
def test_a_rejected_image_does_not_stop_the_others(tmp_path, service, fake_service, credentials):
    credentials(fake_service)
    sample, config = setup(tmp_path, service, fake_service, n=4)
    fake_service.state.reject = {sample["sha256"].iloc[1]}
    with pytest.raises(RejectedImages, match=f"rejected 1 image.*{sample['image_id'].iloc[1]}"):
        fetch(tmp_path, service, config)
    assert len(list(Path(fetch_settings(config, service).cache_root).rglob("*.json"))) == len(sample) - 1


# --- credentials --------------------------------------------------------------------------------------

@pytest.mark.parametrize("service, message", [
    ("google", "Application Default Credentials found nothing"),
    ("azure", "environment variable VISION_KEY"),
])
def test_missing_credentials_are_named_and_only_needed_for_uncached_images(tmp_path, service, message, fake_service,
                                                                         credentials, monkeypatch):
    sample, config = setup(tmp_path, service, fake_service, n=2)
    with pytest.raises(NoCredentialsError, match=message):
        fetch(tmp_path, service, config)
    credentials(fake_service)
    fetch(tmp_path, service, config)
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS")
    monkeypatch.delenv("VISION_KEY")
    assert fetch(tmp_path, service, config).calls_made == 0


def test_google_api_key_from_the_named_environment_variable(tmp_path, fake_service, credentials, monkeypatch):
    sample, config = setup(tmp_path, "google", fake_service, n=2, api_key_env="MY_VISION_KEY")
    with pytest.raises(NoCredentialsError, match="MY_VISION_KEY, which is not set"):
        fetch(tmp_path, "google", config)
    monkeypatch.setenv("MY_VISION_KEY", GOOGLE_API_KEY)
    fetch(tmp_path, "google", config)
    assert {headers.get("x-goog-api-key") for headers in fake_service.state.headers} == {GOOGLE_API_KEY}


@pytest.mark.parametrize("service", SERVICES)
def test_a_full_run_never_writes_a_credential(tmp_path, service, fake_service, credentials):
    adc = credentials(fake_service)
    sample, config = setup(tmp_path, service, fake_service)
    out = tmp_path / "out"
    out.mkdir()
    setup_rule_logging(SimpleNamespace(log=[str(out / "fetch.log")], rule="autotag_fetch_service"))
    logging.getLogger().setLevel(logging.DEBUG)  # the SDKs' own debug lines must stay out too
    try:
        fetch(tmp_path, service, config, "out")
    finally:
        logging.getLogger().handlers.clear()
    # The credentials were really used: the fake service saw them.
    used = [headers.get("authorization") or headers.get("ocp-apim-subscription-key") for headers in fake_service.state.headers]
    assert used and all(used)
    if service == "google":  # a bearer token from the service account (fetched or self-signed with its key)
        assert all(value.startswith("Bearer ") for value in used)
        tokens = {value.split(" ", 1)[1] for value in used}
    else:
        assert set(used) == {AZURE_KEY}
        tokens = set()
    section = config["autotag"]
    run_tidy([out / "responses.jsonl"], out / "labels.csv", out / "celebrities.csv", out / "requests.csv")
    inputs = {"sample": tmp_path / "sample.csv", **{name: out / f"{name}.csv" for name in ("labels", "celebrities", "requests")}}
    section[service]["label_comparison"]["label"] = "Crowd" if service == "google" else "crowd"
    table = run_service_table(service, section, inputs, out / "table.csv", out / "table.md")
    run_threshold_sweep(section, inputs, out / "sweep.csv")
    run_figure_6_4(inputs, section, str(out / "figure_6_4.png"), str(out / "figure_6_4.csv"), 60, "default")
    assert table.loc[0, "n_images"] == len(sample) and not table.loc[0, "simulated"]
    assert "Simulated" not in (out / "table.md").read_text()
    written = [path for path in [*tmp_path.rglob("*")] if path.is_file() and "corpus" not in path.parts and path != adc]
    assert len(written) > 10
    secrets = (AZURE_KEY, GOOGLE_KEY_ID, GOOGLE_ACCESS, *KEY_LINES, *tokens)
    for path in written:
        content = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in content, f"{secret[:6]}... leaked into {path}"


# --- simulated responses in the documented formats ------------------------------------------------------

def test_simulated_google_responses_are_valid_annotate_image_responses():
    rates = GoogleRates()
    request = fetch_settings(default_config(services=["google"]), "google").request_parameters("google_label_detection")
    for index, truth in enumerate([SceneTruth(True, False), SceneTruth(False, True), SceneTruth(False, False)]):
        response = simulate_google_labels(5, hashlib.sha256(str(index).encode()).hexdigest(), truth, rates, request)
        parsed = parse_google(response)  # unknown fields would raise
        assert response_json(parsed) == response
        scores = [label.score for label in parsed.label_annotations]
        assert scores == sorted(scores, reverse=True) and min(scores) >= 0.5 and len(scores) <= 50


def test_simulated_google_labels_follow_the_rates():
    rates, request = GoogleRates(), {"features": [{"type": "LABEL_DETECTION", "maxResults": 50}]}
    shas = [hashlib.sha256(str(k).encode()).hexdigest() for k in range(400)]

    def says_protest(sha, crowd):
        labels = simulate_google_labels(3, sha, SceneTruth(crowd, False), rates, request)["labelAnnotations"]
        return any(label["description"] == "Protest" for label in labels)

    assert abs(sum(says_protest(sha, True) for sha in shas) / 400 - rates.protest_recall) < 0.06
    assert abs(sum(says_protest(sha, False) for sha in shas) / 400 - rates.protest_false_positive_rate) < 0.04


def test_simulated_azure_responses_pass_through_the_real_client(tmp_path, fake_service, credentials):
    """The SDK reads the simulated result as it reads the service's; tidy gives the same labels either way."""
    credentials(fake_service)
    sample, config = setup(tmp_path, "azure", fake_service, n=3)
    truth = SceneTruth(crowd=True, celebrity=False)
    fake_service.state.azure = lambda sent: simulate_azure_tags(1, hashlib.sha256(sent).hexdigest(), truth, AzureRates(),
                                                                 {}, (120, 100))
    report = fetch(tmp_path, "azure", config)
    for record in report.records:
        expected = simulate_azure_tags(1, record["sha256"], truth, AzureRates(), {}, (120, 100))
        assert record["response"] == expected
        result = parse_azure(record["response"])
        assert [tag.name for tag in result.tags.list] == [tag["name"] for tag in expected["tagsResult"]["values"]]
        assert result.metadata.width == 120 and result.model_version == "simulated"
    labels = tidy_labels(report.records)
    assert set(labels["service"]) == {"azure"} and labels["confidence"].between(0, 100).all()


def test_simulated_cloud_runs_are_marked_and_kept_apart(tmp_path):
    sample = tiny_sample(tmp_path / "corpus", 7)
    sample.to_csv(tmp_path / "sample.csv", index=False)
    config = default_config(services=["rekognition", "google", "azure"], cache_dir=str(tmp_path / "cache"))
    for service in SERVICES:
        config["autotag"][service]["backend"] = "simulated"
        report = fetch(tmp_path, service, config, service)
        assert report.calls_made == len(sample)
        assert all(record["simulated"] and record["model_version"] == "simulated" for record in report.records)
        assert pd.read_csv(tmp_path / service / "estimate.csv")["cost_usd"].tolist() == [0.0]
    assert {path.parent.parent.name for path in (tmp_path / "cache").rglob("*.json")} == {"simulated"}
    config["autotag"]["google"]["backend"] = "google"
    with pytest.raises(ValueError, match="holds a simulated response"):
        from images_as_data.autotag.fetch import fetch_responses

        settings = fetch_settings(config, "google")
        fetch_responses(sample, settings, None, ResponseCache(Path(settings.cache_dir) / "simulated"))
