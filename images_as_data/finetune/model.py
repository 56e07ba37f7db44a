"""Backbones from torchvision with a new k-way output layer, and where their weights come from."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn
from torchvision.models import get_model, get_model_weights
from torchvision.models._api import WeightsEnum

# The backbones of the book's Table 4.1, by torchvision name.
BACKBONES = (
    "alexnet",
    "vgg11", "vgg13", "vgg16", "vgg19",
    "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn",
    "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
    "squeezenet1_0", "squeezenet1_1",
    "densenet121", "densenet169", "densenet201", "densenet161",
    "inception_v3",
)  # fmt: skip

# `imagenet` means the weights the book used (torchvision's original `pretrained=True`).
IMAGENET_VARIANT = "IMAGENET1K_V1"
HEAD_INIT_SD = 0.01


class ModelError(ValueError):
    """A model that cannot be built as configured; the message names what to fix."""


def check_backbone(backbone: str) -> None:
    if backbone not in BACKBONES:
        raise ModelError(f"finetune.backbone: unknown backbone '{backbone}'; choose one of {', '.join(BACKBONES)}")


def imagenet_weights(backbone: str, weights: str = "imagenet") -> WeightsEnum:
    """The torchvision weights enum member for `imagenet` or `imagenet:<VARIANT>`."""
    check_backbone(backbone)
    variant = weights.partition(":")[2] or IMAGENET_VARIANT
    enum = get_model_weights(backbone)
    try:
        return enum[variant]
    except KeyError:
        raise ModelError(
            f"finetune.weights: {backbone} has no ImageNet weights '{variant}'; "
            f"available: {', '.join(member.name for member in enum)}"
        ) from None


def is_imagenet(weights: str) -> bool:
    return weights == "imagenet" or weights.startswith("imagenet:")


def cached_weights_path(backbone: str, cache_dir: str | os.PathLike, weights: str = "imagenet") -> Path:
    """Where torch.hub keeps the file under a TORCH_HOME-style cache folder (`<cache>/hub/checkpoints`)."""
    url = imagenet_weights(backbone, weights).url
    return Path(cache_dir) / "hub" / "checkpoints" / os.path.basename(url)


def fetch_imagenet_weights(backbone: str, cache_dir: str | os.PathLike, weights: str = "imagenet") -> Path:
    """Download the ImageNet weights once into the cache (checking torchvision's hash)."""
    target = cached_weights_path(backbone, cache_dir, weights)
    enum = imagenet_weights(backbone, weights)
    try:
        enum.get_state_dict(model_dir=str(target.parent), progress=False, check_hash=True, weights_only=True)
    except OSError as error:  # URLError, timeouts, refused connections: no usable internet here
        raise ModelError(
            f"cannot download the ImageNet weights of {backbone} from {enum.url} ({type(error).__name__}: {error}). "
            f"Run once where the internet can be reached (the rule fetch_weights is local: on a cluster, the "
            f"login node), or copy that file to {target}, or set finetune.weights to none (random "
            "initialisation) or to the path of a state_dict file"
        ) from error
    return target


def head_name(model: nn.Module) -> str:
    """Dotted name of the layer that produces the class scores."""
    if isinstance(getattr(model, "fc", None), nn.Linear):
        return "fc"
    classifier = getattr(model, "classifier", None)
    if isinstance(classifier, nn.Linear):
        return "classifier"
    if isinstance(classifier, nn.Sequential):
        for index in reversed(range(len(classifier))):
            if isinstance(classifier[index], (nn.Linear, nn.Conv2d)):
                return f"classifier.{index}"
    raise ModelError(f"cannot find the output layer of {type(model).__name__}")


def replace_head(model: nn.Module, num_classes: int) -> nn.Module:
    """Swap the output layer for a k-way one initialised from N(0, 0.01) (book Section 4.1)."""
    name = head_name(model)
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    old = parent.get_submodule(child)
    if isinstance(old, nn.Conv2d):  # SqueezeNet scores classes with a 1x1 convolution
        new: nn.Module = nn.Conv2d(old.in_channels, num_classes, kernel_size=1)
    else:
        new = nn.Linear(old.in_features, num_classes)
    nn.init.normal_(new.weight, mean=0.0, std=HEAD_INIT_SD)
    nn.init.zeros_(new.bias)
    setattr(parent, child, new)
    return model


def load_backbone_state(model: nn.Module, state: dict, source: str) -> None:
    """Load every weight except the output layer (which is replaced); anything else missing is an error."""
    head = head_name(model) + "."
    body = {key: value for key, value in state.items() if not key.startswith(head)}
    try:
        missing, unexpected = model.load_state_dict(body, strict=False)
    except RuntimeError as error:  # shape mismatches raise even when strict=False
        raise ModelError(f"weights file {source} does not fit {type(model).__name__}: {error}") from None
    missing = [key for key in missing if not key.startswith(head)]
    if missing or unexpected:
        raise ModelError(
            f"weights file {source} does not fit {type(model).__name__}: "
            f"missing {missing[:5]}, unexpected {list(unexpected)[:5]}; check finetune.backbone"
        )


def read_weights(backbone: str, weights: str, cache_dir: str | os.PathLike) -> dict | None:
    """The state_dict to start from: None for random init, ImageNet from the cache, or a file."""
    if weights == "none":
        return None
    if is_imagenet(weights):
        path = cached_weights_path(backbone, cache_dir, weights)
        if not path.is_file():
            raise ModelError(
                f"ImageNet weights for {backbone} are not in the cache: {path} is missing; "
                f"run the fetch_weights rule (snakemake {path}) on a machine with internet"
            )
        # Through the weights enum so torchvision resolves the same file it would download.
        return imagenet_weights(backbone, weights).get_state_dict(
            model_dir=str(path.parent), progress=False, map_location="cpu", weights_only=True
        )
    path = Path(weights)
    if not path.is_file():
        raise ModelError(f"finetune.weights: weights file {path} does not exist (use none, imagenet or a path)")
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict):
        raise ModelError(f"finetune.weights: {path} does not hold a state_dict")
    return state


def build_model(
    backbone: str, num_classes: int, weights: str = "none", cache_dir: str | os.PathLike = "resources/weights"
) -> nn.Module:
    """A torchvision backbone, optionally with pretrained weights, ending in a k-way layer."""
    check_backbone(backbone)
    if num_classes < 2:
        raise ModelError(f"a classifier needs at least two classes, got {num_classes}")
    state = read_weights(backbone, weights, cache_dir)
    kwargs: dict = {}
    if backbone == "inception_v3":
        # Pretrained Inception expects its own input rescaling and ships auxiliary-head weights.
        kwargs = {"aux_logits": True, "init_weights": False, "transform_input": is_imagenet(weights)}
    model = get_model(backbone, weights=None, **kwargs)
    if state is not None:
        load_backbone_state(model, state, source=weights)
    if backbone == "inception_v3":
        model.aux_logits = False
        model.AuxLogits = None
    return replace_head(model, num_classes)
