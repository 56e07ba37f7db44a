"""The book's training crop: RandomResizedCrop(224) from the whole Resize(256) image (not only
its centre square), batched on tensors, with torchvision's box statistics; evaluation is
Resize + CenterCrop as torchvision does it on PIL images, to within rounding (the store
resizes with torch's port of PIL's bilinear filter: at most 2 grey levels apart on pure noise)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from scipy.stats import ks_2samp
from torchvision import transforms

from images_as_data.finetune.data import (
    Geometry,
    augment_batch,
    build_store,
    cut_crops,
    eval_batch,
    random_crop_boxes,
    resize_pixels,
)

from .conftest import torch_threads

STORE, CROP = 32, 24
MARKER = (255, 0, 0)


@pytest.fixture(autouse=True)
def one_thread():
    with torch_threads(1):
        yield


def write_split(folder, images: dict[str, Image.Image]):
    """A split CSV of the given images (alternating train/val, two classes)."""
    rows = []
    for index, (name, image) in enumerate(images.items()):
        path = folder / f"{name}.png"
        image.save(path)
        rows.append({"image_id": name, "path": str(path), "label": ["negative", "positive"][index % 2],
                     "split": "train" if index < 2 else "val", "cluster_id": name})  # fmt: skip
    pd.DataFrame(rows).to_csv(folder / "split.csv", index=False)
    return folder / "split.csv"


def noise(width: int, height: int, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 200, (height, width, 3), dtype=np.uint8))


@pytest.fixture
def wide_with_marker(tmp_path):
    """A 3:1 image with a red marker in its top-right corner (outside the centre square), plus
    three plain images so the store has two classes in train and val."""
    wide = noise(3 * STORE, STORE, 0)
    wide.paste(MARKER, (3 * STORE - 6, 0, 3 * STORE, 6))
    others = {f"plain{k}": noise(STORE, STORE, k + 1) for k in range(3)}
    return write_split(tmp_path, {"wide": wide, **others})


def marker_seen(crops: torch.Tensor) -> torch.Tensor:
    """Per crop: whether it holds a clearly red pixel (the noise stays below 200)."""
    red, green = crops[:, 0], crops[:, 1]
    return ((red > 230) & (green < 40)).flatten(1).any(dim=1)


@pytest.mark.parametrize("crop_source, reaches_corner", [("full_image", True), ("centre_square", False)])
def test_training_crops_reach_the_image_edges_only_from_the_full_image(wide_with_marker, crop_source, reaches_corner):
    store = build_store(wide_with_marker, STORE, crop_source=crop_source)
    n = 400
    index = torch.zeros(n, dtype=torch.long)  # the wide image, n times
    generator = torch.Generator().manual_seed(0)
    crops = augment_batch(store.images[index], store.geometry[index], CROP, generator)
    # Undo the normalisation to compare colours.
    mean, std = torch.tensor([0.485, 0.456, 0.406]), torch.tensor([0.229, 0.224, 0.225])
    pixels = (crops * std[:, None, None] + mean[:, None, None]) * 255
    seen = marker_seen(pixels)
    if reaches_corner:
        assert 0.05 < float(seen.float().mean()) < 0.9  # some crops, not all
        # ... and crops come from all over: their centres span the whole width.
        boxes = random_crop_boxes(store.geometry.sizes[index], torch.Generator().manual_seed(1))
        centres = (boxes[:, 0] + boxes[:, 2]) / 2
        assert centres.min() < 0.25 * 3 * STORE and centres.max() > 0.75 * 3 * STORE
    else:
        assert not seen.any()


@pytest.mark.parametrize("width, height", [(300, 100), (100, 400), (341, 256), (256, 256)])
def test_crop_boxes_match_torchvisions_random_resized_crop(width, height):
    n = 8000
    ours = random_crop_boxes(torch.tensor([[width, height]] * n, dtype=torch.float32), torch.Generator().manual_seed(3))
    ours = ours.numpy().astype(np.int64)
    assert (ours[:, 0] >= 0).all() and (ours[:, 1] >= 0).all()
    assert (ours[:, 2] <= width).all() and (ours[:, 3] <= height).all()
    torch.manual_seed(4)
    image = torch.zeros(3, height, width)
    theirs = np.array([transforms.RandomResizedCrop.get_params(image, [0.08, 1.0], [3 / 4, 4 / 3]) for _ in range(n)])
    our_w, our_h = ours[:, 2] - ours[:, 0], ours[:, 3] - ours[:, 1]
    their_w, their_h = theirs[:, 3], theirs[:, 2]
    # Whole-pixel areas and exact ratios of whole pixels, so ties compare equal.
    assert ks_2samp(our_w * our_h, their_w * their_h).pvalue > 0.001
    assert ks_2samp(np.log(our_w / our_h), np.log(their_w / their_h)).pvalue > 0.001
    # Where boxes sit: left edges relative to the room left for them.
    our_room = (ours[:, 0] + 0.5) / (width - our_w + 1)
    their_room = (theirs[:, 1] + 0.5) / (width - their_w + 1)
    assert ks_2samp(our_room, their_room).pvalue > 0.001
    # A box never fitting (the fallback) happens as often: same share of whole-height boxes of ratio <= 4/3.
    assert abs(np.mean(our_h == height) - np.mean(their_h == height)) < 0.02


@pytest.mark.parametrize("size", [(90, 30), (30, 70), (45, 45)])
def test_evaluation_crop_is_torchvisions_resize_and_centre_crop_to_within_rounding(tmp_path, size):
    images = {"a": noise(*size, 5), "b": noise(40, 40, 6), "c": noise(50, 40, 7), "d": noise(40, 50, 8)}
    store = build_store(write_split(tmp_path, images), STORE, crop_source="full_image")
    book = transforms.Compose([transforms.Resize(STORE), transforms.CenterCrop(CROP), transforms.PILToTensor()])
    expected = torch.stack([book(Image.open(tmp_path / f"{name}.png").convert("RGB")) for name in images])
    mean, std = torch.tensor([0.485, 0.456, 0.406]), torch.tensor([0.229, 0.224, 0.225])
    ours = eval_batch(store.images, store.geometry, CROP) * std[:, None, None] + mean[:, None, None]
    difference = (ours * 255 - expected.float()).abs()
    assert difference.max() <= 2 + 1e-3 and difference.mean() < 0.1


def test_portrait_images_are_stored_transposed_and_panoramas_scaled_to_max_aspect(tmp_path):
    panorama = Image.new("RGB", (200, 20), (120, 120, 120))
    images = {"tall": noise(30, 60, 1), "panorama": panorama, "square": noise(40, 40, 3), "wide": noise(60, 40, 4)}
    store = build_store(write_split(tmp_path, images), STORE, crop_source="full_image", max_aspect=3)
    assert tuple(store.images.shape[-2:]) == (STORE, 3 * STORE)
    assert store.transposed.tolist() == [True, False, False, False]
    assert store.sizes[0].tolist() == [STORE, 2 * STORE]  # Resize(32) of 30 x 60, own orientation
    assert store.sizes[1].tolist() == [320, STORE]  # the panorama's Resize(32) size, before scaling
    assert store.scales[1] == pytest.approx(96 / 320)
    # A box on the panorama's whole Resize(32) extent is its whole stored extent (padding excluded).
    whole = cut_crops(store.images[1:2], store.geometry[1:2], torch.tensor([[0.0, 0, 320, STORE]]), 8)
    assert torch.allclose(whole, torch.full_like(whole, 120.0), atol=1)
    square = build_store(write_split(tmp_path, images), STORE, crop_source="centre_square")
    assert tuple(square.images.shape[-2:]) == (STORE, STORE)
    assert square.sizes.tolist() == [[STORE, STORE]] * 4
    assert Geometry.square(2, STORE).sizes.tolist() == [[STORE, STORE]] * 2


def test_boxes_on_portrait_images_cut_the_same_pixels_as_on_the_upright_image(tmp_path):
    """Portrait images are stored transposed; a box drawn on the upright Resize(S) image must
    still cut exactly that region, the right way up."""
    images = {"tall": noise(30, 75, 1), "square": noise(40, 40, 2), "wide": noise(60, 40, 3), "other": noise(40, 40, 4)}
    store = build_store(write_split(tmp_path, images), STORE, crop_source="full_image")
    upright = resize_pixels(transforms.PILToTensor()(Image.open(tmp_path / "tall.png")), STORE, 80)
    assert tuple(upright.shape[1:]) == (80, STORE) and bool(store.transposed[0])
    generator = torch.Generator().manual_seed(0)
    x1 = torch.randint(0, STORE - CROP + 1, (20,), generator=generator).float()
    y1 = torch.randint(0, 80 - CROP + 1, (20,), generator=generator).float()
    boxes = torch.stack([x1, y1, x1 + CROP, y1 + CROP], dim=1)
    index = torch.zeros(20, dtype=torch.long)
    crops = cut_crops(store.images[index], store.geometry[index], boxes, CROP)
    for crop, (left, top) in zip(crops, zip(x1.int().tolist(), y1.int().tolist())):
        assert torch.equal(crop, upright[:, top : top + CROP, left : left + CROP].float())
