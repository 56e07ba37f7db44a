"""Images decoded once into a uint8 tensor store, and augmentation done on batched tensors.

Two stores (config `finetune.crop_source`):

- ``full_image`` (the book's procedure): each image resized as torchvision's Resize(S)
  does (shorter side S, aspect ratio kept) and kept whole, in an N x 3 x S x W canvas
  padded with zeros, W being the widest image of the task. Portrait images are stored
  transposed (their short side along the canvas rows) so that one canvas height fits every
  image; images wider than ``max_aspect`` x S are scaled down to fit, so a single panorama
  cannot blow up the canvas (their crops then come from fewer pixels). Training crops are
  RandomResizedCrop boxes drawn on the image's whole Resize(S) extent, as the book and the
  authors' code (Resize(256), then RandomSizedCrop(224)) do.
- ``centre_square``: each image resized to shorter side S and centre-cropped to S x S
  (PIL's ImageOps.fit); training crops come from that square only, so the edges of
  non-square images are never trained on. Smaller and faster (bench/README.md).

Evaluation is the book's Resize(S) + CenterCrop(C) in both. Crops of a batch are cut and
resized in one roi_align call on the device that holds the store.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

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
CROP_ATTEMPTS = 10  # draws torchvision tries before falling back to a centre crop
FULL_IMAGE, CENTRE_SQUARE = "full_image", "centre_square"
CROP_SOURCES = (FULL_IMAGE, CENTRE_SQUARE)
DEFAULT_MAX_ASPECT = 3.0


class DataError(ValueError):
    """Training data that cannot be used; the message names the file, row or class to fix."""


@dataclass(frozen=True)
class Geometry:
    """Where each stored image lies in its canvas, per image (CPU tensors).

    ``sizes``: width and height after Resize(S), in the image's own orientation (the frame
    in which crop boxes are drawn); ``scales``: stored pixels per Resize(S) pixel (1 unless
    the image was scaled down to fit the canvas); ``transposed``: rows and columns swapped
    in the canvas. A centre-square store has sizes S x S, scale 1, nothing transposed.
    """

    sizes: torch.Tensor  # N x 2 (width, height), float
    scales: torch.Tensor  # N, float
    transposed: torch.Tensor  # N, bool

    @classmethod
    def square(cls, n: int, size: int) -> "Geometry":
        return cls(torch.full((n, 2), float(size)), torch.ones(n), torch.zeros(n, dtype=torch.bool))

    def __getitem__(self, index) -> "Geometry":
        return Geometry(self.sizes[index], self.scales[index], self.transposed[index])

    def to_canvas(self, boxes: torch.Tensor) -> torch.Tensor:
        """Boxes (x1, y1, x2, y2) drawn on the Resize(S) images -> canvas coordinates."""
        scaled = boxes * self.scales[:, None]
        return torch.where(self.transposed[:, None], scaled[:, [1, 0, 3, 2]], scaled)


@dataclass
class Decoded:
    """One image as it goes into the store: pixels in canvas orientation and its geometry."""

    pixels: torch.Tensor  # 3 x h x w uint8
    size: tuple[int, int]  # width, height after Resize(S), own orientation
    scale: float = 1.0
    transposed: bool = False


@dataclass
class TensorStore:
    """All images of one task, decoded once, with their labels, splits and geometry."""

    images: torch.Tensor  # N x 3 x S x W uint8 (W = S for centre_square)
    labels: torch.Tensor  # N, int64 index into classes
    image_ids: list[str]
    paths: list[str]
    splits: list[str]
    classes: list[str]
    source_hash: str  # sha256 of the split CSV the store was built from
    crop_source: str = CENTRE_SQUARE
    max_aspect: float = DEFAULT_MAX_ASPECT
    sizes: torch.Tensor | None = None  # see Geometry; None: a centre-square store
    scales: torch.Tensor | None = None
    transposed: torch.Tensor | None = None
    geometry: Geometry = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.sizes is None:
            square = Geometry.square(len(self.image_ids), self.size)
            self.sizes, self.scales, self.transposed = square.sizes, square.scales, square.transposed
        self.geometry = Geometry(self.sizes, self.scales, self.transposed)

    @property
    def size(self) -> int:
        """S: the shorter side every image was resized to (the canvas height)."""
        return int(self.images.shape[-2])

    def indices(self, split: str) -> torch.Tensor:
        return torch.tensor([i for i, s in enumerate(self.splits) if s == split], dtype=torch.long)

    def description(self) -> dict:
        """What about the store changes a run's result (for the run's config hash and summary)."""
        return {"store_size": self.size, "crop_source": self.crop_source, "max_aspect": self.max_aspect}

    def save(self, path: str | os.PathLike) -> None:
        state = {key: value for key, value in vars(self).items() if key != "geometry"}
        with atomic_path(path) as tmp:
            torch.save(state, tmp)

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


def resized_size(width: int, height: int, size: int) -> tuple[int, int]:
    """(width, height) after torchvision's Resize(size): shorter side `size`, the longer one
    scaled alike and truncated, as torchvision does."""
    if width <= height:
        return size, int(size * height / width)
    return int(size * width / height), size


def _open_rgb(path: str | os.PathLike, size: int) -> Image.Image:
    with Image.open(path) as image:
        image.draft("RGB", (size, size))  # lets JPEG decode at a reduced scale, never below size
        return ImageOps.exif_transpose(image).convert("RGB")


def _to_tensor(image: Image.Image) -> torch.Tensor:
    return torch.from_numpy(np.asarray(image).copy()).permute(2, 0, 1)


def load_square_image(path: str | os.PathLike, size: int) -> Decoded:
    """Decode an image, resize its shorter side to `size` and centre-crop: 3 x size x size uint8."""
    square = ImageOps.fit(_open_rgb(path, size), (size, size), method=Image.Resampling.BILINEAR)
    return Decoded(_to_tensor(square), (size, size))


def load_full_image(path: str | os.PathLike, size: int, max_aspect: float = DEFAULT_MAX_ASPECT) -> Decoded:
    """Decode an image and resize it whole as Resize(size) does; portrait images come back
    transposed (short side along the rows). Images longer than max_aspect x size are scaled
    down to that length, and the scale is recorded."""
    image = _open_rgb(path, size)
    width, height = resized_size(*image.size, size)
    scale = min(1.0, math.floor(size * max_aspect) / max(width, height))
    target = (max(1, round(width * scale)), max(1, round(height * scale)))
    pixels = _to_tensor(image.resize(target, Image.Resampling.BILINEAR))
    transposed = height > width
    if transposed:
        pixels = pixels.transpose(1, 2).contiguous()
    return Decoded(pixels, (width, height), scale, transposed)


def decode_images(
    paths: list[str],
    size: int,
    threads: int = 1,
    crop_source: str = FULL_IMAGE,
    max_aspect: float = DEFAULT_MAX_ASPECT,
) -> list[Decoded | Exception]:
    """Decode many images in parallel for a store of `crop_source`; a failure is returned in place of its image."""
    if crop_source not in CROP_SOURCES:
        raise DataError(f"finetune.crop_source '{crop_source}' is not one of {list(CROP_SOURCES)}")

    def decode(path: str) -> Decoded | Exception:
        try:
            if crop_source == CENTRE_SQUARE:
                return load_square_image(path, size)
            return load_full_image(path, size, max_aspect)
        except Exception as error:  # reported per file by the caller
            return error

    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        return list(pool.map(decode, paths))


def assemble(decoded: list[Decoded], size: int) -> tuple[torch.Tensor, Geometry]:
    """Decoded images in one zero-padded N x 3 x size x W canvas, and their geometry."""
    width = max(item.pixels.shape[-1] for item in decoded)
    canvas = torch.zeros(len(decoded), 3, size, width, dtype=torch.uint8)
    for index, item in enumerate(decoded):
        _, height, item_width = item.pixels.shape
        canvas[index, :, :height, :item_width] = item.pixels
    geometry = Geometry(
        torch.tensor([item.size for item in decoded], dtype=torch.float32).reshape(-1, 2),
        torch.tensor([item.scale for item in decoded], dtype=torch.float32),
        torch.tensor([item.transposed for item in decoded], dtype=torch.bool),
    )
    return canvas, geometry


def build_store(
    split_csv: str | os.PathLike,
    size: int,
    threads: int = 1,
    crop_source: str = FULL_IMAGE,
    max_aspect: float = DEFAULT_MAX_ASPECT,
) -> TensorStore:
    """Read a task's split CSV and decode its images once into a TensorStore."""
    table = read_split_table(split_csv)
    labels = table["label"].tolist()
    splits = table["split"].tolist()
    classes = class_names(labels)
    check_classes(labels, splits, classes, str(split_csv))
    decoded = decode_images(table["path"].tolist(), size, threads, crop_source, max_aspect)
    failures = [
        f"{image_id} ({path}): {result}"
        for image_id, path, result in zip(table["image_id"], table["path"], decoded)
        if isinstance(result, Exception)
    ]
    if failures:
        raise DataError(f"{split_csv}: {len(failures)} image(s) cannot be read: " + "; ".join(failures[:10]))
    images, geometry = assemble(decoded, size)  # type: ignore[arg-type]
    return TensorStore(
        images=images,
        labels=torch.tensor([classes.index(label) for label in labels], dtype=torch.long),
        image_ids=table["image_id"].tolist(),
        paths=table["path"].tolist(),
        splits=splits,
        classes=classes,
        source_hash=file_sha256(split_csv),
        crop_source=crop_source,
        max_aspect=float(max_aspect),
        sizes=geometry.sizes,
        scales=geometry.scales,
        transposed=geometry.transposed,
    )


