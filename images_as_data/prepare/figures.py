"""Figures 4.2 (resizing options) and 4.3 (augmentation) drawn from one corpus working image."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import torch
from PIL import Image
from torchvision.transforms import v2

from images_as_data.common.atomic import save_figure
from images_as_data.common.plotting import plt
from images_as_data.common.tables import read_table

MODEL_SIZE = 224  # input side of ResNet-18 (book Section 4.2)
RESIZE_SIDE = 256  # the book's validation transform: Resize(256), then CenterCrop(224)


def pick_example_image(manifest: pd.DataFrame) -> Path:
    """The working image with the widest aspect ratio (ties: smallest image_id), to show resizing clearly."""
    if manifest.empty:
        raise ValueError("the working manifest lists no images; Figures 4.2 and 4.3 need one corpus image")
    frame = manifest.assign(aspect=pd.to_numeric(manifest["width"]) / pd.to_numeric(manifest["height"]).clip(lower=1))
    best = frame.sort_values(["aspect", "image_id"], ascending=[False, True]).iloc[0]
    return Path(best["path"])


def _seeded(transform: v2.Transform, image: Image.Image, seed: int) -> Image.Image:
    """Apply a random torchvision transform with its own seed, leaving the global RNG untouched."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return transform(image)


def pad_to_square(image: Image.Image, size: int = MODEL_SIZE) -> Image.Image:
    """Rescale so the longer side is ``size`` (aspect kept), then pad with zeros to a square."""
    scaled = v2.Resize(size=None, max_size=size)(image)
    width, height = scaled.size
    left, top = (size - width) // 2, (size - height) // 2
    return v2.Pad([left, top, size - width - left, size - height - top], fill=0)(scaled)


def resize_options(image: Image.Image, seed: int, size: int = MODEL_SIZE) -> dict[str, Image.Image]:
    """The four ways of getting a square model input shown in the book's Figure 4.2."""
    patch = min(size, *image.size)
    return {
        f"original ({image.width}x{image.height})": image,
        "squish (ignore aspect ratio)": v2.Resize((size, size))(image),
        f"crop ({patch}x{patch} patch)": _seeded(v2.RandomCrop(patch), image, seed),
        "rescale + pad with zeros": pad_to_square(image, size),
        f"rescale ({RESIZE_SIDE}) + centre-crop": v2.Compose([v2.Resize(RESIZE_SIDE), v2.CenterCrop(size)])(image),
    }


def augmentation_examples(
    image: Image.Image, seed: int, n_crops: int = 4, size: int = MODEL_SIZE
) -> dict[str, Image.Image]:
    """Random resized crops (a different patch each epoch) and a horizontal flip (Figure 4.3)."""
    panels = {"original": image}
    crop = v2.RandomResizedCrop(size)
    for index in range(n_crops):
        panels[f"random crop {index + 1}"] = _seeded(crop, image, seed + index)
    panels["horizontal flip"] = v2.RandomHorizontalFlip(p=1.0)(image)
    return panels


def panel_figure(panels: Mapping[str, Image.Image], title: str, ncols: int = 3) -> plt.Figure:
    """Images side by side with their titles."""
    nrows = -(-len(panels) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols, 3.4 * nrows), squeeze=False)
    for axis, (name, image) in zip(axes.flat, panels.items()):
        axis.imshow(image)
        axis.set_title(name, fontsize=10)
    for axis in axes.flat:
        axis.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def write_figures_4_2_4_3(
    manifest_path: str | os.PathLike,
    stem_4_2: str | os.PathLike,
    stem_4_3: str | os.PathLike,
    seed: int,
    dpi: int,
    style: str,
) -> Path:
    """Draw Figures 4.2 and 4.3 from one working image; return the image used."""
    source = pick_example_image(read_table(manifest_path))
    with Image.open(source) as opened:
        image = opened.convert("RGB")
    figures = [
        (stem_4_2, resize_options(image, seed), f"Figure 4.2: resizing to {MODEL_SIZE}x{MODEL_SIZE}"),
        (stem_4_3, augmentation_examples(image, seed), "Figure 4.3: data augmentation"),
    ]
    with plt.style.context(style):
        for stem, panels, title in figures:
            fig = panel_figure(panels, title)
            save_figure(fig, stem, dpi=dpi)
    return source
