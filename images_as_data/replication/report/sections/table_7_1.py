"""Table 7.1 and Section 7.8 (book): images per task, class and split, per task (N), and the
world-leaders task's classes and images per split.

Book values: `table_7_1` (one row per task and class), `table_7_1_n` and `world_leaders` of
config/book_reference.yaml.
"""

from __future__ import annotations

import pandas as pd

from ..engine import Measure, ResultFile, RunOptions, RunTables, RunValue, Section
from ..reading import missing_for, require_columns

KEY = "table_7_1"
TABLE_7_1_CSV = ResultFile("table_7_1", "tables/table_7_1.csv")
FIGURE_7_2 = ResultFile("figure_7_2", "figures/figure_7_2.png")

SUMMARY_SPLITS = {"total", "all"}  # rows that sum a class's real splits
POSITIVE = "positive"


def read_split_counts(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame] | str:
    """The rows per task, class and split (columns task, class, split, numeric n) and, apart,
    the rows that sum a class's splits; or a note naming the columns the table lacks."""
    columns = require_columns(frame, ["task", "class", "split", "n"], TABLE_7_1_CSV)
    if isinstance(columns, str):
        return columns
    table = frame.rename(columns={v: k for k, v in columns.items()})
    table["n"] = pd.to_numeric(table["n"])
    is_summary = table["split"].astype(str).str.lower().isin(SUMMARY_SPLITS)
    return table[~is_summary], table[is_summary]


def measures(reference: dict, options: RunOptions) -> list[Measure]:
    found = []
    for row in reference.get("table_7_1") or []:
        for split in ("train", "val"):
            found.append(
                Measure(
                    f"table_7_1.{row['task']}.{row['class']}.{split}",
                    KEY,
                    f"{row['task']}: {row['class']} images in {split}",
                    float(row[split]),
                    0,
                    TABLE_7_1_CSV,
                )
            )
    for task, n in (reference.get("table_7_1_n") or {}).items():
        found.append(Measure(f"table_7_1.{task}.n", KEY, f"{task}: images (N, both classes, all splits)", float(n), 0, TABLE_7_1_CSV))
    leaders = reference.get("world_leaders") or {}
    if leaders:
        task, classes = leaders["task"], int(leaders["classes"])
        found.append(Measure(f"table_7_1.{task}.classes", KEY, f"{task}: classes", float(classes), 0, TABLE_7_1_CSV))
        for split in ("train", "val"):
            found.append(
                Measure(
                    f"table_7_1.{task}.all.{split}",
                    KEY,
                    f"{task}: images in {split} (all classes)",
                    float(classes * leaders[f"{split}_per_class"]),
                    0,
                    TABLE_7_1_CSV,
                )
            )
    return found


def values(run: RunTables) -> dict[str, RunValue]:
    frame = run.frame(TABLE_7_1_CSV)
    if frame is None:
        return {}
    counts = read_split_counts(frame)
    if isinstance(counts, str):
        return missing_for([m.key for m in measures(run.reference, run.options)], counts)
    table, _ = counts
    per_split = table.groupby(["task", "class", "split"])["n"].sum()
    found = {f"table_7_1.{t}.{c}.{s}": RunValue(float(n)) for (t, c, s), n in per_split.items()}
    for task, rows in table.groupby("task"):
        found[f"table_7_1.{task}.classes"] = RunValue(float(rows["class"].nunique()))
        found[f"table_7_1.{task}.n"] = RunValue(float(rows["n"].sum()))
        for split, n in rows.groupby("split")["n"].sum().items():
            found[f"table_7_1.{task}.all.{split}"] = RunValue(float(n))
    return found


SECTION = Section(
    KEY,
    "Table 7.1 and Section 7.8: images per task, class and split",
    links=(TABLE_7_1_CSV, FIGURE_7_2),
    reads=(TABLE_7_1_CSV,),
    measures=measures,
    values=values,
)
