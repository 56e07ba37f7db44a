"""The corpus and the Rekognition sample (book Sections 5, 6 and 7.3): unique images after
cleaning, the sample's totals (from Tables 6.1 and 6.2), the emotion tasks' positives (from
Table 7.1) and the shares of images evoking no, one or several emotions (Figure 7.1a).

Book values: `corpus` of config/book_reference.yaml.
"""

from __future__ import annotations

import pandas as pd

from ..engine import Measure, ResultFile, RunOptions, RunTables, RunValue, Section
from ..reading import missing_for, require_columns
from .table_6 import TABLE_6_1_CSV, TABLE_6_2_CSV, read_confusion
from .table_7_1 import POSITIVE, TABLE_7_1_CSV, read_split_counts

KEY = "corpus"
INVENTORY = ResultFile("inventory", "inventory/inventory.csv")
CLUSTERS = ResultFile("clusters", "dedupe/clusters.csv")
AGGREGATED = ResultFile("aggregated", "labels/aggregated.csv")
FIGURE_7_1 = ResultFile("figure_7_1", "figures/figure_7_1.png")

# Counts of `corpus` in the reference: what they count, and the file this run's value comes from.
COUNTS = {
    "unique_images": ("unique images after removing files under 5 kB", CLUSTERS),
    "rekognition_sample": ("most shared images sent to Rekognition", TABLE_6_1_CSV),
    "rekognition_protest": ("of those, manually labelled protest", TABLE_6_1_CSV),
    "rekognition_crowd": ("of those, 'Crowd' returned with >= 50 % confidence", TABLE_6_1_CSV),
    "legend_manual": ("images where annotators saw John Legend", TABLE_6_2_CSV),
    "legend_rekognition": ("images where Rekognition recognised John Legend", TABLE_6_2_CSV),
}
# The Rekognition sample's counts are totals of a confusion table (see table_6.Confusion).
CONFUSION_TOTALS = {
    TABLE_6_1_CSV: {"rekognition_sample": "total", "rekognition_protest": "truth", "rekognition_crowd": "predicted"},
    TABLE_6_2_CSV: {"legend_manual": "truth", "legend_rekognition": "predicted"},
}
EVOKED = {"none": "no emotion", "exactly_one": "exactly one emotion", "more_than_one": "more than one emotion"}


def measures(reference: dict, options: RunOptions) -> list[Measure]:
    corpus = reference.get("corpus") or {}
    decimals = int(corpus.get("decimals", 0))
    found = [
        Measure(f"corpus.{name}", KEY, text, float(corpus[name]), decimals, source)
        for name, (text, source) in COUNTS.items()
        if name in corpus
    ]
    found += emotion_positive_measures(reference)
    for share, percent in (corpus.get("emotion_evoked_percent") or {}).items():
        found.append(
            Measure(
                f"corpus.emotion_evoked_percent.{share}",
                KEY,
                f"% of annotated images evoking {EVOKED.get(share, share)} (Figure 7.1a, 'about')",
                float(percent),
                0,
                AGGREGATED,
            )
        )
    return found


def emotion_positive_measures(reference: dict) -> list[Measure]:
    corpus = reference.get("corpus") or {}
    decimals = int(corpus.get("decimals", 0))
    return [
        Measure(f"corpus.emotion_positives.{emotion}", KEY, f"{emotion} positives", float(count), decimals, TABLE_7_1_CSV)
        for emotion, count in (corpus.get("emotion_positives") or {}).items()
    ]


def unique_image_values(clusters: pd.DataFrame | None, inventory: pd.DataFrame | None) -> dict[str, RunValue]:
    key = "corpus.unique_images"
    if clusters is None:
        return {}
    columns = require_columns(clusters, ["image_id", "cluster_id"], CLUSTERS)
    if isinstance(columns, str):
        return missing_for([key], columns)
    note = "distinct duplicate clusters"
    if inventory is not None:
        inv_columns = require_columns(inventory, ["image_id", "status"], INVENTORY)
        if not isinstance(inv_columns, str):
            kept = inventory.loc[inventory[inv_columns["status"]].astype(str) == "kept", inv_columns["image_id"]]
            clusters = clusters[clusters[columns["image_id"]].isin(set(kept))]
            note += " among images the inventory kept"
    return {key: RunValue(float(clusters[columns["cluster_id"]].nunique()), note=note)}


