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
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from PIL import ExifTags, Image, ImageOps
from torchvision.ops import roi_align
from torchvision.transforms.v2 import functional as TF

from ..common.atomic import atomic_path
from ..common.hashing import file_sha256
from ..common.pixels import to_rgb

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

# Decoded pixels are wrapped read-only (np.asarray of a PIL image) and only read: resized
# into a new tensor or copied into the canvas, so copying them first would only cost time.
warnings.filterwarnings("ignore", message="The given NumPy array is not writable", module=__name__)


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
        save_state({key: value for key, value in vars(self).items() if key != "geometry"}, path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "TensorStore":
        """The store with its images memory-mapped from the file (see load_state)."""
        return cls(**load_state(path))


def save_state(state: dict, path: str | os.PathLike) -> None:
    """torch.save of a store's fields, atomically. torch.save writes each tensor's memory
    as it is (no copy), so saving adds nothing to the memory the images already take."""
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_state(path: str | os.PathLike) -> dict:
    """A store's fields with the tensors memory-mapped read-only from the file: the jobs of
    one node that read a store share its pages in the page cache instead of each holding
    a copy, and pages are read as batches need them."""
    return torch.load(path, map_location="cpu", weights_only=True, mmap=True)


@dataclass
class ImageStore:
    """Images to label, decoded once for every task's model (rule predict_store): the
    canvas, geometry and, per image, why it cannot be read ("" when it was)."""

    images: torch.Tensor  # N x 3 x S x W uint8
    image_ids: list[str]
    paths: list[str]
    errors: list[str]
    crop_source: str
    max_aspect: float
    sizes: torch.Tensor
    scales: torch.Tensor
    transposed: torch.Tensor

    @property
    def geometry(self) -> Geometry:
        return Geometry(self.sizes, self.scales, self.transposed)

    @property
    def size(self) -> int:
        return int(self.images.shape[-2])

    def description(self) -> dict:
        """As TensorStore.description: a run's images can be read from this store when equal."""
        return {"store_size": self.size, "crop_source": self.crop_source, "max_aspect": self.max_aspect}

    @classmethod
    def decode(
        cls, images: pd.DataFrame, size: int, threads: int = 1, crop_source: str = FULL_IMAGE,
        max_aspect: float = DEFAULT_MAX_ASPECT,
    ) -> "ImageStore":  # fmt: skip
        """Decode the images of a table with image_id and path columns."""
        decoded = decode_images(images["path"].tolist(), size, threads, crop_source, max_aspect)
        geometry = decoded.geometry
        return cls(
            decoded.images, images["image_id"].tolist(), images["path"].tolist(), decoded.errors, crop_source,
            float(max_aspect), geometry.sizes, geometry.scales, geometry.transposed,
        )  # fmt: skip

    def save(self, path: str | os.PathLike) -> None:
        save_state(dict(vars(self)), path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "ImageStore":
        return cls(**load_state(path))


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


@dataclass(frozen=True)
class Placement:
    """Where one image goes in the canvas, known from the file's header before decoding.

    ``size``: width and height after Resize(S) of the upright image (EXIF orientation
    applied); ``target``: the pixels stored, upright (``size`` times ``scale``, rounded);
    ``orientation``: the file's EXIF orientation (1-8), applied to the pixels while they are
    copied into the canvas; ``opencv``: "JPEG" or "PNG" for 8-bit RGB files of those formats
    (decoded by OpenCV: the same pixels as PIL, faster), "" for the rest (decoded by PIL);
    ``file_size``: the file's own width and height.
    """

    size: tuple[int, int]
    target: tuple[int, int]
    scale: float = 1.0
    transposed: bool = False
    orientation: int = 1
    opencv: str = ""
    file_size: tuple[int, int] = (0, 0)

    @property
    def stored(self) -> tuple[int, int]:
        """(rows, columns) the image takes in the canvas."""
        width, height = self.target
        return (width, height) if self.transposed else (height, width)

    @property
    def file_target(self) -> tuple[int, int]:
        """``target`` in the file's own orientation (before EXIF rotation)."""
        width, height = self.target
        return (height, width) if self.orientation in SIDEWAYS else (width, height)


# EXIF orientations whose pixels are turned a quarter (width and height swap).
SIDEWAYS = (5, 6, 7, 8)


def place(
    width: int, height: int, orientation: int, size: int, crop_source: str, max_aspect: float, opencv: str = ""
) -> Placement:
    """The Placement of a `width` x `height` file (as stored, before EXIF rotation)."""
    file_size = (width, height)
    if orientation in SIDEWAYS:
        width, height = height, width
    if crop_source == CENTRE_SQUARE:
        return Placement((size, size), (size, size), orientation=orientation, opencv=opencv, file_size=file_size)
    resized = resized_size(width, height, size)
    scale = min(1.0, math.floor(size * max_aspect) / max(resized))
    target = (max(1, round(resized[0] * scale)), max(1, round(resized[1] * scale)))
    return Placement(resized, target, scale, resized[1] > resized[0], orientation, opencv, file_size)


def _orientation(image: Image.Image) -> int:
    # A PNG's getexif() decodes the whole image when the header has no eXIf chunk; the
    # header is all a probe reads, and decode_into checks again once the pixels are loaded.
    if image.format == "PNG" and "exif" not in image.info:
        return 1
    return int(image.getexif().get(ExifTags.Base.Orientation, 1) or 1)


def probe(path: str | os.PathLike, size: int, crop_source: str, max_aspect: float) -> Placement:
    """An image's Placement from its header, without decoding its pixels."""
    with Image.open(path) as image:
        opencv = image.format if image.format in ("JPEG", "PNG") and image.mode == "RGB" and "transparency" not in image.info else ""
        return place(*image.size, _orientation(image), size, crop_source, max_aspect, opencv)


# EXIF orientation -> the same turn of a 3 x H x W array, as a view (ImageOps.exif_transpose's).
_TURNS = {
    2: lambda a: a[:, :, ::-1],  # mirrored left-right
    3: lambda a: a[:, ::-1, ::-1],  # rotated 180
    4: lambda a: a[:, ::-1, :],  # mirrored top-bottom
    5: lambda a: a.swapaxes(1, 2),  # transposed
    6: lambda a: np.rot90(a, -1, axes=(1, 2)),  # rotated 90 clockwise
    7: lambda a: a.swapaxes(1, 2)[:, ::-1, ::-1],  # transversed
    8: lambda a: np.rot90(a, 1, axes=(1, 2)),  # rotated 90 anticlockwise
}


def upright(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """A 3 x H x W array turned as ImageOps.exif_transpose turns the image, as a view (no copy)."""
    turn = _TURNS.get(orientation)
    return turn(pixels) if turn else pixels


def resize_pixels(pixels: torch.Tensor, width: int, height: int) -> torch.Tensor:
    """A 3 x H x W uint8 image resized to width x height with the bilinear filter of PIL and
    torchvision's Resize (torch's uint8 antialiased kernel, ported from Pillow: within a grey
    level or two of PIL's resize, and several times faster); the image itself when it has
    that size already."""
    if tuple(pixels.shape[-2:]) == (height, width):
        return pixels
    return F.interpolate(pixels[None], size=(height, width), mode="bilinear", antialias=True)[0]


# OpenCV's decoding at 1/2, 1/4, 1/8 scale (libjpeg-turbo's DCT scaling, as PIL's draft).
REDUCED_READS = ((8, cv2.IMREAD_REDUCED_COLOR_8), (4, cv2.IMREAD_REDUCED_COLOR_4), (2, cv2.IMREAD_REDUCED_COLOR_2), (1, cv2.IMREAD_COLOR))


def _decode_with_opencv(path: str | os.PathLike, placement: Placement) -> np.ndarray | None:
    """An 8-bit RGB JPEG or PNG as 3 x H x W RGB (a view of OpenCV's BGR array): the same
    pixels as PIL's (the same libjpeg-turbo and zlib decoders), without PIL's copy out of
    its 4-byte pixels. JPEGs are decoded at the smallest DCT scale that keeps them at least
    as large as the target, as PIL's draft does. None for a PNG with an eXIf chunk after
    its header: only PIL, having decoded it, reads its orientation."""
    data = Path(path).read_bytes()
    flag = cv2.IMREAD_COLOR
    if placement.opencv == "JPEG":
        width, height = placement.file_target
        most = max(1, min(placement.file_size[0] // width, placement.file_size[1] // height))
        flag = next(flag for factor, flag in REDUCED_READS if factor <= most)
    elif placement.orientation == 1 and data.find(b"eXIf") >= 0:
        return None
    bgr = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), flag | cv2.IMREAD_IGNORE_ORIENTATION)
    if bgr is None:
        raise DataError(f"{path}: OpenCV cannot decode this {placement.opencv}")
    return bgr.transpose(2, 0, 1)[::-1]


def _decode_with_pil(path: str | os.PathLike, placement: Placement, size: int, crop_source: str, max_aspect: float):
    """Pixels (3 x H x W, file orientation; upright for centre squares) and the placement, by PIL."""
    with Image.open(path) as image:
        image.draft("RGB", placement.file_target)  # JPEG DCT scaling, never below the target
        image.load()
        if image.format == "PNG" and _orientation(image) != placement.orientation:
            placement = place(*image.size, _orientation(image), size, crop_source, max_aspect)
        rgb = to_rgb(image)
        if crop_source == CENTRE_SQUARE:
            square = ImageOps.fit(ImageOps.exif_transpose(rgb), (size, size), method=Image.Resampling.BILINEAR)
            return np.asarray(square).transpose(2, 0, 1), placement
        return np.asarray(rgb).transpose(2, 0, 1), placement


def decode_into(
    canvas: np.ndarray, index: int, path: str | os.PathLike, placement: Placement, size: int, crop_source: str, max_aspect: float
) -> Placement:
    """Decode one image into row `index` of the N x 3 x S x W canvas, resized as `placement`
    says, and return its placement (a PNG whose EXIF orientation shows only once its pixels
    are loaded gets a new one). JPEGs are decoded at reduced DCT scale, never below the target."""
    pixels = _decode_with_opencv(path, placement) if placement.opencv and crop_source == FULL_IMAGE else None
    if pixels is None:
        pixels, placement = _decode_with_pil(path, placement, size, crop_source, max_aspect)
    if crop_source == FULL_IMAGE:
        # torch has no negative strides: resize the BGR-ordered view's base, flip afterwards.
        flipped = pixels.strides[0] < 0
        base = pixels[::-1] if flipped else pixels
        resized = resize_pixels(torch.from_numpy(base), *placement.file_target).numpy()
        pixels = upright(resized[::-1] if flipped else resized, placement.orientation)
    if placement.transposed:
        pixels = pixels.swapaxes(1, 2)
    rows, columns = placement.stored
    if pixels.shape[1:] != (rows, columns) or rows > canvas.shape[2] or columns > canvas.shape[3]:
        raise DataError(f"{path}: decoded as {pixels.shape[2]} x {pixels.shape[1]} pixels, not the {columns} x {rows} its header gives")
    canvas[index, :, :rows, :columns] = pixels
    canvas[index, :, rows:] = 0  # the canvas is not zeroed beforehand: that would touch every page twice
    canvas[index, :, :rows, columns:] = 0
    return placement


@dataclass
class DecodedImages:
    """Images decoded into one zero-padded N x 3 x S x W canvas, with their geometry; the row
    of an image that cannot be read stays zero and its ``errors`` entry says why ("" if read)."""

    images: torch.Tensor
    geometry: Geometry
    errors: list[str]

    @property
    def readable(self) -> list[int]:
        return [index for index, error in enumerate(self.errors) if not error]


def _error(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"


def for_each(work: Callable[[int], None], n: int, threads: int) -> None:
    """work(0), ..., work(n - 1) on `threads` threads, each taking the next index as it is
    free: no future per image (at ~2 ms an image, a thread pool's hand-offs cost 10 %)."""
    indices = iter(range(n))  # next() of a range iterator is atomic under the GIL

    def run() -> None:
        for index in indices:
            work(index)

    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        for future in [pool.submit(run) for _ in range(max(1, min(threads, n)))]:
            future.result()


def decode_images(
    paths: list[str],
    size: int,
    threads: int = 1,
    crop_source: str = FULL_IMAGE,
    max_aspect: float = DEFAULT_MAX_ASPECT,
) -> DecodedImages:
    """Decode many images for a store of `crop_source`, in place into one preallocated canvas.

    A first pass reads every header (size, EXIF orientation) to size the canvas; then
    `threads` threads decode one image each at a time straight into its row (PIL and torch
    release the GIL), so memory peaks at the canvas plus one image per thread.
    """
    if crop_source not in CROP_SOURCES:
        raise DataError(f"finetune.crop_source '{crop_source}' is not one of {list(CROP_SOURCES)}")
    errors = [""] * len(paths)
    placements: list[Placement | None] = [None] * len(paths)

    def read_header(index: int) -> None:
        try:
            placements[index] = probe(paths[index], size, crop_source, max_aspect)
        except Exception as error:  # reported per file by the caller
            errors[index] = _error(error)

    for_each(read_header, len(paths), threads)
    width = max([p.stored[1] for p in placements if p is not None], default=size)
    canvas = torch.empty(len(paths), 3, size, width, dtype=torch.uint8)  # every row is written below
    pixels = canvas.numpy()  # the same memory; numpy copies turned views fast

    def decode(index: int) -> None:
        if placements[index] is None:
            pixels[index] = 0
            return
        try:
            placements[index] = decode_into(pixels, index, paths[index], placements[index], size, crop_source, max_aspect)
        except Exception as error:
            errors[index] = _error(error)
            pixels[index] = 0

    for_each(decode, len(paths), threads)
    unread = Placement((size, size), (size, size))
    done = [p if p is not None and not e else unread for p, e in zip(placements, errors)]
    geometry = Geometry(
        torch.tensor([p.size for p in done], dtype=torch.float32).reshape(-1, 2),
        torch.tensor([p.scale for p in done], dtype=torch.float32),
        torch.tensor([p.transposed for p in done], dtype=torch.bool),
    )
    return DecodedImages(canvas, geometry, errors)


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
        f"{image_id} ({path}): {error}"
        for image_id, path, error in zip(table["image_id"], table["path"], decoded.errors)
        if error
    ]
    if failures:
        raise DataError(f"{split_csv}: {len(failures)} image(s) cannot be read: " + "; ".join(failures[:10]))
    geometry = decoded.geometry
    return TensorStore(
        images=decoded.images,
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
