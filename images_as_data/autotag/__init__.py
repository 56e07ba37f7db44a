"""Autotagger comparison (book Section 6): Amazon Rekognition, Google Cloud Vision, Azure AI
Vision and a local zero-shot CLIP tagger.

Stages: choose a sample of cluster roots (`sample`), fetch one response per image and API
through a response cache (`fetch`, with each service's live, replay and simulated backends
in `backends`, `google_vision`, `azure_vision` and `clip_tagger`), turn responses into tidy
tables (`tidy`), compare them with the manual labels (`compare`) and draw Figures 6.3, 6.4
and the precision-recall curve (`figures`).
"""

API_OPERATIONS = {
    "detect_labels": "DetectLabels",
    "recognize_celebrities": "RecognizeCelebrities",
    "google_label_detection": "images:annotate LABEL_DETECTION",
    "azure_tags": "imageanalysis:analyze tags",
    "clip_zero_shot": "open_clip zero-shot scoring",
}
API_SERVICE = {
    "detect_labels": "rekognition",
    "recognize_celebrities": "rekognition",
    "google_label_detection": "google",
    "azure_tags": "azure",
    "clip_zero_shot": "clip",
}
SERVICES = ("rekognition", "google", "azure", "clip")
# The API whose answers are labels, per service (Table 6.1, Figures 6.3 and 6.4).
LABEL_API = {"rekognition": "detect_labels", "google": "google_label_detection", "azure": "azure_tags", "clip": "clip_zero_shot"}
SERVICE_TITLES = {
    "rekognition": "Amazon Rekognition",
    "google": "Google Cloud Vision",
    "azure": "Azure AI Vision",
    "clip": "CLIP (open_clip, local)",
}
SERVICE_SHORT = {"rekognition": "AWS", "google": "Google", "azure": "Azure", "clip": "CLIP"}
