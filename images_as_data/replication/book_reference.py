"""The book's printed numbers as data (config/book_reference.yaml), read by the replication
report, the Section 3 toy networks and Table 4.1."""

from __future__ import annotations

import os

import yaml


def load_book_reference(path: str | os.PathLike) -> dict:
    """The book's numbers (config/book_reference.yaml) as a dict."""
    with open(path, encoding="utf-8") as handle:
        reference = yaml.safe_load(handle)
    if not isinstance(reference, dict):
        raise ValueError(f"{path}: expected a YAML mapping of the book's tables, got {type(reference).__name__}")
    return reference
