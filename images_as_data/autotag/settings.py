"""The `autotag:` config section as typed settings, with the checks a schema cannot do."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping

from images_as_data.autotag import API_SERVICE, LABEL_API, SERVICE_TITLES, SERVICES
from images_as_data.common.config import ConfigError
from images_as_data.common.hashing import file_sha256

BACKENDS = ("aws", "replay", "simulated")
SERVICE_BACKENDS = {
    "rekognition": BACKENDS,
    "google": ("google", "replay", "simulated"),
    "azure": ("azure", "replay", "simulated"),
    "clip": ("local", "replay"),
}
LIVE_BACKEND = {"rekognition": "aws", "google": "google", "azure": "azure", "clip": "local"}
CLIP_WEIGHT_MODES = ("pretrained", "random")


@dataclass(frozen=True)
class ImageLimits:
    """What the API accepts as raw image bytes; other images are re-encoded as JPEG."""

    max_bytes: int = 5 * 1024 * 1024
    min_side: int = 80
    max_side: int = 10000
    formats: tuple[str, ...] = ("JPEG", "PNG")
    jpeg_quality: int = 90


# Each service's documented limits on inline image bytes. Google's REST body is JSON with the
# image in base64 (4/3 larger) and may not exceed 10 MB; Azure takes up to 20 MB between 50
# and 16000 pixels a side; CLIP decodes anything Pillow reads and resizes it itself.
SERVICE_LIMITS = {
    "rekognition": ImageLimits(),
    "google": ImageLimits(max_bytes=7_340_032, min_side=1, max_side=10000,
                          formats=("JPEG", "PNG", "GIF", "BMP", "WEBP", "ICO", "TIFF")),
    "azure": ImageLimits(max_bytes=20_000_000, min_side=50, max_side=16000,
                         formats=("JPEG", "PNG", "GIF", "BMP", "WEBP", "ICO", "TIFF", "MPO")),
    "clip": ImageLimits(max_bytes=2**40, min_side=1, max_side=2**20,
                        formats=("JPEG", "PNG", "GIF", "BMP", "WEBP", "ICO", "TIFF", "MPO")),
}


@dataclass(frozen=True)
class SimulationRates:
    """How often the simulated Rekognition agrees with the demo corpus's scene truth."""

    crowd_recall: float = 0.89
    crowd_false_positive_rate: float = 0.18
    celebrity_recall: float = 0.86
    celebrity_false_positive_rate: float = 0.0


@dataclass(frozen=True)
class GoogleRates:
    """How often simulated Google label detection returns Protest (at score >= 0.5)."""

    protest_recall: float = 0.75
    protest_false_positive_rate: float = 0.06


@dataclass(frozen=True)
class AzureRates:
    """How often simulated Azure tags return crowd (at confidence >= 0.5)."""

    crowd_recall: float = 0.62
    crowd_false_positive_rate: float = 0.1


SERVICE_RATES = {"rekognition": SimulationRates, "google": GoogleRates, "azure": AzureRates}


@dataclass(frozen=True)
class ClientSettings:
    """How the live client reaches the service."""

    region: str | None = "us-east-1"
    profile: str | None = None
    endpoint_url: str | None = None
    max_attempts: int = 8
    max_in_flight: int = 4


@dataclass(frozen=True)
class FetchSettings:
    """Everything the fetch step of one service needs: backend, cache, client, cost guard, request."""

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
    simulation: Any = field(default_factory=SimulationRates)
    simulated_celebrity: str = ""
    seed: int = 2020
    service: str = "rekognition"
    service_request: Mapping[str, Any] = field(default_factory=dict)  # the other services' request
    options: Mapping[str, Any] = field(default_factory=dict)  # the service's config section, for its client

    @property
    def key(self) -> str:
        """The config key of this service's settings, for messages."""
        return "autotag" if self.service == "rekognition" else f"autotag.{self.service}"

    @property
    def live_backend(self) -> str:
        return LIVE_BACKEND[self.service]

    @property
    def random_weights(self) -> bool:
        return self.service == "clip" and self.options.get("weights") == "random"

    @property
    def simulated(self) -> bool:
        """Simulated responses, or a CLIP model with random weights: neither is a real tagger's answer."""
        return self.backend == "simulated" or self.random_weights

    @property
    def free(self) -> bool:
        """A local tagger: nothing is billed and a stale response is simply computed again."""
        return self.service == "clip"

    @property
    def billed(self) -> bool:
        return self.backend == self.live_backend and not self.free

    @property
    def cache_root(self) -> Path:
        """Simulated responses live apart from real ones, so neither is ever taken for the other."""
        return Path(self.cache_dir) / "simulated" if self.simulated else Path(self.cache_dir)

    def simulation_signature(self) -> dict[str, Any] | None:
        """What a simulated response depends on besides the image; None for real backends."""
        if not self.simulated:
            return None
        if self.random_weights:
            return {"weights": "random", "seed": self.seed}
        if self.service == "rekognition":
            return {**asdict(self.simulation), "seed": self.seed, "celebrity": self.simulated_celebrity}
        return {**asdict(self.simulation), "seed": self.seed}

    def request_parameters(self, api: str) -> dict[str, Any]:
        """Parameters sent with every call of `api` besides the image (part of the cache record)."""
        if api == "detect_labels":
            return dict(self.detect_labels_request)
        if api == "recognize_celebrities":
            return {}
        return dict(self.service_request)


