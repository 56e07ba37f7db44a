"""The replication report (rule replication_report): every number the book prints beside this
run's value, with a verdict, as results/report/replication_report.{md,csv}.

- `sections/`: one module per book section, listed in `sections.SECTIONS`; each says which
  numbers of config/book_reference.yaml it compares and how it reads this run's from the
  tables other stages write. A table this run does not produce, or a row or column it lacks,
  makes a row "missing" instead of stopping the report.
- `engine`: what a book number, a result file and a section are; verdicts; the CSV and Markdown.
- `reading`: accepted column names of the other stages' tables (`COLUMN_ALIASES`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Sequence

import pandas as pd

from .engine import (
    DEMO_DATA,
    DIFFERS,
    MATCHES,
    MISSING,
    SIMULATED,
    WITHIN_SPREAD,
    Measure,
    PathOrPaths,
    ResultFile,
    RunOptions,
    RunValue,
    Section,
    result_files,
    verdict,
    write_report,
)
from .engine import book_measures as section_measures
from .sections import SECTIONS

__all__ = [
    "DEMO_DATA",
    "DIFFERS",
    "MATCHES",
    "MISSING",
    "REPORT_FILES",
    "SECTIONS",
    "SIMULATED",
    "WITHIN_SPREAD",
    "Measure",
    "ResultFile",
    "RunOptions",
    "RunValue",
    "Section",
    "book_measures",
    "report_modules",
    "verdict",
    "write_replication_report",
]

# Every file a section reads or links, by its input name in rule replication_report.
REPORT_FILES: dict[str, ResultFile] = result_files(SECTIONS)


def report_modules() -> list[str]:
    """This package's modules, relative to images_as_data/: rule replication_report lists them
    as its code input, so that editing a section (or the engine) reruns the report."""
    package_root = Path(__file__).resolve().parents[2]
    return sorted(path.relative_to(package_root).as_posix() for path in Path(__file__).resolve().parent.rglob("*.py"))


def book_measures(reference: dict, options: RunOptions = RunOptions(), sections: Sequence[Section] = SECTIONS) -> list[Measure]:
    """Every number of the reference file that the report compares, in report order."""
    return section_measures(sections, reference, options)


def write_replication_report(
    reference_path: str | os.PathLike,
    paths: Mapping[str, PathOrPaths],
    demo: bool,
    emotions: Sequence[str],
    markdown_path: str | os.PathLike,
    csv_path: str | os.PathLike,
    study_task: str | None = None,
) -> pd.DataFrame:
    """Write results/report/replication_report.{md,csv}; ``paths`` maps names of REPORT_FILES to
    the files this run produced (absent or None: not produced). ``study_task`` is this run's
    name for the hyperparameter study's task (the book's: legend)."""
    options = RunOptions(tuple(emotions), study_task)
    return write_report(SECTIONS, reference_path, paths, demo, options, markdown_path, csv_path)
