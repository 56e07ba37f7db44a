"""Tables 6.1 and 6.2 (book Section 6): Rekognition's "Crowd" label as a proxy for protest and
its recognition of John Legend, as confusion counts and percentages against the manual labels.

Book values: `table_6_1` and `table_6_2` of config/book_reference.yaml. The percentages are
recomputed from this run's counts, so how a table prints them (fraction or percent) does not
matter; tables of simulated responses are shown but not judged.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..engine import SIMULATED, Measure, ResultFile, RunOptions, RunValue, Section
from ..reading import find_column, missing_for, require_columns, truthy

TABLE_6_1_CSV = ResultFile("table_6_1", "tables/table_6_1.csv")
TABLE_6_2_CSV = ResultFile("table_6_2", "tables/table_6_2.csv")
FIGURE_6_3 = ResultFile("figure_6_3", "figures/figure_6_3.png")

CELLS = ("tp", "fp", "fn", "tn")
PERCENTAGES = ("accuracy", "precision", "recall")


@dataclass(frozen=True)
class Confusion:
    """A confusion table's counts, and the verdict its rows get when its responses were simulated."""

    tp: float
    fp: float
    fn: float
    tn: float
    not_comparable: str | None = None

    @property
    def cells(self) -> dict[str, float]:
        return {cell: getattr(self, cell) for cell in CELLS}

    @property
    def total(self) -> float:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def truth(self) -> float:
        """Images the annotators labelled positive."""
        return self.tp + self.fn

    @property
    def predicted(self) -> float:
        """Images the tagger labelled positive."""
        return self.tp + self.fp


def confusion_cells(frame: pd.DataFrame, source: ResultFile) -> dict[str, float] | str:
    """tp, fp, fn, tn from a wide table (one column per cell) or a long one (truth, predicted, n)."""
    wide = require_columns(frame, list(CELLS), source)
    if not isinstance(wide, str):
        return {cell: float(pd.to_numeric(frame[column]).sum()) for cell, column in wide.items()}
    long = require_columns(frame, ["truth", "predicted", "n"], source)
    if isinstance(long, str):
        return f"{source.shown} has neither tp/fp/fn/tn columns nor truth, predicted and n columns"
    truth, predicted = truthy(frame[long["truth"]]), truthy(frame[long["predicted"]])
    counts = pd.to_numeric(frame[long["n"]])
    return {
        "tp": float(counts[truth & predicted].sum()),
        "fp": float(counts[~truth & predicted].sum()),
        "fn": float(counts[truth & ~predicted].sum()),
        "tn": float(counts[~truth & ~predicted].sum()),
    }


def read_confusion(frame: pd.DataFrame, source: ResultFile) -> Confusion | str:
    """The table's confusion counts, or a note naming the columns it lacks."""
    cells = confusion_cells(frame, source)
    if isinstance(cells, str):
        return cells
    flag_column = find_column(frame, "simulated")
    simulated = SIMULATED if flag_column and truthy(frame[flag_column]).any() else None
    return Confusion(**cells, not_comparable=simulated)


def ratio(numerator: float, denominator: float) -> float | None:
    return 100 * numerator / denominator if denominator else None


def confusion_measures(reference: dict, table: str, source: ResultFile) -> list[Measure]:
    section = reference.get(table) or {}
    label, truth = section.get("label", "tag"), section.get("truth", "manual label")
    meaning = {
        "tp": f"{label} & {truth}",
        "fp": f"{label} & no {truth}",
        "fn": f"no {label} & {truth}",
        "tn": f"no {label} & no {truth}",
    }
    measures = [
        Measure(f"{table}.{cell}", table, f"images: {meaning[cell]}", float(count), 0, source)
        for cell, count in (section.get("counts") or {}).items()
    ]
    decimals = int(section.get("percent_decimals", 1))
    for metric, percent in (section.get("percent") or {}).items():
        measures.append(Measure(f"{table}.{metric}", table, f"{metric} (%)", float(percent), decimals, source))
    return measures


def confusion_values(frame: pd.DataFrame | None, table: str, source: ResultFile) -> dict[str, RunValue]:
    """Cells and percentages of a confusion table."""
    if frame is None:
        return {}
    confusion = read_confusion(frame, source)
    if isinstance(confusion, str):
        return missing_for([f"{table}.{key}" for key in (*CELLS, *PERCENTAGES)], confusion)
    tp, fp, fn, tn = confusion.tp, confusion.fp, confusion.fn, confusion.tn
    derived = {
        "accuracy": ratio(tp + tn, confusion.total),
        "precision": ratio(tp, tp + fp),
        "recall": ratio(tp, tp + fn),
    }
    simulated = confusion.not_comparable
    values = {f"{table}.{cell}": RunValue(count, not_comparable=simulated) for cell, count in confusion.cells.items()}
    for metric, value in derived.items():
        note = "" if value is not None else "undefined: zero denominator"
        values[f"{table}.{metric}"] = RunValue(value, note=note, not_comparable=simulated)
    return values


def confusion_section(table: str, title: str, source: ResultFile, figures: tuple[ResultFile, ...] = ()) -> Section:
    def measures(reference: dict, options: RunOptions) -> list[Measure]:
        return confusion_measures(reference, table, source)

    return Section(
        table,
        title,
        links=(source, *figures),
        reads=(source,),
        measures=measures,
        values=lambda run: confusion_values(run.frame(source), table, source),
    )


TABLE_6_1 = confusion_section(
    "table_6_1", "Table 6.1: Rekognition's 'Crowd' as a proxy for protest", TABLE_6_1_CSV, (FIGURE_6_3,)
)
TABLE_6_2 = confusion_section("table_6_2", "Table 6.2: Rekognition's recognition of John Legend", TABLE_6_2_CSV)
