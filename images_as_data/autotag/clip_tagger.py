"""Zero-shot tagging with CLIP (open_clip) on the researcher's own vocabulary, run locally.

Each vocabulary entry is a text prompt ("a photo of a protest"). An image's score for an
entry is CLIP's zero-shot probability: the softmax, over the vocabulary, of the scaled cosine
similarities between the image's and the prompts' embeddings (x 100 in the tidy tables).
Images are scored in batches on the GPU when one is there (or asked for), else on the CPU.

Weights (`autotag.clip.weights`): `pretrained` loads a named open_clip checkpoint that the
`autotag_clip_weights` localrule fetched once into `autotag.clip.weights_cache` and checked
against `autotag.clip.checkpoint_sha256`; a path loads a checkpoint file of one's own (also
checked when a checksum is given); `random` initialises the model from the seed, for the
demo and CI, where no weights can be downloaded: its scores mean nothing, and every record
and output says so (marked simulated, model version "... random init").
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import open_clip
import torch
import torch.nn.functional as F
from PIL import Image

from images_as_data.autotag.fetch import run_fetch
from images_as_data.autotag.images import PreparedImage
from images_as_data.autotag.settings import FetchSettings, clip_checkpoint_path
from images_as_data.common.atomic import atomic_path
from images_as_data.common.config import ConfigError
from images_as_data.common.hashing import file_sha256

log = logging.getLogger(__name__)

DEFAULT_HF_FILENAME = "open_clip_pytorch_model.bin"
TORCH_SUFFIXES = (".pt", ".pth", ".bin")


class ChecksumMismatch(RuntimeError):
    """A checkpoint's SHA-256 differs from the pinned one."""


def pretrained_config(model: str, pretrained: str) -> dict[str, Any]:
    """open_clip's registry entry for a named checkpoint; unknown names are a config error."""
    if model not in open_clip.list_models():
        raise ConfigError(f"autotag.clip.model '{model}' is not an open_clip model; see open_clip.list_models()")
    config = open_clip.get_pretrained_cfg(model, pretrained)
    if not config:
        tags = ", ".join(open_clip.list_pretrained_tags_by_model(model)) or "none"
        raise ConfigError(f"autotag.clip.pretrained: open_clip has no weights '{pretrained}' for {model}; available: {tags}")
    return config


def checkpoint_source(model: str, pretrained: str, url: str | None = None) -> str:
    """Where a named checkpoint comes from: `url` (a mirror) or the registry's URL, else its Hugging Face file.

    The registry's URL is preferred: OpenAI's and the open_clip releases' URLs name the file's
    SHA-256, so the pin can be checked against what the publisher announced.
    """
    config = pretrained_config(model, pretrained)
    if url:
        return url
    if config.get("url"):
        return config["url"]
    repo, filename = os.path.split(config["hf_hub"])  # "org/repo/" means the default file name
    return f"hf://{repo}/{filename or DEFAULT_HF_FILENAME}"


def _download(source: str, target: Path) -> None:
    if source.startswith("hf://"):
        # open_clip's own Hugging Face download (its dependency), asked for exactly the
        # registry's file: its safetensors substitute would be another file with another checksum.
        repo, filename = source[len("hf://"):].rsplit("/", 1)
        with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
            shutil.copyfile(open_clip.pretrained.hf_hub_download(repo_id=repo, filename=filename, cache_dir=scratch), target)
        return
    with urllib.request.urlopen(source, timeout=60) as answer, open(target, "wb") as out:
        shutil.copyfileobj(answer, out, length=1 << 20)


def verify_checkpoint(path: Path, expected: str | None, key: str = "autotag.clip.checkpoint_sha256") -> str:
    """The file's SHA-256, which must equal `expected` when one is pinned."""
    actual = file_sha256(path)
    if expected and actual != expected.lower():
        raise ChecksumMismatch(
            f"{path} has SHA-256 {actual} but {key} pins {expected}: the weights are not the pinned ones. "
            "Delete the file to fetch it again, or pin the new checksum if the change is intended"
        )
    return actual


