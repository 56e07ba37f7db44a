"""Responses recorded by the book's authors (companion CSVs) turned into cache records for replay.

The authors' scripts wrote one CSV row per image and label / celebrity face, with the
whole response as a Python repr. Importing them into a cache lets the replay backend
rebuild the tables from those responses without AWS access.
"""

from __future__ import annotations

import ast
import hashlib
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pandas as pd

from images_as_data.autotag.cache import ResponseCache, make_record


def _literal(text: Any) -> Any:
    return ast.literal_eval(text) if isinstance(text, str) and text.strip() else None


def _request_time(metadata: dict[str, Any] | None) -> str | None:
    date = (metadata or {}).get("HTTPHeaders", {}).get("date")
    return parsedate_to_datetime(date).isoformat(timespec="seconds") if date else None


def recorded_detect_labels(csv_path: str | Path) -> dict[str, dict[str, Any]]:
    """DetectLabels responses by image file name (every row of an image repeats the response)."""
    table = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    first_rows = table.drop_duplicates("image_id")
    return {row.image_id: _literal(row.full_detect_labels_response) for row in first_rows.itertuples(index=False)}


def recorded_celebrities(csv_path: str | Path) -> dict[str, dict[str, Any]]:
    """RecognizeCelebrities responses by image file name, rebuilt from one row per recognised face.

    The CSV did not keep unrecognised faces, so the rebuilt responses have no UnrecognizedFaces.
    """
    table = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    responses = {}
    for image_id, rows in table.groupby("image_id", sort=False):
        rows = rows.assign(order=pd.to_numeric(rows["celeb_num"], errors="coerce")).sort_values("order")
        faces = [_literal(text) for text in rows["celeb_full_response"] if text.strip()]
        response: dict[str, Any] = {"CelebrityFaces": faces}
        metadata = _literal(rows["celeb_metadata"].iloc[0])
        if metadata:
            response["ResponseMetadata"] = metadata
        responses[image_id] = response
    return responses


def import_recorded(
    images_dir: str | Path,
    cache: ResponseCache,
    detect_labels_csv: str | Path | None = None,
    celebrities_csv: str | Path | None = None,
) -> list[dict[str, Any]]:
    """Store the recorded responses of the images in `images_dir` in `cache`; return the records."""
    sources = {
        "detect_labels": recorded_detect_labels(detect_labels_csv) if detect_labels_csv else {},
        "recognize_celebrities": recorded_celebrities(celebrities_csv) if celebrities_csv else {},
    }
    records = []
    for api, responses in sources.items():
        for image_id, response in responses.items():
            path = Path(images_dir) / image_id
            if not path.is_file():
                raise FileNotFoundError(f"the recorded {api} responses name {image_id}, which is not in {images_dir}")
            record = make_record(
                api, image_id, hashlib.sha256(path.read_bytes()).hexdigest(), response,
                region=None, backend="recorded", request=None, sent=None,
                request_time=_request_time(response.get("ResponseMetadata")),
            )
            cache.store(record)
            records.append(record)
    return records


def main(argv: list[str] | None = None) -> None:
    """Command line: fill a response cache from the authors' recorded CSVs."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m images_as_data.autotag.recorded",
        description="Import the book authors' recorded Rekognition responses into a response cache "
        "(then run the workflow with autotag.backend: replay and autotag.cache_dir set to it).",
    )
    parser.add_argument("--images", required=True, help="folder of the images the CSVs name")
    parser.add_argument("--cache", required=True, help="response cache folder (autotag.cache_dir)")
    parser.add_argument("--labels", help="awsrekognition_detect_labels.csv")
    parser.add_argument("--celebrities", help="awsrekognition_celeb_detect.csv")
    args = parser.parse_args(argv)
    records = import_recorded(args.images, ResponseCache(Path(args.cache)), args.labels, args.celebrities)
    print(f"stored {len(records)} recorded responses in {args.cache}")


if __name__ == "__main__":
    main()
