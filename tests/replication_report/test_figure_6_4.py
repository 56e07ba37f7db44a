"""Figure 6.4: whether each label the book names is among the service's ten most frequent."""

from __future__ import annotations

import pandas as pd

from images_as_data.replication.report.engine import verdict
from images_as_data.replication.report.sections import figure_6_4

from .book_shaped import run_tables


def top_ten(service: str, labels: list[str], simulated: bool = False) -> pd.DataFrame:
    return pd.DataFrame(
        {"service": service, "rank": range(1, len(labels) + 1), "label": labels, "n_images": 10, "simulated": simulated}
    )


def test_every_label_the_book_names_is_a_number(reference: dict):
    keys = {m.key for m in figure_6_4.measures(reference, None)}
    assert {"figure_6_4.google.protest", "figure_6_4.google.demonstration", "figure_6_4.azure.group",
            "figure_6_4.rekognition.crowd"} <= keys  # fmt: skip
    assert all(m.book == 1.0 for m in figure_6_4.measures(reference, None))


def test_labels_in_and_out_of_the_top_ten_case_insensitive(reference: dict):
    frame = pd.concat([top_ten("google", ["Crowd", "protest", "Event"]), top_ten("rekognition", ["Person", "Human"])])
    found = figure_6_4.values(run_tables({figure_6_4.FIGURE_6_4_CSV: frame}))
    assert found["figure_6_4.google.protest"].value == 1.0
    assert found["figure_6_4.google.crowd"].value == 1.0
    assert found["figure_6_4.google.demonstration"].value == 0.0
    assert found["figure_6_4.rekognition.crowd"].value == 0.0
    assert "figure_6_4.azure.group" not in found  # the service did not run: the row stays missing
    measures = {m.key: m for m in figure_6_4.measures(reference, None)}
    assert verdict(measures["figure_6_4.google.demonstration"], found["figure_6_4.google.demonstration"], demo=False) == "differs"


def test_simulated_services_are_shown_but_not_judged(reference: dict):
    frame = top_ten("azure", ["group", "crowd"], simulated=True)
    found = figure_6_4.values(run_tables({figure_6_4.FIGURE_6_4_CSV: frame}))
    measures = {m.key: m for m in figure_6_4.measures(reference, None)}
    assert verdict(measures["figure_6_4.azure.group"], found["figure_6_4.azure.group"], demo=False) == figure_6_4.SIMULATED_TAGGER