def normalise(images: torch.Tensor) -> torch.Tensor:
    """uint8-range floats to ImageNet-normalised floats (book Section 4.2)."""
    return TF.normalize(images / 255.0, IMAGENET_MEAN, IMAGENET_STD)


def random_crop_boxes(sizes: torch.Tensor, generator: torch.Generator, attempts: int = CROP_ATTEMPTS) -> torch.Tensor:
    """RandomResizedCrop boxes (x1, y1, x2, y2) for images of the given (width, height), one per image.

    As torchvision's RandomResizedCrop.get_params: up to `attempts` draws of an area
    (scale 0.08-1 of the image) and a log-uniform aspect ratio (3/4-4/3), rounded to whole
    pixels; the first that fits is placed uniformly at random; an image with no fitting
    draw gets the largest centred box within the ratio range.
    """
    n = len(sizes)
    width, height = sizes[:, 0:1], sizes[:, 1:2]
    area = width * height * torch.empty(n, attempts).uniform_(*CROP_SCALE, generator=generator)
    ratio = torch.exp(torch.empty(n, attempts).uniform_(*np.log(CROP_RATIO), generator=generator))
    box_w = torch.round(torch.sqrt(area * ratio))
    box_h = torch.round(torch.sqrt(area / ratio))
    fits = (box_w > 0) & (box_w <= width) & (box_h > 0) & (box_h <= height)
    first = torch.argmax(fits.int(), dim=1, keepdim=True)
    found = fits.any(dim=1)
    width, height = width[:, 0], height[:, 0]
    image_ratio = width / height
    fallback_w = torch.where(image_ratio > CROP_RATIO[1], torch.round(height * CROP_RATIO[1]), width)
    fallback_h = torch.where(image_ratio < CROP_RATIO[0], torch.round(width / CROP_RATIO[0]), height)
    box_w = torch.where(found, box_w.gather(1, first)[:, 0], fallback_w)
    box_h = torch.where(found, box_h.gather(1, first)[:, 0], fallback_h)
    u, v = torch.rand(2, n, generator=generator)
    x1 = torch.where(found, torch.floor(u * (width - box_w + 1)), torch.floor((width - box_w) / 2))
    y1 = torch.where(found, torch.floor(v * (height - box_h + 1)), torch.floor((height - box_h) / 2))
    return torch.stack([x1, y1, x1 + box_w, y1 + box_h], dim=1)