def enabled_services(config: Mapping[str, Any]) -> list[str]:
    """The taggers the config compares, in the order of SERVICES."""
    chosen = config.get("autotag", {}).get("services", ["rekognition"])
    return [service for service in SERVICES if service in chosen]


def service_section(config: Mapping[str, Any], service: str) -> Mapping[str, Any]:
    """A service's config section (Rekognition's keys sit at the top of `autotag:`)."""
    section = config.get("autotag", {})
    return section if service == "rekognition" else section.get(service, {})


def _limits(section: Mapping[str, Any], service: str) -> ImageLimits:
    base = SERVICE_LIMITS[service]
    given = section.get("image_limits", {})
    return ImageLimits(
        max_bytes=int(given.get("max_bytes", base.max_bytes)),
        min_side=int(given.get("min_side", base.min_side)),
        max_side=int(given.get("max_side", base.max_side)),
        formats=base.formats,
        jpeg_quality=int(given.get("jpeg_quality", base.jpeg_quality)),
    )


def fetch_settings(config: Mapping[str, Any], service: str = "rekognition") -> FetchSettings:
    """Build one service's fetch settings from the whole (schema-validated) workflow config."""
    check_autotag_config(config)
    if service != "rekognition":
        return _service_settings(config, service)
    section = config.get("autotag", {})
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
        image_limits=_limits(section, "rekognition"),
        simulation=SimulationRates(**section.get("simulation", {})),
        simulated_celebrity=section.get("celebrity_comparison", {}).get("name", ""),
        seed=int(config.get("seed", 2020)),
    )


def _service_request(service: str, section: Mapping[str, Any]) -> dict[str, Any]:
    """What a call sends besides the image, in the service's own terms."""
    if service == "google":
        return {"features": [{"type": "LABEL_DETECTION", "maxResults": int(section.get("max_results", 50)),
                              "model": section.get("model", "builtin/stable")}]}
    if service == "azure":
        return {"features": ["tags"], "language": section.get("language", "en"),
                "model-version": section.get("model_version", "latest")}
    return clip_request(section)


def clip_checkpoint_path(section: Mapping[str, Any]) -> Path | None:
    """The checkpoint CLIP loads: the fetched copy of a named open_clip checkpoint, a file of the user's, or
    none (random weights). The fetched copy's name is fixed, so that finding it needs no open_clip import."""
    weights = section.get("weights", "pretrained")
    if weights == "random":
        return None
    if weights == "pretrained":
        return (Path(section.get("weights_cache", "resources/weights")) / "open_clip" / section.get("model", "ViT-B-32")
                / section.get("pretrained", "openai") / "checkpoint.pt")
    return Path(weights)


def clip_request(section: Mapping[str, Any]) -> dict[str, Any]:
    """What a CLIP score depends on besides the image: model, weights (with their checksum), size, vocabulary."""
    weights = section.get("weights", "pretrained")
    checksum = section.get("checkpoint_sha256")
    path = clip_checkpoint_path(section)
    if checksum is None and path is not None and path.is_file():
        checksum = file_sha256(path)  # unpinned: the file at hand, so that a changed file is noticed
    return {
        "model": section.get("model", "ViT-B-32"),
        "weights": weights if weights == "random" else (
            f"pretrained:{section.get('pretrained', 'openai')}" if weights == "pretrained" else "file"),
        "checkpoint_sha256": None if weights == "random" else checksum,
        "image_size": section.get("image_size"),
        "vocabulary": list(section.get("vocabulary", [])),
    }


