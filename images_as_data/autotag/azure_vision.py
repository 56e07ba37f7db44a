"""Azure AI Vision Image Analysis 4.0 tags through the official client (`azure-ai-vision-imageanalysis`).

The key comes from an environment variable (`autotag.azure.key_env`, VISION_KEY as in
Azure's quickstarts) and the endpoint from the config or VISION_ENDPOINT; never from the
project's files. azure-core's retry policy backs off exponentially and honours Retry-After
on 429 and transient 5xx answers. Responses are stored as the REST API's JSON
(`ImageAnalysisResult`: modelVersion, metadata, tagsResult.values[name, confidence]).
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from typing import Any

from azure.ai.vision.imageanalysis import ImageAnalysisClient
from azure.ai.vision.imageanalysis.models import ImageAnalysisResult, VisualFeatures
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import HttpResponseError

from images_as_data.autotag.backends import ImageRejected, NoCredentialsError, quiet_transport_logs
from images_as_data.autotag.images import PreparedImage
from images_as_data.autotag.settings import FetchSettings

DEFAULT_ENDPOINT_ENV = "VISION_ENDPOINT"
# Error codes the service gives for one unusable image (documented for Image Analysis 4.0).
IMAGE_ERROR_CODES = {"InvalidImageFormat", "InvalidImageSize", "InvalidImageDimension", "InvalidImage", "InvalidImageUrl"}


def azure_endpoint(options: dict[str, Any]) -> str | None:
    return options.get("endpoint") or os.environ.get(DEFAULT_ENDPOINT_ENV)


def make_azure_client(options: dict[str, Any]) -> ImageAnalysisClient:
    """An ImageAnalysisClient with the key from the environment and azure-core's retry policy."""
    # Azure's HTTP logging policy logs request headers at INFO (keys redacted); keep it out of the rule logs.
    quiet_transport_logs("azure", "urllib3", level=logging.WARNING)
    endpoint = azure_endpoint(options)
    if not endpoint:
        raise NoCredentialsError(
            "autotag.azure.backend is azure but no endpoint is set: give autotag.azure.endpoint "
            f"(https://<resource>.cognitiveservices.azure.com) or export {DEFAULT_ENDPOINT_ENV}"
        )
    key_env = options.get("key_env", "VISION_KEY")
    key = os.environ.get(key_env)
    if not key:
        raise NoCredentialsError(
            f"autotag.azure.backend is azure but the environment variable {key_env} (autotag.azure.key_env) is not set; "
            "export the key of your Azure AI Vision resource (Azure portal: Keys and Endpoint) there, never in the "
            "config, or use autotag.azure.backend: replay with a filled cache"
        )
    return ImageAnalysisClient(
        endpoint,
        AzureKeyCredential(key),
        retry_total=int(options.get("max_attempts", 8)),
        retry_backoff_factor=float(options.get("retry_backoff_s", 0.8)),
        retry_backoff_max=60,
    )


@dataclass
class AzureBackend:
    """Live tags; the client is made at the first call, so a cached run needs no key."""

    settings: FetchSettings
    client: Any = None
    region: str | None = None
    name: str = "azure"
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_settings(cls, settings: FetchSettings) -> "AzureBackend":
        return cls(settings)

    @property
    def endpoint(self) -> str | None:
        return azure_endpoint(dict(self.settings.options))

    def _client(self):
        with self._lock:
            if self.client is None:
                self.client = make_azure_client(dict(self.settings.options))
            return self.client

    def call(self, api: str, image: PreparedImage, parameters: dict[str, Any]) -> dict[str, Any]:
        try:
            result = self._client().analyze(
                image_data=image.data,
                visual_features=[VisualFeatures(feature) for feature in parameters["features"]],
                language=parameters.get("language"),
                model_version=parameters.get("model-version"),
            )
        except HttpResponseError as error:
            code = getattr(error.error, "code", None) if error.error is not None else None
            if error.status_code == 400 and (code in IMAGE_ERROR_CODES or code is None):
                raise ImageRejected(f"{code or 'HTTP 400'}: {error.message}") from error
            raise
        return result.as_dict()


def parse_response(response: dict[str, Any]) -> ImageAnalysisResult:
    """The stored JSON as the client's result type."""
    return ImageAnalysisResult(response)
