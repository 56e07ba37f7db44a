"""Tidy tables from raw responses: one row per image-label, image-celebrity face, image-call."""

from __future__ import annotations

from typing import Any, Iterable

import pandas as pd

from images_as_data.autotag.fetch import read_records
from images_as_data.common.atomic import write_csv

LABEL_COLUMNS = ["image_id", "label", "confidence", "parents", "n_instances", "model_version", "simulated"]
CELEBRITY_COLUMNS = [
    "image_id", "name", "celebrity_id", "match_confidence", "face_confidence",
    "bbox_left", "bbox_top", "bbox_width", "bbox_height", "urls", "simulated",
]
REQUEST_COLUMNS = [
    "image_id", "api", "sha256", "request_time", "region", "backend", "model_version", "simulated",
    "reencoded", "reencode_reason", "sent_bytes", "n_labels", "n_celebrities", "n_unrecognized_faces",
]
LIST_SEPARATOR = ";"


def _records_of(records: Iterable[dict[str, Any]], api: str) -> list[dict[str, Any]]:
    return [record for record in records if record["api"] == api]


def tidy_labels(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """DetectLabels: one row per image and label."""
    rows = [
        {
            "image_id": record["image_id"],
            "label": label["Name"],
            "confidence": float(label["Confidence"]),
            "parents": LIST_SEPARATOR.join(parent["Name"] for parent in label.get("Parents", [])),
            "n_instances": len(label.get("Instances", [])),
            "model_version": record.get("model_version"),
            "simulated": bool(record.get("simulated")),
        }
        for record in _records_of(records, "detect_labels")
        for label in record["response"].get("Labels", [])
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


def tidy_requests(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """One row per image and API: provenance of each response and what was sent."""
    rows = []
    for record in records:
        response = record["response"]
        sent = record.get("sent") or {}
        is_labels = record["api"] == "detect_labels"
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
            "n_labels": len(response.get("Labels", [])) if is_labels else None,
            "n_celebrities": None if is_labels else len(response.get("CelebrityFaces", [])),
            "n_unrecognized_faces": None if is_labels else len(response.get("UnrecognizedFaces", [])),
        })
    frame = pd.DataFrame(rows, columns=REQUEST_COLUMNS)
    return frame.astype({"n_labels": "Int64", "n_celebrities": "Int64", "n_unrecognized_faces": "Int64"})


def run_tidy(records_jsonl, labels_csv, celebrities_csv, requests_csv) -> None:
    """The tidy rule: the three tables from the fetched records."""
    records = read_records(records_jsonl)
    write_csv(tidy_labels(records), labels_csv)
    write_csv(tidy_celebrities(records), celebrities_csv)
    write_csv(tidy_requests(records), requests_csv)
