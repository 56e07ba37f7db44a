"""Images decoded once into a uint8 tensor store, and augmentation done on batched tensors.

The store holds every image of a task resized so that its shorter side equals the store
size and centre-cropped to a square (PIL's ImageOps.fit), as N x 3 x S x S uint8. With
S = 256 and a 224 crop, evaluation images are exactly the book's Resize(256) +
CenterCrop(224); training crops (RandomResizedCrop) are drawn from the stored square.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from PIL import Image, ImageOps
from torchvision.ops import roi_align
from torchvision.transforms.v2 import functional as TF

from ..common.atomic import atomic_path
from ..common.hashing import file_sha256

SPLITS = ("train", "val", "test")
SPLIT_COLUMNS = ("image_id", "path", "label", "split")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CROP_SCALE = (0.08, 1.0)  # torchvision RandomResizedCrop defaults
CROP_RATIO = (3 / 4, 4 / 3)


class DataError(ValueError):
    """Training data that cannot be used; the message names the file, row or class to fix."""


@dataclass
class TensorStore:
    """All images of one task, decoded once, with their labels and splits."""

    images: torch.Tensor  # N x 3 x S x S, uint8
    labels: torch.Tensor  # N, int64 index into classes
    image_ids: list[str]
    paths: list[str]
    splits: list[str]
    classes: list[str]
    source_hash: str  # sha256 of the split CSV the store was built from

    @property
    def size(self) -> int:
        return int(self.images.shape[-1])

    def indices(self, split: str) -> torch.Tensor:
        return torch.tensor([i for i, s in enumerate(self.splits) if s == split], dtype=torch.long)

    def save(self, path: str | os.PathLike) -> None:
        with atomic_path(path) as tmp:
            torch.save(vars(self), tmp)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "TensorStore":
        return cls(**torch.load(path, map_location="cpu", weights_only=True))



def read_split_table(path: str | os.PathLike) -> pd.DataFrame:
    """The split CSV, checked: required columns, known split names, no empty labels."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [column for column in SPLIT_COLUMNS if column not in table.columns]
    if missing:
        raise DataError(f"{path}: missing columns {missing} (expected {list(SPLIT_COLUMNS)})")
    if table.empty:
        raise DataError(f"{path}: no images")
    for row, (split, label) in enumerate(zip(table["split"], table["label"]), start=2):
        if split not in SPLITS:
            raise DataError(f"{path} line {row}: split '{split}' is not one of {SPLITS}")
        if not label:
            raise DataError(f"{path} line {row}: empty label")
    return table


def check_classes(labels: list[str], splits: list[str], classes: list[str], source: str) -> None:
    """Stop when a task has fewer than two classes or a class is missing from a split."""
    present = sorted(set(labels))
    if len(present) < 2:
        raise DataError(f"{source}: every image has class {present}; a classifier needs at least two classes")
    for split in ("train", "val"):
        if split not in splits:
            raise DataError(f"{source}: split '{split}' has no images")
    for split in SPLITS:
        in_split = {label for label, s in zip(labels, splits) if s == split}
        if split not in splits:
            continue
        if len(in_split) < 2:
            raise DataError(f"{source}: split '{split}' has only class {sorted(in_split)}; it needs at least two")
        for name in classes:
            if name not in in_split:
                raise DataError(f"{source}: class '{name}' has no images in split '{split}'")


def class_names(labels: list[str]) -> list[str]:
    """Classes in a stable order (binary tasks: negative, positive)."""
    return sorted(set(labels))


def load_square_image(path: str | os.PathLike, size: int) -> torch.Tensor:
    """Decode an image, resize its shorter side to `size` and centre-crop: 3 x size x size uint8."""
    with Image.open(path) as image:
        image.draft("RGB", (size, size))  # lets JPEG decode at a reduced scale
        image = ImageOps.exif_transpose(image).convert("RGB")
        square = ImageOps.fit(image, (size, size), method=Image.Resampling.BILINEAR)
    return torch.from_numpy(np.asarray(square).copy()).permute(2, 0, 1)


