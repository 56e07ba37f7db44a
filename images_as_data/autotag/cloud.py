"""The fetch rule of the cloud taggers besides Rekognition: Google Cloud Vision and Azure AI Vision."""

from __future__ import annotations

from images_as_data.autotag.azure_vision import AzureBackend
from images_as_data.autotag.fetch import FetchReport, run_fetch
from images_as_data.autotag.google_vision import GoogleBackend

LIVE_BACKENDS = {"google": GoogleBackend.from_settings, "azure": AzureBackend.from_settings}


def run_cloud_fetch(service: str, sample_csv, config, estimate_csv, records_jsonl) -> FetchReport:
    """Estimate, call what is not cached (live, replay or simulated, as `autotag.<service>.backend` says), write the records."""
    if service not in LIVE_BACKENDS:
        raise ValueError(f"'{service}' is not a cloud tagger; expected one of {', '.join(LIVE_BACKENDS)}")
    return run_fetch(sample_csv, config, estimate_csv, records_jsonl, service=service, live=LIVE_BACKENDS[service])
