"""The `autotag:` config section as typed settings, with the checks a schema cannot do."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping

from images_as_data.autotag import API_OPERATIONS
from images_as_data.common.config import ConfigError

BACKENDS = ("aws", "replay", "simulated")


@dataclass(frozen=True)
class ImageLimits:
    """What the API accepts as raw image bytes; other images are re-encoded as JPEG."""

    max_bytes: int = 5 * 1024 * 1024
    min_side: int = 80
    max_side: int = 10000
    formats: tuple[str, ...] = ("JPEG", "PNG")
    jpeg_quality: int = 90


@dataclass(frozen=True)
class SimulationRates:
    """How often the simulated autotagger agrees with the demo corpus's scene truth."""

    crowd_recall: float = 0.89
    crowd_false_positive_rate: float = 0.18
    celebrity_recall: float = 0.86
    celebrity_false_positive_rate: float = 0.0


@dataclass(frozen=True)
class ClientSettings:
    """How the live client reaches the service."""

    region: str = "us-east-1"
    profile: str | None = None
    endpoint_url: str | None = None
    max_attempts: int = 8
    max_in_flight: int = 4


@dataclass(frozen=True)
class FetchSettings:
    """Everything the fetch step needs: backend, cache, client, cost guard, request options."""

    backend: str = "simulated"
    apis: tuple[str, ...] = ("detect_labels", "recognize_celebrities")
    cache_dir: str = "resources/autotag_cache"
    client: ClientSettings = field(default_factory=ClientSettings)
    max_calls: int = 2000
    price_per_call: Mapping[str, float] = field(
        default_factory=lambda: {"detect_labels": 0.001, "recognize_celebrities": 0.001}
    )
    detect_labels_request: Mapping[str, Any] = field(
        default_factory=lambda: {"MinConfidence": 20.0, "MaxLabels": 100}
    )
    image_limits: ImageLimits = field(default_factory=ImageLimits)
    simulation: SimulationRates = field(default_factory=SimulationRates)
    simulated_celebrity: str = ""
    seed: int = 2020

    @property
    def simulated(self) -> bool:
        return self.backend == "simulated"

    @property
    def cache_root(self) -> Path:
        """Simulated responses live apart from real ones, so neither is ever taken for the other."""
        return Path(self.cache_dir) / "simulated" if self.simulated else Path(self.cache_dir)

    def simulation_signature(self) -> dict[str, Any] | None:
        """What a simulated response depends on besides the image; None for real backends."""
        if not self.simulated:
            return None
        return {**asdict(self.simulation), "seed": self.seed, "celebrity": self.simulated_celebrity}

    def request_parameters(self, api: str) -> dict[str, Any]:
        """Parameters sent with every call of `api` besides the image (part of the cache record)."""
        return dict(self.detect_labels_request) if api == "detect_labels" else {}


def fetch_settings(config: Mapping[str, Any]) -> FetchSettings:
    """Build the fetch settings from the whole (schema-validated) workflow config."""
    section = config.get("autotag", {})
    check_autotag_config(config)
    limits = section.get("image_limits", {})
    client = ClientSettings(
        region=section.get("region", "us-east-1"),
        profile=section.get("profile"),
        endpoint_url=section.get("endpoint_url"),
        max_attempts=int(section.get("max_attempts", 8)),
        max_in_flight=int(section.get("max_in_flight", 4)),
    )
    request = {}
    labels = section.get("detect_labels", {})
    if labels.get("min_confidence") is not None:
        request["MinConfidence"] = float(labels["min_confidence"])
    if labels.get("max_labels") is not None:
        request["MaxLabels"] = int(labels["max_labels"])
    return FetchSettings(
        backend=section.get("backend", "simulated"),
        apis=tuple(section.get("apis", FetchSettings.apis)),
        cache_dir=section.get("cache_dir", FetchSettings.cache_dir),
        client=client,
        max_calls=int(section.get("max_calls", 2000)),
        price_per_call={api: float(price) for api, price in section.get("price_per_call", {}).items()},
        detect_labels_request=request,
        image_limits=ImageLimits(
            max_bytes=int(limits.get("max_bytes", ImageLimits.max_bytes)),
            min_side=int(limits.get("min_side", ImageLimits.min_side)),
            max_side=int(limits.get("max_side", ImageLimits.max_side)),
            jpeg_quality=int(limits.get("jpeg_quality", ImageLimits.jpeg_quality)),
        ),
        simulation=SimulationRates(**section.get("simulation", {})),
        simulated_celebrity=section.get("celebrity_comparison", {}).get("name", ""),
        seed=int(config.get("seed", 2020)),
    )


def check_autotag_config(config: Mapping[str, Any]) -> None:
    """Reject combinations the schema allows but the step cannot run."""
    section = config.get("autotag", {})
    backend = section.get("backend", "simulated")
    if backend not in BACKENDS:
        raise ConfigError(f"autotag.backend is '{backend}'; use one of {', '.join(BACKENDS)}")
    if backend == "simulated" and not config.get("demo", {}).get("generate", True):
        raise ConfigError(
            "autotag.backend: simulated only makes sense on the generated demo corpus "
            "(demo.generate: true); for your own images use backend aws (live calls) or replay (cached responses)"
        )
    apis = section.get("apis", list(API_OPERATIONS))
    unknown = [api for api in apis if api not in API_OPERATIONS]
    if unknown or not apis:
        raise ConfigError(f"autotag.apis {apis}: choose one or more of {', '.join(API_OPERATIONS)}")
    missing_prices = [api for api in apis if api not in section.get("price_per_call", {})]
    if missing_prices:
        raise ConfigError(f"autotag.price_per_call has no price for {', '.join(missing_prices)}")
    if section.get("sample", "most_shared") == "most_shared" and not config.get("data", {}).get("metadata"):
        raise ConfigError(
            "autotag.sample: most_shared needs data.metadata (a CSV with image_id, shares); "
            "set data.metadata or use autotag.sample: all_labelled"
        )


FETCH_KEYS = (
    "backend", "apis", "sample", "cache_dir", "region", "profile", "endpoint_url", "max_attempts", "max_in_flight",
    "max_calls", "price_per_call", "detect_labels", "image_limits", "simulation",
)


def fetch_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The part of the config the fetch step reads, so that other changes do not rerun it."""
    section = config.get("autotag", {})
    subset = {key: section[key] for key in FETCH_KEYS if key in section}
    if section.get("backend") == "simulated":
        # The simulation draws from the manual labels and names the celebrity it recognises.
        subset["label_comparison"] = {"manual_column": section.get("label_comparison", {}).get("manual_column")}
        subset["celebrity_comparison"] = {
            key: section.get("celebrity_comparison", {}).get(key) for key in ("name", "manual_column")
        }
    return {
        "seed": config.get("seed"),
        "demo": {"generate": config.get("demo", {}).get("generate", True)},
        "data": {"metadata": config.get("data", {}).get("metadata")},
        "autotag": subset,
    }
