"""Corpus section: unique images, the Rekognition sample's totals, emotion positives, evoked shares."""

from __future__ import annotations

import pandas as pd
import pytest

from images_as_data.replication.report import SIMULATED
from images_as_data.replication.report.sections import corpus
from images_as_data.replication.report.sections.table_6 import TABLE_6_1_CSV, TABLE_6_2_CSV
from images_as_data.replication.report.sections.table_7_1 import TABLE_7_1_CSV

from .book_shaped import aggregated_frame, confusion_frame, corpus_frames, run_tables, table_7_1_frame


def test_unique_images_are_clusters_of_kept_images():
    inventory, clusters = corpus_frames(500)
    found = corpus.values(run_tables({corpus.INVENTORY: inventory, corpus.CLUSTERS: clusters}))
    assert found["corpus.unique_images"].value == 500  # duplicates share a cluster; small files are not kept
    without_inventory = corpus.values(run_tables({corpus.CLUSTERS: clusters}))
    assert without_inventory["corpus.unique_images"].value == 502
    assert "kept" not in without_inventory["corpus.unique_images"].note


def test_rekognition_totals_come_from_the_confusion_tables(reference: dict):
    frames = {
        TABLE_6_1_CSV: confusion_frame(reference["table_6_1"]),
        TABLE_6_2_CSV: confusion_frame(reference["table_6_2"], simulated=True),
    }
    found = corpus.values(run_tables(frames))
    assert found["corpus.rekognition_sample"].value == 815
    assert found["corpus.rekognition_protest"].value == 422
    assert found["corpus.rekognition_crowd"].value == 446
    assert found["corpus.rekognition_crowd"].not_comparable is None
    assert (found["corpus.legend_manual"].value, found["corpus.legend_rekognition"].value) == (36, 31)
    assert found["corpus.legend_rekognition"].not_comparable == SIMULATED
    assert found["corpus.legend_rekognition"].note == "from results/tables/table_6_2.csv"


def test_emotion_positives_are_class_sizes_of_table_7_1(reference: dict):
    table = table_7_1_frame(reference)
    found = corpus.values(run_tables({TABLE_7_1_CSV: table}))
    assert found["corpus.emotion_positives.anger"].value == 97
    assert found["corpus.emotion_positives.fear"].value == 48  # the book's own split: 38 + 10, not 49
    assert found["corpus.emotion_positives.fear"].note == "positive class size in Table 7.1"
    splits_only = corpus.values(run_tables({TABLE_7_1_CSV: table[table["split"] != "total"]}))
    assert splits_only["corpus.emotion_positives.sadness"].value == 349 + 88
    assert splits_only["corpus.emotion_positives.sadness"].note == "positives over all splits of Table 7.1"


def test_emotion_positives_are_missing_when_table_7_1_lacks_a_column():
    found = corpus.values(run_tables({TABLE_7_1_CSV: pd.DataFrame({"task": ["anger"], "Klasse": ["positive"]})}))
    assert found["corpus.emotion_positives.anger"].value is None
    assert "class: one of" in found["corpus.emotion_positives.anger"].note


def test_evoked_shares_count_emotions_above_zero():
    found = corpus.values(run_tables({corpus.AGGREGATED: aggregated_frame()}))
    shares = {key.rsplit(".", 1)[1]: value.value for key, value in found.items()}
    assert shares == pytest.approx({"none": 35, "exactly_one": 19, "more_than_one": 46})


def test_evoked_shares_need_every_emotions_mean_score():
    frame = aggregated_frame().drop(columns="disgust")
    found = corpus.values(run_tables({corpus.AGGREGATED: frame}))
    assert found["corpus.emotion_evoked_percent.none"].value is None
    assert found["corpus.emotion_evoked_percent.none"].note == "results/labels/aggregated.csv has no mean score column for disgust"
