"""Tidy tables from raw responses: one row per image-label, image-celebrity face, image-call.

The label table holds every service's labels with the same columns; confidences are on
Rekognition's 0-100 scale (Google's scores, Azure's confidences and CLIP's probabilities,
0-1, are multiplied by 100).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from images_as_data.autotag import API_SERVICE
from images_as_data.autotag.fetch import read_records
from images_as_data.common.atomic import write_csv

LABEL_COLUMNS = ["image_id", "label", "confidence", "parents", "n_instances", "model_version", "simulated", "service"]
CELEBRITY_COLUMNS = [
    "image_id", "name", "celebrity_id", "match_confidence", "face_confidence",
    "bbox_left", "bbox_top", "bbox_width", "bbox_height", "urls", "simulated",
]
REQUEST_COLUMNS = [
    "image_id", "api", "sha256", "request_time", "region", "backend", "model_version", "simulated",
    "reencoded", "reencode_reason", "sent_bytes", "n_labels", "n_celebrities", "n_unrecognized_faces",
    "service", "endpoint",
]
LABEL_APIS = ("detect_labels", "google_label_detection", "azure_tags", "clip_zero_shot")
LIST_SEPARATOR = ";"


def _records_of(records: Iterable[dict[str, Any]], api: str) -> list[dict[str, Any]]:
    return [record for record in records if record["api"] == api]


def response_labels(api: str, response: dict[str, Any]) -> list[dict[str, Any]]:
    """(label, confidence 0-100, parents, n_instances) of one response, in the service's order."""
    if api == "detect_labels":
        return [
            {"label": label["Name"], "confidence": float(label["Confidence"]),
             "parents": LIST_SEPARATOR.join(parent["Name"] for parent in label.get("Parents", [])),
             "n_instances": len(label.get("Instances", []))}
            for label in response.get("Labels", [])
        ]
    if api == "google_label_detection":
        return [{"label": label["description"], "confidence": 100 * float(label.get("score", 0.0)), "parents": "",
                 "n_instances": 0} for label in response.get("labelAnnotations", [])]
    if api == "azure_tags":
        return [{"label": tag["name"], "confidence": 100 * float(tag["confidence"]), "parents": "", "n_instances": 0}
                for tag in (response.get("tagsResult") or {}).get("values", [])]
    if api == "clip_zero_shot":
        return [{"label": entry["label"], "confidence": 100 * float(entry["score"]), "parents": "", "n_instances": 0}
                for entry in response.get("labels", [])]
    raise ValueError(f"no labels in {api} responses")


def tidy_labels(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """Every service's labels: one row per image, service and label."""
    rows = [
        {
            "image_id": record["image_id"],
            **label,
            "model_version": record.get("model_version"),
            "simulated": bool(record.get("simulated")),
            "service": API_SERVICE[record["api"]],
        }
        for record in records
        if record["api"] in LABEL_APIS
        for label in response_labels(record["api"], record["response"])
    ]
    return pd.DataFrame(rows, columns=LABEL_COLUMNS)


def tidy_celebrities(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """RecognizeCelebrities: one row per image and recognised face (none for images without one)."""
    rows = []
    for record in _records_of(records, "recognize_celebrities"):
        for celebrity in record["response"].get("CelebrityFaces", []):
            face = celebrity.get("Face", {})
            box = face.get("BoundingBox", {})
            rows.append({
                "image_id": record["image_id"],
                "name": celebrity["Name"],
                "celebrity_id": celebrity.get("Id"),
                "match_confidence": float(celebrity["MatchConfidence"]),
                "face_confidence": face.get("Confidence"),
                "bbox_left": box.get("Left"),
                "bbox_top": box.get("Top"),
                "bbox_width": box.get("Width"),
                "bbox_height": box.get("Height"),
                "urls": LIST_SEPARATOR.join(celebrity.get("Urls", [])),
                "simulated": bool(record.get("simulated")),
            })
    return pd.DataFrame(rows, columns=CELEBRITY_COLUMNS)


def _unrecognized_faces(response: dict[str, Any]) -> int | None:
    """Unrecognised faces in a RecognizeCelebrities response; None (unknown) when the response
    lacks the list, as those rebuilt from the authors' recordings do (they kept recognised faces only)."""
    faces = response.get("UnrecognizedFaces")
    return None if faces is None else len(faces)


def tidy_requests(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """One row per image and API: provenance of each response and what was sent."""
    rows = []
    for record in records:
        response = record["response"]
        sent = record.get("sent") or {}
        is_labels = record["api"] in LABEL_APIS
        rows.append({
            "image_id": record["image_id"],
            "api": record["api"],
            "sha256": record["sha256"],
            "request_time": record.get("request_time"),
            "region": record.get("region"),
            "backend": record.get("backend"),
            "model_version": record.get("model_version"),
            "simulated": bool(record.get("simulated")),
            "reencoded": sent.get("reencoded"),
            "reencode_reason": sent.get("reason"),
            "sent_bytes": sent.get("bytes"),
            "n_labels": len(response_labels(record["api"], response)) if is_labels else None,
            "n_celebrities": None if is_labels else len(response.get("CelebrityFaces", [])),
            "n_unrecognized_faces": _unrecognized_faces(response) if not is_labels else None,
            "service": API_SERVICE[record["api"]],
            "endpoint": record.get("endpoint"),
        })
    frame = pd.DataFrame(rows, columns=REQUEST_COLUMNS)
    return frame.astype({"n_labels": "Int64", "n_celebrities": "Int64", "n_unrecognized_faces": "Int64"})


def run_tidy(records_jsonl, labels_csv, celebrities_csv, requests_csv) -> None:
    """The tidy rule: the three tables from the fetched records of one or more services (`records_jsonl`: a path or a list)."""
    paths = [records_jsonl] if isinstance(records_jsonl, (str, Path)) else list(records_jsonl)
    records = [record for path in paths for record in read_records(path)]
    write_csv(tidy_labels(records), labels_csv)
    write_csv(tidy_celebrities(records), celebrities_csv)
    write_csv(tidy_requests(records), requests_csv)
