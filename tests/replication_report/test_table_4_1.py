"""Table 4.1 section: torchvision's recorded errors beside the book's, for every backbone."""

from __future__ import annotations

import pandas as pd

from images_as_data.replication.report.sections import table_4_1

from .book_shaped import run_tables


def test_every_backbone_has_top1_and_top5_errors(reference: dict):
    measures = table_4_1.measures(reference, None)
    assert len(measures) == 2 * 21 and not any(m.corpus_dependent for m in measures)
    assert measures[0].quantity == "AlexNet: top-1 error (%)"


def test_values_are_torchvisions_errors_per_model():
    frame = pd.DataFrame([{"torchvision_model": "resnet18", "torchvision_top1_error": 30.24, "torchvision_top5_error": 10.92}])
    found = table_4_1.values(run_tables({table_4_1.TABLE_4_1_CSV: frame}))
    assert (found["table_4_1.resnet18.top1_error"].value, found["table_4_1.resnet18.top5_error"].value) == (30.24, 10.92)