def confusion_total_values(frame: pd.DataFrame | None, source: ResultFile) -> dict[str, RunValue]:
    totals = {f"corpus.{name}": which for name, which in CONFUSION_TOTALS[source].items()}
    if frame is None:
        return {}
    confusion = read_confusion(frame, source)
    if isinstance(confusion, str):
        return missing_for(list(totals), confusion)
    return {
        key: RunValue(getattr(confusion, which), note=f"from {source.shown}", not_comparable=confusion.not_comparable)
        for key, which in totals.items()
    }


def emotion_positive_values(frame: pd.DataFrame | None, reference: dict) -> dict[str, RunValue]:
    """Each task's positive class size in Table 7.1 (its total row, else the sum of its splits)."""
    if frame is None:
        return {}
    counts = read_split_counts(frame)
    if isinstance(counts, str):
        return missing_for([m.key for m in emotion_positive_measures(reference)], counts)
    table, summary = counts
    found = {}
    for task, rows in table.groupby("task"):
        positives = rows.loc[rows["class"] == POSITIVE, "n"]
        class_size = summary.loc[(summary["task"] == task) & (summary["class"] == POSITIVE), "n"]
        if len(class_size):
            found[f"corpus.emotion_positives.{task}"] = RunValue(float(class_size.sum()), note="positive class size in Table 7.1")
        elif len(positives):
            found[f"corpus.emotion_positives.{task}"] = RunValue(float(positives.sum()), note="positives over all splits of Table 7.1")
    return found


def emotion_evoked_values(frame: pd.DataFrame | None, emotions: tuple[str, ...]) -> dict[str, RunValue]:
    """Shares of annotated images whose mean score is above 0 for none, one, or several emotions."""
    if frame is None:
        return {}
    keys = [f"corpus.emotion_evoked_percent.{s}" for s in EVOKED]
    if not emotions:
        return missing_for(keys, "labels.emotions is empty: the annotation sheet has no emotion scores")
    columns = {}
    for emotion in emotions:
        by_lower = {str(c).lower(): c for c in frame.columns}
        column = next((by_lower[a] for a in (emotion, f"{emotion}_mean", f"mean_{emotion}") if a in by_lower), None)
        if column is None:
            return missing_for(keys, f"{AGGREGATED.shown} has no mean score column for {emotion}")
        columns[emotion] = column
    scores = frame[list(columns.values())].apply(pd.to_numeric, errors="coerce").dropna()
    if scores.empty:
        return missing_for(keys, f"{AGGREGATED.shown} has no annotated images")
    evoked = (scores > 0).sum(axis=1)
    shares = {"none": evoked == 0, "exactly_one": evoked == 1, "more_than_one": evoked > 1}
    return {f"corpus.emotion_evoked_percent.{name}": RunValue(100 * float(mask.mean())) for name, mask in shares.items()}


def values(run: RunTables) -> dict[str, RunValue]:
    found = unique_image_values(run.frame(CLUSTERS), run.frame(INVENTORY))
    for source in CONFUSION_TOTALS:
        found.update(confusion_total_values(run.frame(source), source))
    found.update(emotion_positive_values(run.frame(TABLE_7_1_CSV), run.reference))
    found.update(emotion_evoked_values(run.frame(AGGREGATED), run.options.emotions))
    return found


SECTION = Section(
    KEY,
    "Corpus and Rekognition sample (Sections 5, 6 and 7.3)",
    links=(INVENTORY, CLUSTERS, AGGREGATED, FIGURE_7_1),
    reads=(INVENTORY, CLUSTERS, AGGREGATED, TABLE_6_1_CSV, TABLE_6_2_CSV, TABLE_7_1_CSV),
    measures=measures,
    values=values,
)
