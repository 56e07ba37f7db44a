"""The report's engine: what a book number, a result file and a section are; verdicts; the
comparison table, its Markdown, and writing both. Which numbers, read from which files, is
each section module's business (`sections/`); nothing here names a book table.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

import pandas as pd

from images_as_data.common.atomic import write_csv, write_text
from images_as_data.replication.book_reference import load_book_reference

PathOrPaths = str | os.PathLike | list | tuple | None  # an input: one file, several, or none

RESULTS = "results"  # the folder the stages write under (RESULTS in rules/common.smk)

DEMO_DATA = "not comparable: demo data"
SIMULATED = "not comparable: simulated Rekognition responses"
MISSING = "missing"
MATCHES = "matches"
WITHIN_SPREAD = "within spread"
DIFFERS = "differs"
SPREAD_FACTOR = 2.0  # "within spread": |difference| <= 2 sd across seeds


@dataclass(frozen=True)
class ResultFile:
    """A file another stage writes that a section reads or links.

    ``name`` is its input name in rule replication_report, ``path`` where it lies under
    results/ (docs/architecture.md). A path with ``<...>`` placeholders stands for several
    files, one per value of each placeholder (the study's per-run curves).
    """

    name: str
    path: str

    @property
    def shown(self) -> str:
        """The path as the report prints it."""
        return f"{RESULTS}/{self.path}"

    @property
    def many(self) -> bool:
        return "<" in self.path

    def matches(self, path: str | os.PathLike) -> bool:
        """Whether ``path`` (relative to the working directory) is this file, or one of them."""
        parts = re.split(r"<[^>]*>", self.shown)
        return re.fullmatch("[^/]+".join(map(re.escape, parts)), Path(path).as_posix()) is not None


@dataclass(frozen=True)
class Measure:
    """One number printed in the book, and the file its counterpart in this run comes from."""

    key: str
    section: str
    quantity: str
    book: float
    decimals: int
    source: ResultFile
    corpus_dependent: bool = True


@dataclass(frozen=True)
class RunValue:
    """This run's counterpart of a book number (None when it could not be found)."""

    value: float | None
    sd: float | None = None
    note: str = ""
    not_comparable: str | None = None


@dataclass(frozen=True)
class RunOptions:
    """What the sections need of this run's config."""

    emotions: tuple[str, ...] = ()
    study_task: str | None = None  # this run's name for the hyperparameter study's task


@dataclass(frozen=True)
class RunTables:
    """This run's tables (by ResultFile name), the book's reference and the run's options."""

    frames: Mapping[str, pd.DataFrame | None]
    reference: dict
    options: RunOptions

    def frame(self, file: ResultFile) -> pd.DataFrame | None:
        """The file's table (several files stacked), or None when this run did not produce it."""
        return self.frames.get(file.name)


@dataclass(frozen=True)
class Section:
    """One section of the report.

    ``key`` is the CSV's section column, ``title`` the Markdown heading, ``links`` the tables
    and figures linked under it, ``reads`` the files its run values come from;
    ``measures(reference, options)`` lists the book's numbers (from the reference YAML) and
    ``values(run)`` finds this run's, keyed like ``Measure.key``.
    """

    key: str
    title: str
    links: tuple[ResultFile, ...]
    reads: tuple[ResultFile, ...]
    measures: Callable[[dict, RunOptions], list[Measure]]
    values: Callable[[RunTables], dict[str, RunValue]]


def result_files(sections: Iterable[Section]) -> dict[str, ResultFile]:
    """Every file the sections read or link, by name; one name must mean one path."""
    files: dict[str, ResultFile] = {}
    for section in sections:
        for file in (*section.reads, *section.links):
            known = files.setdefault(file.name, file)
            if known != file:
                raise ValueError(f"report section {section.key}: {file.name} is {file.path}, elsewhere {known.path}")
    return files


# --- Comparison -----------------------------------------------------------------------------


def matches_at_precision(run: float, book: float, decimals: int) -> bool:
    """True when the run's value rounds to the book's number at the book's printed precision."""
    return abs(run - book) <= 0.5 * 10**-decimals + 1e-12


def verdict(measure: Measure, run: RunValue | None, demo: bool) -> str:
    """missing, not comparable (demo data / simulated responses), matches, within spread or differs."""
    if run is None or run.value is None:
        return MISSING
    if run.not_comparable:  # e.g. simulated responses: say so, also on demo data
        return run.not_comparable
    if demo and measure.corpus_dependent:
        return DEMO_DATA
    if matches_at_precision(run.value, measure.book, measure.decimals):
        return MATCHES
    if run.sd and abs(run.value - measure.book) <= SPREAD_FACTOR * run.sd + 1e-12:
        return WITHIN_SPREAD
    return DIFFERS


def comparison_table(
    measures: list[Measure], values: Mapping[str, RunValue], available: Mapping[str, bool], demo: bool
) -> pd.DataFrame:
    """One row per book number: book value, run value, difference, seed sd, verdict, source, note."""
    rows = []
    for measure in measures:
        run = values.get(measure.key)
        note = run.note if run else ""
        if run is None:
            note = (
                f"{measure.source.shown} has no matching row"
                if available.get(measure.source.name)
                else f"{measure.source.shown} is not produced by this run"
            )
        result = verdict(measure, run, demo)
        comparable = result in (MATCHES, WITHIN_SPREAD, DIFFERS)
        rows.append(
            {
                "section": measure.section,
                "key": measure.key,
                "quantity": measure.quantity,
                "book_value": measure.book,
                "decimals": measure.decimals,
                "run_value": round(run.value, 6) if run and run.value is not None else None,
                "difference": round(run.value - measure.book, 6) if comparable else None,
                "seed_sd": round(run.sd, 6) if run and run.sd is not None else None,
                "verdict": result,
                "source": measure.source.shown,
                "note": note,
            }
        )
    return pd.DataFrame(rows)


# --- Markdown -------------------------------------------------------------------------------


def format_number(value: float | None, decimals: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if float(value).is_integer() and decimals == 0:
        return f"{int(value)}"
    return f"{value:.{decimals}f}"


def format_run_value(value: float | None, decimals: int) -> str:
    """Counts as integers; other numbers with two digits more than the book prints."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return format_number(value, 0 if decimals == 0 and float(value).is_integer() else decimals + 2)


def links_line(section: Section, paths: Mapping[str, PathOrPaths], report_dir: Path) -> str:
    """Relative links to the section's tables and figures; absent ones are named as such."""
    parts = []
    for file in section.links:
        path = paths.get(file.name)
        if path:
            parts.append(f"[{Path(path).name}]({Path(os.path.relpath(path, report_dir)).as_posix()})")
        else:
            parts.append(f"{Path(file.shown).name} (not produced by this run)")
    return "Files: " + ", ".join(parts)


def header_markdown(demo: bool, table: pd.DataFrame) -> str:
    data = (
        "**Data: the generated demo corpus** (config `demo.generate: true`). Rows that depend on the corpus "
        f'keep the book\'s value but are marked "{DEMO_DATA}": the demo corpus is synthetic and smaller than '
        "the book's. Rows that do not depend on it (Section 3, Table 4.1) are compared for real."
        if demo
        else "**Data: the researcher's or the authors' own data** (config `demo.generate: false`); every row is compared."
    )
    counts = table["verdict"].value_counts()
    summary = ", ".join(f"{verdict}: {n}" for verdict, n in counts.items())
    return "\n".join(
        [
            "# Replication report",
            "",
            "Every number printed in Webb Williams, Casas & Wilkerson (2020), *Images as Data for Social "
            "Science Research* (values in `config/book_reference.yaml`), beside this run's value.",
            "",
            data,
            "",
            "Verdicts:",
            "",
            "- **matches**: the run's value equals the book's at the book's printed precision "
            "(it rounds to the printed number; |difference| <= half a unit of the last printed digit).",
            f"- **within spread**: it does not match, but |difference| <= {SPREAD_FACTOR:g} standard deviations "
            "of the run's value across training seeds (only where that sd is known).",
            "- **differs**: neither.",
            f"- **{DEMO_DATA}** / **{SIMULATED}**: the run's value is shown but not judged.",
            "- **missing**: this run produced no such number (the note says which file or column).",
            "",
            "Difference = this run - book. Percentages of Tables 6.1 and 6.2 are recomputed from the run's "
            "confusion counts; accuracies of the fine-tuned models are fractions.",
            "",
            f"Summary: {summary}.",
        ]
    )


def section_markdown(section: Section, rows: pd.DataFrame, paths: Mapping[str, PathOrPaths], report_dir: Path) -> str:
    shown = pd.DataFrame(
        {
            "quantity": rows["quantity"],
            "book": [format_number(v, d) for v, d in zip(rows["book_value"], rows["decimals"])],
            "this run": [format_run_value(v, d) for v, d in zip(rows["run_value"], rows["decimals"])],
            "difference": [format_run_value(v, d) for v, d in zip(rows["difference"], rows["decimals"])],
            "seed sd": [format_run_value(v, d) for v, d in zip(rows["seed_sd"], rows["decimals"])],
            "verdict": rows["verdict"],
            "note": rows["note"],
        }
    )
    return f"## {section.title}\n\n{links_line(section, paths, report_dir)}\n\n{shown.to_markdown(index=False, disable_numparse=True)}\n"


def report_markdown(
    sections: Sequence[Section], table: pd.DataFrame, paths: Mapping[str, PathOrPaths], report_dir: Path, demo: bool
) -> str:
    parts = [header_markdown(demo, table)]
    for section in sections:
        rows = table[table["section"] == section.key]
        if len(rows):
            parts.append(section_markdown(section, rows, paths, report_dir))
    return "\n\n".join(parts) + "\n"


# --- The whole report -----------------------------------------------------------------------


def read_csvs(path: PathOrPaths) -> pd.DataFrame | None:
    """A CSV (or several, stacked) as a DataFrame, or None when the run produced none of them."""
    paths = [Path(p) for p in (path if isinstance(path, (list, tuple)) else [path]) if p]
    frames = []
    for existing in (p for p in paths if p.is_file()):
        try:
            frames.append(pd.read_csv(existing))
        except pd.errors.EmptyDataError:
            continue
    if not frames:
        return None if not any(p.is_file() for p in paths) else pd.DataFrame()
    return pd.concat(frames, ignore_index=True)


def book_measures(sections: Sequence[Section], reference: dict, options: RunOptions) -> list[Measure]:
    """Every number of the reference file that the sections compare, in report order."""
    measures = []
    for section in sections:
        for measure in section.measures(reference, options):
            if measure.section != section.key or measure.source not in section.reads:
                raise ValueError(
                    f"report section {section.key}: {measure.key} must have section {section.key!r} and a "
                    f"source among the files the section reads, not {measure.section!r} and {measure.source.name!r}"
                )
            measures.append(measure)
    return measures


def run_values(sections: Sequence[Section], run: RunTables) -> dict[str, RunValue]:
    """This run's value for every book number the sections find; one key, one section."""
    values: dict[str, RunValue] = {}
    for section in sections:
        found = section.values(run)
        twice = sorted(values.keys() & found.keys())
        if twice:
            raise ValueError(f"report section {section.key} finds values another section also finds: {twice}")
        values.update(found)
    return values


def build_report_table(
    sections: Sequence[Section], reference: dict, paths: Mapping[str, PathOrPaths], demo: bool, options: RunOptions
) -> pd.DataFrame:
    """The comparison table from the reference and whichever of the sections' files ``paths`` names."""
    read = {file.name for section in sections for file in section.reads}
    frames = {name: read_csvs(paths.get(name)) for name in read}
    available = {name: frame is not None for name, frame in frames.items()}
    measures = book_measures(sections, reference, options)
    values = run_values(sections, RunTables(frames, reference, options))
    return comparison_table(measures, values, available, demo)


def write_report(
    sections: Sequence[Section],
    reference_path: str | os.PathLike,
    paths: Mapping[str, PathOrPaths],
    demo: bool,
    options: RunOptions,
    markdown_path: str | os.PathLike,
    csv_path: str | os.PathLike,
) -> pd.DataFrame:
    """Write the comparison table as CSV and Markdown; ``paths`` maps the sections' file names
    to the files this run produced (absent or None: not produced)."""
    reference = load_book_reference(reference_path)
    table = build_report_table(sections, reference, paths, demo, options)
    write_csv(table, csv_path)
    write_text(report_markdown(sections, table, paths, Path(markdown_path).parent, demo), markdown_path)
    return table