def _service_settings(config: Mapping[str, Any], service: str) -> FetchSettings:
    section = service_section(config, service)
    top = config.get("autotag", {})
    api = LABEL_API[service]
    rates = SERVICE_RATES.get(service)
    client = ClientSettings(
        region=None,
        endpoint_url=section.get("endpoint"),
        max_attempts=int(section.get("max_attempts", 8)),
        max_in_flight=int(section.get("max_in_flight", 4)),
    )
    return FetchSettings(
        backend=section.get("backend", "replay"),
        apis=(api,),
        cache_dir=top.get("cache_dir", FetchSettings.cache_dir),
        client=client,
        max_calls=int(section.get("max_calls", 2000)),
        price_per_call={api: float(section.get("price_per_call", 0.0))},
        detect_labels_request={},
        image_limits=_limits(section, service),
        simulation=rates(**section.get("simulation", {})) if rates else None,
        seed=int(config.get("seed", 2020)),
        service=service,
        service_request=_service_request(service, section),
        options=dict(section),
    )


def check_autotag_config(config: Mapping[str, Any]) -> None:
    """Reject combinations the schema allows but the step cannot run."""
    section = config.get("autotag", {})
    generated = config.get("demo", {}).get("generate", True)
    services = enabled_services(config)
    if not services:
        raise ConfigError(f"autotag.services is empty; choose one or more of {', '.join(SERVICES)}")
    for service in services:
        part = service_section(config, service)
        backend = part.get("backend", "simulated" if service == "rekognition" else "replay")
        key = "autotag" if service == "rekognition" else f"autotag.{service}"
        if backend not in SERVICE_BACKENDS[service]:
            raise ConfigError(f"{key}.backend is '{backend}'; use one of {', '.join(SERVICE_BACKENDS[service])}")
        if backend == "simulated" and not generated:
            raise ConfigError(
                f"{key}.backend: simulated only makes sense on the generated demo corpus (demo.generate: true); "
                f"for your own images use backend {LIVE_BACKEND[service]} (live calls to {SERVICE_TITLES[service]}) "
                "or replay (cached responses)"
            )
    clip = service_section(config, "clip")
    if "clip" in services and "label_comparison" in clip:
        proxy = clip["label_comparison"].get("label")
        if proxy and proxy not in clip.get("vocabulary", []):
            raise ConfigError(
                f"autotag.clip.label_comparison.label '{proxy}' is not in autotag.clip.vocabulary; add it there "
                "(CLIP only scores the prompts it is given)"
            )
    if "rekognition" not in services:
        return
    apis = section.get("apis", ["detect_labels", "recognize_celebrities"])
    unknown = [api for api in apis if API_SERVICE.get(api) != "rekognition"]
    if unknown or not apis:
        raise ConfigError(f"autotag.apis {apis}: choose one or more of detect_labels, recognize_celebrities")
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
# Keys of a service section that do not change its responses (comparisons and figures read them).
NOT_FETCH_KEYS = ("label_comparison", "top_labels_min_confidence")


def fetch_config(config: Mapping[str, Any], service: str = "rekognition") -> dict[str, Any]:
    """The part of the config one service's fetch step reads, so that other changes do not rerun it."""
    section = config.get("autotag", {})
    base = {
        "seed": config.get("seed"),
        "demo": {"generate": config.get("demo", {}).get("generate", True)},
        "data": {"metadata": config.get("data", {}).get("metadata")},
    }
    if service != "rekognition":
        part = {key: value for key, value in service_section(config, service).items() if key not in NOT_FETCH_KEYS}
        subset = {"services": [service], "cache_dir": section.get("cache_dir"), service: part}
        if part.get("backend") == "simulated":
            # The simulation draws from the manual labels the Rekognition comparison names.
            subset["label_comparison"] = {"manual_column": section.get("label_comparison", {}).get("manual_column")}
            subset["celebrity_comparison"] = {"manual_column": section.get("celebrity_comparison", {}).get("manual_column")}
        return {**base, "autotag": subset}
    subset = {key: section[key] for key in FETCH_KEYS if key in section}
    subset["services"] = ["rekognition"]
    if section.get("backend") == "simulated":
        # The simulation draws from the manual labels and names the celebrity it recognises.
        subset["label_comparison"] = {"manual_column": section.get("label_comparison", {}).get("manual_column")}
        subset["celebrity_comparison"] = {
            key: section.get("celebrity_comparison", {}).get(key) for key in ("name", "manual_column")
        }
    return {**base, "autotag": subset}
