"""Table 4.1 of the book: ImageNet top-1 / top-5 errors of the backbones in torchvision, beside
the errors torchvision records for their V1 weights. It does not depend on the image corpus,
so a demo run compares it.

Book values: `table_4_1` of config/book_reference.yaml.
"""

from __future__ import annotations

from ..engine import Measure, ResultFile, RunOptions, RunTables, RunValue, Section
from ..reading import require_columns

KEY = "table_4_1"
TABLE_4_1_CSV = ResultFile("table_4_1", "tables/table_4_1.csv")
ERRORS = ("top1_error", "top5_error")


def measures(reference: dict, options: RunOptions) -> list[Measure]:
    section = reference.get("table_4_1") or {}
    decimals = int(section.get("decimals", 2))
    return [
        Measure(
            f"table_4_1.{row['torchvision']}.{error}",
            KEY,
            f"{row['network']}: {error.replace('_', ' ').replace('top', 'top-')} (%)",
            float(row[error]),
            decimals,
            TABLE_4_1_CSV,
            corpus_dependent=False,
        )
        for row in section.get("rows") or []
        for error in ERRORS
    ]


def values(run: RunTables) -> dict[str, RunValue]:
    frame = run.frame(TABLE_4_1_CSV)
    if frame is None:
        return {}
    columns = require_columns(frame, ["torchvision_model", *ERRORS], TABLE_4_1_CSV)
    if isinstance(columns, str):
        return {}
    found = {}
    for _, row in frame.iterrows():
        for error in ERRORS:
            found[f"table_4_1.{row[columns['torchvision_model']]}.{error}"] = RunValue(
                float(row[columns[error]]), note="torchvision's recorded accuracy of the V1 weights"
            )
    return found


SECTION = Section(
    KEY,
    "Table 4.1: ImageNet errors of torchvision backbones",
    links=(TABLE_4_1_CSV,),
    reads=(TABLE_4_1_CSV,),
    measures=measures,
    values=values,
)
