"""Table 4.1: ImageNet errors of torchvision's backbones, from the weights' own metadata.

torchvision ships each weight set's ImageNet-1K top-1 / top-5 accuracy in
``Weights.meta["_metrics"]``, so the table is rebuilt without downloading any weights.
The book printed errors (100 - accuracy) of the original (V1) weights.
"""

from __future__ import annotations

import os

import pandas as pd
from torchvision.models import get_model_weights

from images_as_data.common.atomic import write_csv, write_text
from images_as_data.replication.book_reference import load_book_reference

WEIGHTS_VERSION = "IMAGENET1K_V1"


def torchvision_errors(model_name: str) -> dict[str, float | str]:
    """Top-1 and top-5 ImageNet error (%) that torchvision records for a model's V1 weights."""
    try:
        weights = get_model_weights(model_name)
    except ValueError as error:
        raise ValueError(
            f"config/book_reference.yaml table_4_1: '{model_name}' is not a torchvision model name ({error})"
        ) from error
    version = getattr(weights, WEIGHTS_VERSION)
    metrics = version.meta["_metrics"]["ImageNet-1K"]
    return {
        "torchvision_weights": f"{weights.__name__}.{WEIGHTS_VERSION}",
        "torchvision_top1_error": 100 - metrics["acc@1"],
        "torchvision_top5_error": 100 - metrics["acc@5"],
    }


def table_4_1(reference: dict) -> pd.DataFrame:
    """The book's Table 4.1 beside torchvision's numbers, with differences (torchvision - book)."""
    section = reference.get("table_4_1") or {}
    rows = section.get("rows")
    if not rows:
        raise ValueError("config/book_reference.yaml: table_4_1.rows (the book's networks) is missing or empty")
    records = []
    for row in rows:
        book_top1, book_top5 = float(row["top1_error"]), float(row["top5_error"])
        ours = torchvision_errors(row["torchvision"])
        records.append(
            {
                "network": row["network"],
                "torchvision_model": row["torchvision"],
                "torchvision_weights": ours["torchvision_weights"],
                "book_top1_error": book_top1,
                "torchvision_top1_error": ours["torchvision_top1_error"],
                "top1_difference": ours["torchvision_top1_error"] - book_top1,
                "book_top5_error": book_top5,
                "torchvision_top5_error": ours["torchvision_top5_error"],
                "top5_difference": ours["torchvision_top5_error"] - book_top5,
            }
        )
    frame = pd.DataFrame(records)
    numeric = frame.select_dtypes("number").columns
    frame[numeric] = frame[numeric].round(3)  # torchvision records accuracies to 3 decimals
    return frame


def table_markdown(frame: pd.DataFrame) -> str:
    """Markdown version of Table 4.1 with a line on where the numbers come from."""
    return (
        "# Table 4.1: ImageNet top-1 / top-5 error (%) of torchvision backbones\n\n"
        f"Book values beside torchvision's recorded accuracy of the {WEIGHTS_VERSION} weights "
        "(error = 100 - accuracy); differences are torchvision minus book.\n\n" + frame.to_markdown(index=False) + "\n"
    )


def write_table_4_1(
    reference_path: str | os.PathLike, csv_path: str | os.PathLike, md_path: str | os.PathLike
) -> pd.DataFrame:
    """Build Table 4.1 from the reference file and write its CSV and Markdown versions."""
    frame = table_4_1(load_book_reference(reference_path))
    write_csv(frame, csv_path)
    write_text(table_markdown(frame), md_path)
    return frame
