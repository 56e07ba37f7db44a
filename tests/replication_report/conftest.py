from __future__ import annotations

from pathlib import Path

import pytest

from .book_shaped import book_reference, write_book_shaped_results


@pytest.fixture(scope="module")
def reference() -> dict:
    return book_reference()


@pytest.fixture
def book_results(tmp_path: Path, reference: dict) -> dict:
    """The stages' tables holding the book's numbers, written under tmp_path/results."""
    return write_book_shaped_results(tmp_path, reference)
