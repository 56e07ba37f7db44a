"""Raw API responses stored one JSON file per API and image SHA-256, written atomically.

A record holds the response with its provenance (service, request time, region and
endpoint, operation, the model version the service reported, request parameters, what was
sent), so that a rerun never pays twice for an image and an interrupted run resumes where
it stopped. No record holds a credential: clients take theirs from the SDK's own chain.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from images_as_data.autotag import API_OPERATIONS, API_SERVICE
from images_as_data.common.atomic import write_text

SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")


def model_version(api: str, response: dict[str, Any], request: dict[str, Any] | None = None) -> str | None:
    """The model version the service reports.

    Rekognition's DetectLabels and Azure report one; RecognizeCelebrities reports none; Google
    reports none either, so the model the request asked for stands in for it; CLIP's
    responses carry the model name, weights and checksum.
    """
    if api == "detect_labels":
        return response.get("LabelModelVersion")
    if api == "azure_tags":
        return response.get("modelVersion")
    if api == "clip_zero_shot":
        return response.get("modelVersion")
    if api == "google_label_detection":
        features = (request or {}).get("features") or [{}]
        return features[0].get("model") or "builtin/stable"
    return None


def strip_transport_metadata(response: dict[str, Any]) -> dict[str, Any]:
    """Drop HTTP headers and retry counts; keep the request id, which AWS support asks for."""
    cleaned = {key: value for key, value in response.items() if key != "ResponseMetadata"}
    request_id = response.get("ResponseMetadata", {}).get("RequestId")
    if request_id:
        cleaned["ResponseMetadata"] = {"RequestId": request_id}
    return cleaned


def make_record(
    api: str,
    image_id: str,
    sha256: str,
    response: dict[str, Any],
    *,
    region: str | None,
    backend: str,
    request: dict[str, Any] | None,
    sent: dict[str, Any] | None,
    request_time: str | None = None,
    simulation: dict[str, Any] | None = None,
    endpoint: str | None = None,
) -> dict[str, Any]:
    """A cache record for one response (`simulation`: the settings a simulated response came from)."""
    simulated = simulation is not None or backend == "simulated"
    return {
        "api": api,
        "service": API_SERVICE[api],
        "operation": API_OPERATIONS[api],
        "sha256": sha256,
        "image_id": image_id,
        "request_time": request_time or datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "region": region,
        "endpoint": endpoint,
        "model_version": "simulated" if backend == "simulated" else model_version(api, response, request),
        "backend": backend,
        "simulated": simulated,
        "simulation": simulation,
        "request": request,
        "sent": sent,
        "response": strip_transport_metadata(response),
    }


@dataclass(frozen=True)
class ResponseCache:
    """Folder of records: <root>/<api>/<sha256>.json."""

    root: Path

    def path(self, api: str, sha256: str) -> Path:
        if api not in API_OPERATIONS:
            raise ValueError(f"unknown API '{api}'; expected one of {', '.join(API_OPERATIONS)}")
        if not SHA256_PATTERN.match(sha256):
            raise ValueError(f"'{sha256}' is not a lower-case hex SHA-256; check the inventory's sha256 column")
        return Path(self.root) / api / f"{sha256}.json"

    def has(self, api: str, sha256: str) -> bool:
        return self.path(api, sha256).is_file()

    def load(self, api: str, sha256: str) -> dict[str, Any] | None:
        path = self.path(api, sha256)
        if not path.is_file():
            return None
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise ValueError(f"cached response {path} is not valid JSON ({error}); delete it to fetch it again") from error
        if record.get("api") != api or record.get("sha256") != sha256 or "response" not in record:
            raise ValueError(f"cached response {path} does not hold a {api} response for {sha256}; delete it")
        return record

    def store(self, record: dict[str, Any]) -> Path:
        path = self.path(record["api"], record["sha256"])
        write_text(json.dumps(record, indent=1, sort_keys=True), path)
        return path
