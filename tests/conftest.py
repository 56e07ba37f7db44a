"""Shared test helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture
def repo() -> Path:
    return REPO


@pytest.fixture
def shared_fixtures() -> Path:
    """The recorded real data in ../shared/fixtures; skip where a clone has none."""
    path = SHARED / "fixtures"
    if not path.is_dir():
        pytest.skip(f"{path} is absent (only the project's own machines have ../shared)")
    return path
