"""Autotagger comparison with Amazon Rekognition (book Section 6).

Stages: choose a sample of cluster roots (`sample`), fetch one response per image and
API through a response cache (`fetch`, with the `aws`, `replay` and `simulated`
backends in `backends`), turn responses into tidy tables (`tidy`), compare them with
the manual labels (`compare`) and draw Figure 6.3 and the precision-recall curve
(`figures`).
"""

API_OPERATIONS = {
    "detect_labels": "DetectLabels",
    "recognize_celebrities": "RecognizeCelebrities",
}
