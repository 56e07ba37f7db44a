"""Where uncached responses come from: the live service, nowhere (replay) or a simulation."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Protocol

import boto3
import botocore.config

from images_as_data.autotag.images import PreparedImage
from images_as_data.autotag.settings import ClientSettings, FetchSettings
from images_as_data.autotag.simulated import (
    SceneTruth,
    simulate_azure_tags,
    simulate_detect_labels,
    simulate_google_labels,
    simulate_recognize_celebrities,
)


class Backend(Protocol):
    name: str
    region: str | None

    def call(self, api: str, image: PreparedImage, parameters: dict[str, Any]) -> dict[str, Any]:
        """One API call for one image; returns the parsed response."""


class ImageRejected(RuntimeError):
    """The service refused this one image (bad format, too large...); the other calls go on."""


def quiet_transport_logs(*names: str, level: int = logging.INFO) -> None:
    """Keep transport loggers above DEBUG: their debug lines carry request headers, keys among them."""
    for name in names or ("botocore", "boto3", "urllib3"):
        logger = logging.getLogger(name)
        logger.setLevel(max(logger.level, level))


def make_rekognition_client(settings: ClientSettings):
    """A Rekognition client from boto3's standard credential chain with adaptive retries.

    Credentials come from the environment, the shared config/credentials files (optionally
    a named profile), SSO or an instance role, never from the project's files.
    """
    quiet_transport_logs()
    session = boto3.session.Session(profile_name=settings.profile, region_name=settings.region)
    if session.get_credentials() is None:
        raise NoCredentialsError(
            "autotag.backend is aws but boto3 found no AWS credentials (environment, shared config/credentials "
            "files, SSO or instance role). Set them up outside the project (e.g. `aws configure` or "
            "`aws sso login`, then autotag.profile), or use autotag.backend: replay with a filled cache"
        )
    config = botocore.config.Config(
        region_name=settings.region,
        retries={"mode": "adaptive", "max_attempts": settings.max_attempts},
        max_pool_connections=max(10, settings.max_in_flight),
        user_agent_extra="images-as-data",
    )
    return session.client("rekognition", endpoint_url=settings.endpoint_url, config=config)


class NoCredentialsError(RuntimeError):
    """boto3's credential chain found nothing."""


@dataclass
class AwsBackend:
    """Live calls through a boto3 Rekognition client (or a Stubber-wrapped one in tests).

    Without a client one is made from `settings` at the first call, so a run whose
    responses are all cached needs no credentials.
    """

    client: Any = None
    region: str | None = None
    settings: ClientSettings | None = None
    name: str = "aws"
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def endpoint(self) -> str | None:
        return self.client.meta.endpoint_url if self.client is not None else None

    def _client(self):
        with self._lock:
            if self.client is None:
                self.client = make_rekognition_client(self.settings)
            return self.client

    def call(self, api: str, image: PreparedImage, parameters: dict[str, Any]) -> dict[str, Any]:
        return getattr(self._client(), api)(Image={"Bytes": image.data}, **parameters)


@dataclass
class ReplayBackend:
    """Cached responses only: the fetch step refuses to start when one is missing."""

    region: str | None = None
    name: str = "replay"
    endpoint: str | None = None

    def call(self, api: str, image: PreparedImage, parameters: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError(f"replay backend: no cached {api} response for {image.image_id}")


@dataclass
class SimulatedBackend:
    """Deterministic simulated responses for the demo corpus (see `simulated`), in each service's format."""

    truth: Mapping[str, SceneTruth]  # by image sha256
    rates: Any  # the service's rates (settings.SimulationRates, GoogleRates, AzureRates)
    celebrity: str
    seed: int
    region: str | None = None
    name: str = "simulated"
    endpoint: str | None = None

    def call(self, api: str, image: PreparedImage, parameters: dict[str, Any]) -> dict[str, Any]:
        if image.sha256 not in self.truth:
            raise KeyError(f"simulated backend: no scene truth for {image.image_id}; it must be in the sample")
        truth = self.truth[image.sha256]
        if api == "detect_labels":
            return simulate_detect_labels(self.seed, image.sha256, truth, self.rates, parameters)
        if api == "recognize_celebrities":
            return simulate_recognize_celebrities(self.seed, image.sha256, truth, self.rates, self.celebrity)
        if api == "google_label_detection":
            return simulate_google_labels(self.seed, image.sha256, truth, self.rates, parameters)
        if api == "azure_tags":
            return simulate_azure_tags(self.seed, image.sha256, truth, self.rates, parameters, (image.width, image.height))
        raise ValueError(f"simulated backend: unknown API '{api}'")


def make_backend(
    settings: FetchSettings,
    truth: Mapping[str, SceneTruth] | None = None,
    celebrity: str = "",
    live: Callable[[FetchSettings], Any] | None = None,
):
    """The backend `settings.backend` names for `settings.service`.

    `live` builds the live backend of a service other than Rekognition; the caller passes it,
    so that this module (and every rule importing it) needs no other service's SDK.
    """
    if settings.backend == "replay":
        return ReplayBackend(settings.client.region)
    if settings.backend == "simulated":
        if truth is None:
            raise ValueError("the simulated backend needs the scene truth of the sample")
        return SimulatedBackend(truth, settings.simulation, celebrity, settings.seed)
    if settings.backend == "aws":
        return AwsBackend(region=settings.client.region, settings=settings.client)
    if settings.backend == settings.live_backend and live is not None:
        return live(settings)
    raise ValueError(f"{settings.key}.backend '{settings.backend}': no live backend for {settings.service} here")
