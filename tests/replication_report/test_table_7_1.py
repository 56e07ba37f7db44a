"""Table 7.1 and Section 7.8: images per task, class and split; the world-leaders task."""

from __future__ import annotations

import pandas as pd

from images_as_data.replication.report.sections import table_7_1

from .book_shaped import run_tables, table_7_1_frame


def test_counts_per_class_and_split_and_for_the_world_leaders(reference: dict):
    found = table_7_1.values(run_tables({table_7_1.TABLE_7_1_CSV: table_7_1_frame(reference)}))
    assert found["table_7_1.disgust.negative.val"].value == 25
    assert found["table_7_1.disgust.n"].value == 241  # though its positives' splits (96 + 24) miss the printed 121
    assert found["table_7_1.world_leaders.n"].value == 300
    assert found["table_7_1.world_leaders.classes"].value == 6
    assert found["table_7_1.world_leaders.all.train"].value == 240
    assert found["table_7_1.world_leaders.all.val"].value == 60
    assert "table_7_1.protest.positive.total" not in found  # rows that sum the splits are not splits


def test_a_table_lacking_a_column_leaves_every_number_missing(reference: dict):
    frame = pd.DataFrame({"task": ["protest"], "Klasse": ["positive"]})
    found = table_7_1.values(run_tables({table_7_1.TABLE_7_1_CSV: frame}))
    assert set(found) == {m.key for m in table_7_1.measures(reference, None)}
    note = found["table_7_1.protest.positive.train"].note
    assert note.startswith("results/tables/table_7_1.csv has no column for class: one of")