def decode_images(paths: list[str], size: int, threads: int = 1) -> list[torch.Tensor | Exception]:
    """Decode many images in parallel; a failure is returned in place of its tensor."""

    def decode(path: str) -> torch.Tensor | Exception:
        try:
            return load_square_image(path, size)
        except Exception as error:  # reported per file by the caller
            return error

    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        return list(pool.map(decode, paths))


def build_store(split_csv: str | os.PathLike, size: int, threads: int = 1) -> TensorStore:
    """Read a task's split CSV and decode its images once into a TensorStore."""
    table = read_split_table(split_csv)
    labels = table["label"].tolist()
    splits = table["split"].tolist()
    classes = class_names(labels)
    check_classes(labels, splits, classes, str(split_csv))
    decoded = decode_images(table["path"].tolist(), size, threads)
    failures = [
        f"{image_id} ({path}): {result}"
        for image_id, path, result in zip(table["image_id"], table["path"], decoded)
        if isinstance(result, Exception)
    ]
    if failures:
        raise DataError(f"{split_csv}: {len(failures)} image(s) cannot be read: " + "; ".join(failures[:10]))
    return TensorStore(
        images=torch.stack(decoded),  # type: ignore[arg-type]
        labels=torch.tensor([classes.index(label) for label in labels], dtype=torch.long),
        image_ids=table["image_id"].tolist(),
        paths=table["path"].tolist(),
        splits=splits,
        classes=classes,
        source_hash=file_sha256(split_csv),
    )


def normalise(images: torch.Tensor) -> torch.Tensor:
    """uint8-range floats to ImageNet-normalised floats (book Section 4.2)."""
    return TF.normalize(images / 255.0, IMAGENET_MEAN, IMAGENET_STD)


def random_crop_boxes(n: int, size: int, generator: torch.Generator, attempts: int = 10) -> torch.Tensor:
    """RandomResizedCrop boxes (x1, y1, x2, y2) for n square images, one per image.

    Like torchvision, each image tries `attempts` (scale, ratio) draws and keeps the first
    that fits; the rare image with no fitting draw uses the whole image.
    """
    area = size * size * torch.empty(n, attempts).uniform_(*CROP_SCALE, generator=generator)
    log_ratio = torch.empty(n, attempts).uniform_(*np.log(CROP_RATIO), generator=generator)
    width = torch.sqrt(area * torch.exp(log_ratio))
    height = torch.sqrt(area / torch.exp(log_ratio))
    fits = (width <= size) & (height <= size)
    first = torch.argmax(fits.int(), dim=1)
    rows = torch.arange(n)
    width = torch.where(fits.any(dim=1), width[rows, first], torch.full((n,), float(size)))
    height = torch.where(fits.any(dim=1), height[rows, first], torch.full((n,), float(size)))
    x1 = torch.rand(n, generator=generator) * (size - width)
    y1 = torch.rand(n, generator=generator) * (size - height)
    return torch.stack([x1, y1, x1 + width, y1 + height], dim=1)


def augment_batch(images: torch.Tensor, crop: int, generator: torch.Generator) -> torch.Tensor:
    """Training transform on a uint8 batch: per-image random resized crop, flip (p=0.5), normalise.

    Random numbers come from `generator` on the CPU, so results do not depend on the device.
    """
    n, size = images.shape[0], images.shape[-1]
    boxes = random_crop_boxes(n, size, generator)
    flips = torch.rand(n, generator=generator) < 0.5
    rois = torch.cat([torch.arange(n, dtype=boxes.dtype)[:, None], boxes], dim=1).to(images.device)
    crops = roi_align(images.float(), rois, output_size=crop, aligned=True)
    flips = flips.to(images.device)[:, None, None, None]
    return normalise(torch.where(flips, crops.flip(-1), crops))


def eval_batch(images: torch.Tensor, crop: int) -> torch.Tensor:
    """Evaluation transform on a uint8 batch: centre crop and normalise."""
    return normalise(TF.center_crop(images, [crop, crop]).float())
