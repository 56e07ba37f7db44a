"""Small synthetic image tasks with an obvious visual signal, for tests and benchmarks."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw

# Each class is a shape in a colour on a noisy grey background.
CLASS_LOOKS = {
    "negative": ("square", (40, 90, 220)),
    "positive": ("disc", (220, 50, 40)),
    "triangle": ("triangle", (40, 180, 60)),
    "bar": ("bar", (230, 200, 40)),
}


def draw_example(kind: str, colour: tuple[int, int, int], size: int, rng: np.random.Generator) -> Image.Image:
    background = rng.normal(128, 30, (size, size, 3)).clip(0, 255).astype(np.uint8)
    image = Image.fromarray(background)
    draw = ImageDraw.Draw(image)
    radius = int(size * rng.uniform(0.2, 0.35))
    cx, cy = (int(rng.uniform(radius, size - radius)) for _ in range(2))
    box = (cx - radius, cy - radius, cx + radius, cy + radius)
    if kind == "disc":
        draw.ellipse(box, fill=colour)
    elif kind == "square":
        draw.rectangle(box, fill=colour)
    elif kind == "triangle":
        draw.polygon([(cx, cy - radius), (cx - radius, cy + radius), (cx + radius, cy + radius)], fill=colour)
    else:
        draw.rectangle((cx - radius, cy - radius // 3, cx + radius, cy + radius // 3), fill=colour)
    return image


def write_shape_task(
    folder: str | os.PathLike,
    classes: list[str],
    n_per_split: dict[str, int],
    size: int = 48,
    seed: int = 0,
) -> pd.DataFrame:
    """Write PNGs for each class and split under `folder`; return a split table (image_id, path, label, split, cluster_id)."""
    rng = np.random.default_rng(seed)
    rows = []
    for split, count in n_per_split.items():
        for label in classes:
            kind, colour = CLASS_LOOKS[label]
            for index in range(count):
                image_id = f"{split}/{label}/{index:04d}.png"
                path = Path(folder) / image_id
                path.parent.mkdir(parents=True, exist_ok=True)
                # Rectangular images exercise the resize-and-crop path of the store.
                draw_example(kind, colour, size, rng).resize((size + size // 4, size)).save(path)
                rows.append(
                    {"image_id": image_id, "path": str(path), "label": label, "split": split, "cluster_id": image_id}
                )
    return pd.DataFrame(rows)
