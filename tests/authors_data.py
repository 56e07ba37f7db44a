"""Small data sets in the layouts real users bring: the book authors' task folders
(`<task>/train/<class>/`, `<task>/test/<class>/`), a tweet corpus with an annotation sheet
and share counts, and Rekognition responses in the authors' recorded CSV format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw

BOOK_EMOTIONS = ["fear", "anger", "disgust", "sadness", "enthusiasm"]
LEADERS = ["usa_obama", "ven_maduro", "zaf_zuma", "jpn_abe", "kaz_nazarbayev", "esp_rajoy"]
BOOK_TASKS = {
    **{task: ["negative", "positive"] for task in ["protest", "legend", *BOOK_EMOTIONS]},
    "world_leaders": LEADERS,
}
DATE_HEADER = "Mon, 13 May 2019 20:56:52 GMT"


def picture(rng: np.random.Generator, colour: tuple[int, int, int], width: int, height: int) -> Image.Image:
    """Noise (so PNGs stay above the inventory's 5 kB floor) with a disc of the class colour."""
    image = Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))
    radius = min(width, height) // 3
    cx, cy = int(rng.integers(radius, width - radius + 1)), int(rng.integers(radius, height - radius + 1))
    ImageDraw.Draw(image).ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=colour)
    return image


def aspect_size(rng: np.random.Generator, short: int = 48) -> tuple[int, int]:
    """Landscape, portrait or square, as tweets come."""
    long = int(short * rng.choice([1.0, 1.5, 2.0]))
    return (long, short) if rng.random() < 0.5 else (short, long)


def write_authors_tasks(root: Path, per_class: dict[str, int], seed: int = 0) -> None:
    """Every book task in the authors' layout: <root>/<task>/<folder>/<class>/<n>.png."""
    rng = np.random.default_rng(seed)
    for task, classes in BOOK_TASKS.items():
        for k, label in enumerate(classes):
            colour = tuple(int(c) for c in rng.integers(0, 256, 3)) if len(classes) > 2 else ((40, 90, 220), (220, 50, 40))[k]
            for folder, n in per_class.items():
                for index in range(n):
                    path = root / task / folder / label / f"{task}_{label}_{index}.png"
                    path.parent.mkdir(parents=True, exist_ok=True)
                    picture(rng, colour, *aspect_size(rng)).save(path)


def write_corpus(root: Path, n_images: int = 24, n_annotated: int = 20, seed: int = 1) -> pd.DataFrame:
    """A corpus folder, its annotation sheet (two annotators per image, protest/legend yes/no
    and the book's five emotion scores) and share counts; returns the per-image truth."""
    rng = np.random.default_rng(seed)
    images = root / "corpus"
    images.mkdir(parents=True, exist_ok=True)
    truth = []
    for index in range(n_images):
        image_id = f"2015-04-14/tweet_{index:03d}.png"
        protest, legend = index % 2 == 0, index % 5 == 1
        path = images / image_id
        path.parent.mkdir(parents=True, exist_ok=True)
        picture(rng, (220, 50, 40) if protest else (40, 90, 220), *aspect_size(rng, 64)).save(path)
        truth.append({"image_id": image_id, "protest": protest, "legend": legend, "annotated": index < n_annotated})
    truth = pd.DataFrame(truth)
    rows = []
    for row in truth[truth["annotated"]].itertuples():
        for annotator in ("ann1", "ann2"):
            scores = rng.choice([0, 0, 2, 5, 8], len(BOOK_EMOTIONS))
            rows.append({"image_id": row.image_id, "annotator": annotator, "protest": "yes" if row.protest else "no",
                         "legend": int(row.legend), **dict(zip(BOOK_EMOTIONS, scores))})  # fmt: skip
    pd.DataFrame(rows).to_csv(root / "annotations.csv", index=False)
    shares = rng.integers(1, 500, len(truth))
    pd.DataFrame({"image_id": truth["image_id"], "url": [f"https://pbs.example/{i}.png" for i in range(len(truth))],
                  "shares": shares}).to_csv(root / "metadata.csv", index=False)  # fmt: skip
    return truth


def write_recorded_responses(truth: pd.DataFrame, labels_csv: Path, celebrities_csv: Path) -> None:
    """DetectLabels and RecognizeCelebrities responses for every corpus image, in the
    authors' recorded CSV format (one row per label / recognised face, whole responses as
    Python reprs; images without a celebrity get one row with empty face fields)."""
    metadata = {"RequestId": "a0fcf17d-75c1-11e9-b13a-afa2eeb710bf", "HTTPStatusCode": 200,
                "HTTPHeaders": {"date": DATE_HEADER}, "RetryAttempts": 0}  # fmt: skip
    label_rows, face_rows = [], []
    for row in truth.itertuples():
        crowd = 91.5 if row.protest else 12.0
        labels = [
            {"Name": "Person", "Confidence": 99.1, "Instances": [], "Parents": []},
            {"Name": "Crowd", "Confidence": crowd, "Instances": [], "Parents": [{"Name": "Person"}]},
        ]
        response = {"Labels": labels, "LabelModelVersion": "2.0", "ResponseMetadata": metadata}
        for number, label in enumerate(labels, start=1):
            label_rows.append({"image_id": Path(row.image_id).as_posix(), "full_detect_labels_response": repr(response),
                               "label_num": number, "label_str": label["Name"], "label_conf": label["Confidence"]})  # fmt: skip
        empty = {"celeb_full_response": "", "celeb_num": "", "celeb_urls": "", "celeb_name": "", "celeb_id": "",
                 "celeb_face_data": "", "celeb_face_conf": "", "celeb_match_conf": ""}  # fmt: skip
        if row.legend:
            face = {"BoundingBox": {"Width": 0.2, "Height": 0.3, "Left": 0.4, "Top": 0.1}, "Confidence": 99.9}
            celebrity = {"Urls": ["www.imdb.com/name/nm1775466"], "Name": "John Legend", "Id": "3Ir0du6",
                         "Face": face, "MatchConfidence": 98.0}  # fmt: skip
            face_rows.append({**empty, "image_id": row.image_id, "celeb_full_response": repr(celebrity), "celeb_num": 1,
                              "celeb_urls": repr(celebrity["Urls"]), "celeb_name": "John Legend", "celeb_id": "3Ir0du6",
                              "celeb_face_data": repr(face), "celeb_face_conf": 99.9, "celeb_match_conf": 98.0,
                              "celeb_metadata": repr(metadata)})  # fmt: skip
        else:
            face_rows.append({**empty, "image_id": row.image_id, "celeb_metadata": repr(metadata)})
    pd.DataFrame(label_rows).to_csv(labels_csv, index=False)
    pd.DataFrame(face_rows).to_csv(celebrities_csv, index=False)
