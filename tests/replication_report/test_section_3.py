"""Section 3: the linear model's coefficient of white %, compared also on demo data."""

from __future__ import annotations

import pandas as pd

from images_as_data.replication.report.sections import section_3

from .book_shaped import run_tables


def linear_model(book_specification: bool) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"model": "book", "book_specification": book_specification, "term": "white_pct", "estimate": -0.0066},
            {"model": "book", "book_specification": book_specification, "term": "college_pct", "estimate": 0.01},
        ]
    )


def test_the_coefficient_is_read_from_the_books_specification(reference: dict):
    found = section_3.values(run_tables({section_3.LINEAR_MODEL: linear_model(True)}))
    assert found[section_3.COEFFICIENT].value == -0.0066
    assert all(not m.corpus_dependent for m in section_3.measures(reference, None))


def test_without_the_books_specification_the_coefficient_is_missing():
    found = section_3.values(run_tables({section_3.LINEAR_MODEL: linear_model(False)}))
    assert found[section_3.COEFFICIENT].value is None
    assert "no white_pct row of the book's specification" in found[section_3.COEFFICIENT].note
