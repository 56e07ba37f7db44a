"""Section 3 of the book (Table 3.1, Figures 3.1 and 3.3): the linear model's coefficient of
white % on the seven counties. It does not depend on the image corpus, so a demo run compares it.

Book value: `figure_3_1` of config/book_reference.yaml.
"""

from __future__ import annotations

from ..engine import Measure, ResultFile, RunOptions, RunTables, RunValue, Section
from ..reading import missing_for, require_columns, truthy

KEY = "section_3"
TABLE_3_1_CSV = ResultFile("table_3_1", "tables/table_3_1.csv")
LINEAR_MODEL = ResultFile("linear_model", "tables/figure_3_1_linear_model.csv")
FIGURE_3_1 = ResultFile("figure_3_1", "figures/figure_3_1.png")
FIGURE_3_3 = ResultFile("figure_3_3", "figures/figure_3_3.png")

COEFFICIENT = "figure_3_1.white_pct_coefficient"


def measures(reference: dict, options: RunOptions) -> list[Measure]:
    figure = reference.get("figure_3_1") or {}
    if "white_pct_coefficient" not in figure:
        return []
    return [
        Measure(
            COEFFICIENT,
            KEY,
            "linear model: coefficient of white %",
            float(figure["white_pct_coefficient"]),
            int(figure.get("decimals", 4)),
            LINEAR_MODEL,
            corpus_dependent=False,
        )
    ]


def values(run: RunTables) -> dict[str, RunValue]:
    frame = run.frame(LINEAR_MODEL)
    if frame is None:
        return {}
    columns = require_columns(frame, ["term", "estimate", "book_specification"], LINEAR_MODEL)
    if isinstance(columns, str):
        return missing_for([COEFFICIENT], columns)
    rows = frame[truthy(frame[columns["book_specification"]]) & (frame[columns["term"]] == "white_pct")]
    if rows.empty:
        return missing_for([COEFFICIENT], f"{LINEAR_MODEL.shown} has no white_pct row of the book's specification")
    return {COEFFICIENT: RunValue(float(rows[columns["estimate"]].iloc[0]), note="see the table's note on the gap")}


SECTION = Section(
    KEY,
    "Section 3: toy networks",
    links=(TABLE_3_1_CSV, LINEAR_MODEL, FIGURE_3_1, FIGURE_3_3),
    reads=(LINEAR_MODEL,),
    measures=measures,
    values=values,
)