def fetch_checkpoint(options: Mapping[str, Any]) -> Path:
    """The localrule: download a named open_clip checkpoint once and check it against the pinned checksum."""
    model, pretrained = options.get("model", "ViT-B-32"), options.get("pretrained", "openai")
    target = clip_checkpoint_path(options)
    source = checkpoint_source(model, pretrained, options.get("checkpoint_url"))
    if not source.split("?")[0].endswith(TORCH_SUFFIXES):
        raise ConfigError(
            f"the {model}/{pretrained} checkpoint at {source} is not a PyTorch file ({', '.join(TORCH_SUFFIXES)}); "
            "download it yourself and set autotag.clip.weights to its path"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    log.info("fetching %s %s weights from %s", model, pretrained, source)
    with atomic_path(target) as partial:
        _download(source, Path(partial))
        checksum = verify_checkpoint(Path(partial), options.get("checkpoint_sha256"))
    if not options.get("checkpoint_sha256"):
        log.warning("autotag.clip.checkpoint_sha256 is not set; pin it for reproducibility: %s", checksum)
    log.info("%s %s weights cached at %s (sha256 %s)", model, pretrained, target, checksum)
    return target


def is_torchscript(path: Path) -> bool:
    """OpenAI's original checkpoints are TorchScript archives, which torch.load reads only without weights_only."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any(name.endswith("constants.pkl") for name in archive.namelist())


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"autotag.clip.device is {device} but torch sees no CUDA device; use cpu or auto")
    return torch.device(device)


@dataclass
class LoadedClip:
    """A CLIP model ready to score: its preprocessing and the vocabulary's text embeddings."""

    model: torch.nn.Module
    preprocess: Any
    text_features: torch.Tensor
    vocabulary: list[str]
    version: str
    device: torch.device


def load_clip(options: Mapping[str, Any], vocabulary: list[str], seed: int) -> LoadedClip:
    """Build the model, load its weights (checked against the pinned checksum) and embed the vocabulary."""
    model_name = options.get("model", "ViT-B-32")
    weights = options.get("weights", "pretrained")
    device = resolve_device(options.get("device", "auto"))
    if device.type == "cpu":
        torch.set_num_threads(int(options.get("threads", 2)))
    extra: dict[str, Any] = {}
    if options.get("image_size"):
        extra["force_image_size"] = int(options["image_size"])
    tag = options.get("pretrained")
    if weights == "random":
        torch.manual_seed(seed)
        checkpoint, version = None, f"open_clip {model_name} random init (seed {seed})"
    else:
        checkpoint = clip_checkpoint_path(options)
        if not checkpoint.is_file():
            raise FileNotFoundError(f"CLIP checkpoint {checkpoint} does not exist (autotag.clip.weights)")
        checksum = verify_checkpoint(checkpoint, options.get("checkpoint_sha256"))
        source = f"{tag}" if weights == "pretrained" else f"file {checkpoint.name}"
        version = f"open_clip {model_name} {source} sha256:{checksum[:12]}"
        registry = open_clip.get_pretrained_cfg(model_name, tag) if tag else {}
        # A checkpoint file does not say how it was trained: its registry entry (when it is a copy
        # of a named checkpoint) gives the activation and the image normalisation it expects.
        extra["force_quick_gelu"] = bool(registry.get("quick_gelu", False))
        preprocess = {key: registry[key] for key in ("mean", "std", "interpolation", "resize_mode") if key in registry}
        if preprocess:
            extra["force_preprocess_cfg"] = preprocess
    model, _, preprocess = open_clip.create_model_and_transforms(
        model_name, pretrained=str(checkpoint) if checkpoint else None, device=device,
        weights_only=not (checkpoint and is_torchscript(checkpoint)), **extra,
    )
    model.eval()
    tokenizer = open_clip.get_tokenizer(model_name)
    with torch.inference_mode():
        text = F.normalize(model.encode_text(tokenizer(vocabulary).to(device)).float(), dim=-1)
    log.info("CLIP %s on %s, %d vocabulary entries", version, device, len(vocabulary))
    return LoadedClip(model, preprocess, text, vocabulary, version, device)


def score_images(clip: LoadedClip, images: list[PreparedImage]) -> list[dict[str, Any]]:
    """One response per image: every vocabulary entry with its zero-shot probability and cosine similarity."""
    size = clip.model.visual.image_size
    side = 2 * max(size) if isinstance(size, (tuple, list)) else 2 * int(size)
    pixels = []
    for image in images:
        with Image.open(io.BytesIO(image.data)) as opened:
            # JPEGs decode at a reduced scale that still leaves twice the model's input on the
            # short side: the result after CLIP's own resize barely changes, the decoding is
            # several times faster for photographs far larger than the input.
            opened.draft("RGB", (side, side))
            pixels.append(clip.preprocess(opened.convert("RGB")))
    with torch.inference_mode():
        features = F.normalize(clip.model.encode_image(torch.stack(pixels).to(clip.device)).float(), dim=-1)
        similarity = features @ clip.text_features.T
        probability = (clip.model.logit_scale.exp().float() * similarity).softmax(dim=-1)
    responses = []
    for row_probability, row_similarity in zip(probability.cpu().tolist(), similarity.cpu().tolist()):
        labels = sorted(
            ({"label": label, "score": p, "similarity": s}
             for label, p, s in zip(clip.vocabulary, row_probability, row_similarity)),
            key=lambda entry: -entry["score"],
        )
        responses.append({"modelVersion": clip.version, "labels": labels})
    return responses


@dataclass
class ClipBackend:
    """Local zero-shot scoring in batches; the model is loaded at the first batch, so a cached run loads nothing."""

    options: Mapping[str, Any]
    seed: int
    batch_size: int = 32
    name: str = "local"
    _clip: LoadedClip | None = field(default=None, repr=False)

    @classmethod
    def from_settings(cls, settings: FetchSettings) -> "ClipBackend":
        return cls(settings.options, settings.seed, int(settings.options.get("batch_size", 32)))

    @property
    def region(self) -> str | None:
        return None

    @property
    def endpoint(self) -> str:
        return f"local:{self._clip.device if self._clip else self.options.get('device', 'auto')}"

    def call_batch(self, api: str, images: list[PreparedImage], parameters: dict[str, Any]) -> list[dict[str, Any]]:
        if self._clip is None:
            self._clip = load_clip(self.options, list(parameters["vocabulary"]), self.seed)
        return score_images(self._clip, images)


def run_clip(sample_csv, config, estimate_csv, records_jsonl):
    """The CLIP rule: estimate, score what is not cached, write the sample's records."""
    return run_fetch(sample_csv, config, estimate_csv, records_jsonl, service="clip", live=ClipBackend.from_settings)


def run_fetch_clip_weights(options: Mapping[str, Any]) -> None:
    """The weights localrule."""
    fetch_checkpoint(options)
