"""Google Cloud Vision label detection through the official client (`google-cloud-vision`).

Credentials come from Google's Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS,
`gcloud auth application-default login`, or the attached service account on Google Cloud),
or from an API key in an environment variable that `autotag.google.api_key_env` names;
never from the project's files. The REST transport sends one image per request; the
client's Retry backs off exponentially on throttling and transient server errors. Responses
are stored as the REST API's JSON (`AnnotateImageResponse`, camelCase, default values left
out), the format Google documents.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from typing import Any

import google.auth
from google.api_core import exceptions as api_exceptions
from google.api_core.client_options import ClientOptions
from google.api_core.retry import Retry, if_exception_type
from google.auth.exceptions import DefaultCredentialsError
from google.cloud import vision

from images_as_data.autotag.backends import ImageRejected, NoCredentialsError, quiet_transport_logs
from images_as_data.autotag.images import PreparedImage
from images_as_data.autotag.settings import FetchSettings

SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
DEFAULT_ENDPOINT = "vision.googleapis.com"
RETRYABLE = (
    api_exceptions.TooManyRequests,
    api_exceptions.InternalServerError,
    api_exceptions.BadGateway,
    api_exceptions.ServiceUnavailable,
    api_exceptions.GatewayTimeout,
)


def make_google_client(options: dict[str, Any]) -> vision.ImageAnnotatorClient:
    """An ImageAnnotatorClient with an API key from the environment or Application Default Credentials."""
    quiet_transport_logs("google", "google.auth", "google.api_core", "urllib3")
    endpoint = options.get("endpoint")
    key_env = options.get("api_key_env")
    transport = options.get("transport", "rest")
    if key_env:
        key = os.environ.get(key_env)
        if not key:
            raise NoCredentialsError(
                f"autotag.google.api_key_env names the environment variable {key_env}, which is not set; "
                "export the API key there (never in the config), or set api_key_env: null to use "
                "Application Default Credentials"
            )
        return vision.ImageAnnotatorClient(
            transport=transport, client_options=ClientOptions(api_endpoint=endpoint, api_key=key)
        )
    try:
        credentials, _ = google.auth.default(scopes=list(SCOPES))
    except DefaultCredentialsError as error:
        raise NoCredentialsError(
            "autotag.google.backend is google but Google's Application Default Credentials found nothing "
            f"({error}). Run `gcloud auth application-default login` (and `gcloud auth application-default "
            "set-quota-project PROJECT`), or point GOOGLE_APPLICATION_CREDENTIALS at a service-account key file "
            "kept outside the project, or use autotag.google.backend: replay with a filled cache"
        ) from None
    return vision.ImageAnnotatorClient(
        credentials=credentials, transport=transport, client_options=ClientOptions(api_endpoint=endpoint)
    )


def response_json(response: vision.AnnotateImageResponse) -> dict[str, Any]:
    """The REST API's JSON of one image's response (camelCase, fields at their default value left out)."""
    return json.loads(vision.AnnotateImageResponse.to_json(
        response, preserving_proto_field_name=False, indent=None, always_print_fields_with_no_presence=False))


def annotate_request(image: PreparedImage, parameters: dict[str, Any]) -> vision.AnnotateImageRequest:
    """The request for one image from the stored request parameters (REST field names)."""
    features = [
        vision.Feature(type_=vision.Feature.Type[feature["type"]], max_results=feature.get("maxResults", 0),
                       model=feature.get("model", ""))
        for feature in parameters["features"]
    ]
    return vision.AnnotateImageRequest(image=vision.Image(content=image.data), features=features)


@dataclass
class GoogleBackend:
    """Live label detection; the client is made at the first call, so a cached run needs no credentials."""

    settings: FetchSettings
    client: Any = None
    region: str | None = None
    name: str = "google"
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_settings(cls, settings: FetchSettings) -> "GoogleBackend":
        return cls(settings)

    @property
    def endpoint(self) -> str:
        return self.settings.options.get("endpoint") or DEFAULT_ENDPOINT

    def _client(self):
        with self._lock:
            if self.client is None:
                self.client = make_google_client(dict(self.settings.options))
            return self.client

    def _retry(self) -> Retry:
        options = self.settings.options
        return Retry(
            predicate=if_exception_type(*RETRYABLE),
            initial=float(options.get("retry_initial_s", 1.0)),
            maximum=60.0,
            multiplier=2.0,
            timeout=float(options.get("retry_deadline_s", 600)),
        )

    def call(self, api: str, image: PreparedImage, parameters: dict[str, Any]) -> dict[str, Any]:
        request = annotate_request(image, parameters)
        try:
            reply = self._client().batch_annotate_images(requests=[request], retry=self._retry())
        except api_exceptions.InvalidArgument as error:
            raise ImageRejected(f"InvalidArgument: {error.message}") from error
        response = reply.responses[0]
        if response.error.code:  # one image's failure inside a successful batch call
            raise ImageRejected(f"error {response.error.code}: {response.error.message}")
        return response_json(response)


def parse_response(response: dict[str, Any]) -> vision.AnnotateImageResponse:
    """The stored JSON as the client's message type; unknown fields are an error (format check)."""
    return vision.AnnotateImageResponse.from_json(json.dumps(response))
