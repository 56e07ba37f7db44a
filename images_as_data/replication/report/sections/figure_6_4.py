"""Figure 6.4 (book Section 6): the ten most frequent labels of each commercial tagger. The book
names a few of them (Google returns "Protest" and "Demonstration", Microsoft a "group" tag no one
else uses, all three return "Crowd"); the report checks whether each named label is among this
run's ten most frequent labels of that service (1 = in the top ten, 0 = not).

Book values: `figure_6_4.top_ten` of config/book_reference.yaml (service -> labels). Services
answered by simulated responses or random weights are shown but not judged.
"""

from __future__ import annotations

from ..engine import Measure, ResultFile, RunOptions, RunTables, RunValue, Section
from ..reading import missing_for, require_columns, truthy

KEY = "figure_6_4"
FIGURE_6_4_CSV = ResultFile("figure_6_4_table", "tables/figure_6_4.csv")
FIGURE_6_4 = ResultFile("figure_6_4", "figures/figure_6_4.png")
SIMULATED_TAGGER = "not comparable: simulated tagger responses"


def measure_key(service: str, label: str) -> str:
    return f"{KEY}.{service}.{label.lower()}"


def book_top_ten(reference: dict) -> dict[str, list[str]]:
    return (reference.get(KEY) or {}).get("top_ten") or {}


def measures(reference: dict, options: RunOptions) -> list[Measure]:
    return [
        Measure(measure_key(service, label), KEY, f"{service}: '{label}' among the ten most frequent labels", 1.0, 0, FIGURE_6_4_CSV)
        for service, labels in book_top_ten(reference).items()
        for label in labels
    ]


def values(run: RunTables) -> dict[str, RunValue]:
    frame = run.frame(FIGURE_6_4_CSV)
    if frame is None:
        return {}
    expected = book_top_ten(run.reference)
    keys = [measure_key(service, label) for service, labels in expected.items() for label in labels]
    columns = require_columns(frame, ["service", "tagger_label", "simulated"], FIGURE_6_4_CSV)
    if isinstance(columns, str):
        return missing_for(keys, columns)
    found: dict[str, RunValue] = {}
    for service, labels in expected.items():
        rows = frame[frame[columns["service"]].astype(str).str.lower() == service.lower()]
        if rows.empty:
            continue  # the service did not run: its rows stay "missing"
        simulated = SIMULATED_TAGGER if truthy(rows[columns["simulated"]]).any() else None
        top_ten = set(rows[columns["tagger_label"]].astype(str).str.lower())
        for label in labels:
            found[measure_key(service, label)] = RunValue(float(label.lower() in top_ten), not_comparable=simulated)
    return found


SECTION = Section(
    KEY,
    "Figure 6.4: the ten most frequent labels of each tagger",
    links=(FIGURE_6_4_CSV, FIGURE_6_4),
    reads=(FIGURE_6_4_CSV,),
    measures=measures,
    values=values,
)