def centre_boxes(sizes: torch.Tensor, crop: int) -> torch.Tensor:
    """CenterCrop(crop) boxes on images of the given (width, height), placed as torchvision places them."""
    x1 = torch.round((sizes[:, 0] - crop) / 2)
    y1 = torch.round((sizes[:, 1] - crop) / 2)
    return torch.stack([x1, y1, x1 + crop, y1 + crop], dim=1)


def cut_crops(images: torch.Tensor, geometry: Geometry, boxes: torch.Tensor, crop: int) -> torch.Tensor:
    """Crops of `boxes` (drawn on the Resize(S) images) resized to crop x crop, as floats on the
    images' device; a whole-pixel box of side `crop` on an unscaled image is an exact copy."""
    canvas_boxes = geometry.to_canvas(boxes)
    rois = torch.cat([torch.arange(len(boxes), dtype=canvas_boxes.dtype)[:, None], canvas_boxes], dim=1)
    crops = roi_align(images.float(), rois.to(images.device), output_size=crop, aligned=True)
    transposed = geometry.transposed.to(images.device)[:, None, None, None]
    return torch.where(transposed, crops.transpose(-1, -2), crops)


def augment_batch(images: torch.Tensor, geometry: Geometry, crop: int, generator: torch.Generator) -> torch.Tensor:
    """Training transform on a uint8 batch: per-image RandomResizedCrop(crop) from the image's
    stored extent, horizontal flip (p=0.5), normalise.

    Random numbers come from `generator` on the CPU, so results do not depend on the device.
    """
    boxes = random_crop_boxes(geometry.sizes, generator)
    flips = torch.rand(len(boxes), generator=generator) < 0.5
    crops = cut_crops(images, geometry, boxes, crop)
    flips = flips.to(images.device)[:, None, None, None]
    return normalise(torch.where(flips, crops.flip(-1), crops))


def eval_batch(images: torch.Tensor, geometry: Geometry, crop: int) -> torch.Tensor:
    """Evaluation transform on a uint8 batch: CenterCrop(crop) of the Resize(S) image, normalise."""
    return normalise(cut_crops(images, geometry, centre_boxes(geometry.sizes, crop), crop))
