"""Table 7.2 (book Section 7.6) and the world-leaders accuracy of Section 7.8: the best run per
task, its validation metrics and chosen hyperparameters; seed means, with the seeds' sd.

Book values: `table_7_2` and `world_leaders.accuracy` of config/book_reference.yaml.
"""

from __future__ import annotations

import pandas as pd

from ..engine import Measure, ResultFile, RunOptions, RunTables, RunValue, Section
from ..reading import find_column, missing_for, none_if_nan, require_columns

KEY = "table_7_2"
TABLE_7_2_CSV = ResultFile("table_7_2", "tables/table_7_2.csv")

VALIDATION_SPLITS = {"val", "validation", "valid"}
METRICS = ("accuracy", "f1", "precision", "recall")
HYPERPARAMETERS = ("lr", "momentum", "batch")


def measures(reference: dict, options: RunOptions) -> list[Measure]:
    section = reference.get("table_7_2") or {}
    decimals = section.get("decimals") or {}
    found = []
    for row in section.get("rows") or []:
        for column in (*METRICS, *HYPERPARAMETERS):
            if column in row:
                found.append(
                    Measure(
                        f"table_7_2.{row['task']}.{column}",
                        KEY,
                        f"{row['task']}: {column}",
                        float(row[column]),
                        int(decimals.get(column, 2)),
                        TABLE_7_2_CSV,
                    )
                )
    leaders = reference.get("world_leaders") or {}
    if "accuracy" in leaders:
        found.append(
            Measure(
                f"table_7_2.{leaders['task']}.accuracy",
                KEY,
                f"{leaders['task']}: accuracy (Section 7.8)",
                float(leaders["accuracy"]),
                int(leaders.get("decimals", 2)),
                TABLE_7_2_CSV,
            )
        )
    return found


def values(run: RunTables) -> dict[str, RunValue]:
    """Validation metrics and chosen hyperparameters per task; seed means and sds where given."""
    frame = run.frame(TABLE_7_2_CSV)
    if frame is None:
        return {}
    task_column = find_column(frame, "task")
    if task_column is None:
        return missing_for(
            [m.key for m in measures(run.reference, run.options)], require_columns(frame, ["task"], TABLE_7_2_CSV)
        )
    split_column = find_column(frame, "split")
    if split_column is not None:
        frame = frame[frame[split_column].astype(str).str.lower().isin(VALIDATION_SPLITS)]
    found: dict[str, RunValue] = {}
    for task, rows in frame.groupby(task_column):
        for metric in (*METRICS, *HYPERPARAMETERS):
            key = f"table_7_2.{task}.{metric}"
            column = find_column(rows, metric)
            if column is None:
                found[key] = RunValue(None, note=f"{TABLE_7_2_CSV.shown} has no column for {metric}")
                continue
            numbers = pd.to_numeric(rows[column], errors="coerce").dropna()
            if numbers.empty:
                found[key] = RunValue(None, note=f"{TABLE_7_2_CSV.shown}: no {metric} for {task}")
                continue
            sd, note = None, ""
            if metric in METRICS:
                sd_column = find_column(rows, f"{metric}_sd")
                if sd_column is not None:
                    sd = pd.to_numeric(rows[sd_column], errors="coerce").mean()
                elif len(numbers) > 1:  # one row per seed: their spread is the seed sd
                    sd = numbers.std(ddof=1)
            if len(numbers) > 1:
                note = f"mean of {len(numbers)} rows"
            found[key] = RunValue(float(numbers.mean()), sd=none_if_nan(sd), note=note)
    return found


SECTION = Section(
    KEY,
    "Table 7.2: best run per task (validation)",
    links=(TABLE_7_2_CSV,),
    reads=(TABLE_7_2_CSV,),
    measures=measures,
    values=values,
)
