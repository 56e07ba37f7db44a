"""The tensor store: decoded in place into one canvas (no 2x peak), EXIF orientation and
JPEG reduced decoding as PIL would give, memory-mapped when loaded, and jobs' memory from
the data's size."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import textwrap
import zlib

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image, ImageOps

from images_as_data.common.resources import (
    PROCESS_MB,
    store_build_mem_mb,
    store_bytes_per_image,
    store_reader_mem_mb,
    table_rows,
)
from images_as_data.finetune.data import (
    DataError,
    ImageStore,
    TensorStore,
    build_store,
    decode_images,
    resize_pixels,
)

from .conftest import REPO, torch_threads
from .photos import photo

STORE = 48


@pytest.fixture(autouse=True)
def one_thread():
    with torch_threads(1):
        yield


def marked(width: int, height: int) -> Image.Image:
    """A picture whose every turn and mirror image differs: a gradient with a red corner block."""
    y, x = np.mgrid[0:height, 0:width]
    pixels = np.stack([255 * x / width, 255 * y / height, np.full_like(x, 90.0)], axis=-1).astype(np.uint8)
    pixels[: height // 4, : width // 5] = (255, 0, 0)
    return Image.fromarray(pixels)


def with_orientation(image: Image.Image, path, orientation: int, **options) -> None:
    exif = Image.Exif()
    exif[0x0112] = orientation
    image.save(path, exif=exif, **options)


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_exif_orientation_gives_the_upright_image_resized_as_pil_would(tmp_path, suffix):
    """Every EXIF orientation, JPEG (OpenCV, reduced DCT decoding) and PNG (PIL): the stored
    pixels are those of PIL's exif_transpose then Resize, within JPEG and rounding noise; a
    portrait result is stored transposed with its upright size."""
    source = marked(160, 100)
    paths = []
    for orientation in range(1, 9):
        path = tmp_path / f"o{orientation}{suffix}"
        with_orientation(source, path, orientation, **({"quality": 95} if suffix == ".jpg" else {}))
        paths.append(str(path))
    decoded = decode_images(paths, STORE, threads=2)
    assert not any(decoded.errors)
    for index, path in enumerate(paths):
        upright = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
        width, height = upright.size
        size = (STORE * width // height, STORE) if width > height else (STORE, STORE * height // width)
        expected = resize_pixels(torch.from_numpy(np.asarray(upright).copy()).permute(2, 0, 1), *size)
        assert decoded.geometry.sizes[index].tolist() == list(size)
        stored = decoded.images[index]
        if decoded.geometry.transposed[index]:
            stored = stored.transpose(1, 2)
        ours = stored[:, : size[1], : size[0]].int()
        assert bool(decoded.geometry.transposed[index]) == (height > width)
        assert (ours - expected.int()).abs().float().mean() < 2, f"orientation {index + 1}"


def test_a_png_orientation_written_after_its_pixels_is_applied(tmp_path):
    """An eXIf chunk after the image data is read only once PIL has decoded the pixels: the
    image is still stored upright, with the geometry of its turned size."""
    path = tmp_path / "late.png"
    marked(80, 40).save(path)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90 clockwise when shown
    payload = exif.tobytes().removeprefix(b"Exif\x00\x00")
    chunk = len(payload).to_bytes(4, "big") + b"eXIf" + payload + zlib.crc32(b"eXIf" + payload).to_bytes(4, "big")
    data = path.read_bytes()
    path.write_bytes(data[:-12] + chunk + data[-12:])  # before IEND
    assert "exif" not in Image.open(path).info
    decoded = decode_images([str(path)], 32)
    assert decoded.errors == [""]
    assert decoded.geometry.sizes[0].tolist() == [32, 64] and bool(decoded.geometry.transposed[0])
    upright = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    expected = resize_pixels(torch.from_numpy(np.asarray(upright).copy()).permute(2, 0, 1), 32, 64)
    # Resized before turning rather than after: the filter's two passes round in the other order.
    assert (decoded.images[0].transpose(1, 2).int() - expected.int()).abs().max() <= 1


def test_opencv_and_pil_decode_the_same_pixels(tmp_path):
    """8-bit RGB JPEGs and PNGs go through OpenCV, other modes through PIL: the same store."""
    from images_as_data.finetune import data

    paths = []
    for suffix in ("jpg", "png"):
        path = tmp_path / f"p.{suffix}"
        photo(4, (120, 90)).save(path)
        paths.append(str(path))
    grey = tmp_path / "grey.png"
    photo(5, (120, 90)).convert("L").save(grey)
    placements = [data.probe(path, 32, "full_image", 3.0) for path in paths + [str(grey)]]
    assert [p.opencv for p in placements] == ["JPEG", "PNG", ""]
    via_opencv = decode_images(paths, 32)
    canvas = np.zeros((2, 3, 32, 42), np.uint8)
    for index, path in enumerate(paths):  # the same files through PIL
        data.decode_into(canvas, index, path, dataclasses.replace(placements[index], opencv=""), 32, "full_image", 3.0)
    assert np.array_equal(via_opencv.images.numpy(), canvas)
    grey_store = decode_images([str(grey)], 32).images[0]
    assert torch.equal(grey_store[0], grey_store[1]) and torch.equal(grey_store[1], grey_store[2])


@pytest.mark.parametrize("kind", ["grey16", "grey_alpha", "rgb_transparent_colour"])
def test_raw_files_are_decoded_as_the_working_images_are(tmp_path, kind):
    """Folder tasks and images to label are decoded from the raw files: 16-bit greyscale and
    transparency must give the working images' pixels (rescaled, on white), not PIL's
    convert("RGB") (16-bit clipped white, transparent areas keeping their hidden colour)."""
    from images_as_data.prepare.resize import open_rgb

    grey = np.asarray(photo(6, (64, 48)).convert("L"))
    path = tmp_path / f"{kind}.png"
    if kind == "grey16":
        Image.fromarray(grey.astype(np.uint16) * 257).save(path)
    elif kind == "grey_alpha":
        Image.fromarray(np.dstack([grey, np.where(np.arange(64) < 32, 255, 0)[None].repeat(48, 0)]).astype(np.uint8), "LA").save(path)
    else:
        rgb = np.dstack([grey] * 3)
        rgb[:, 32:] = (10, 20, 30)
        Image.fromarray(rgb).save(path, transparency=(10, 20, 30))
    stored = decode_images([str(path)], 48).images[0].numpy()
    working = np.asarray(open_rgb(path)[0]).transpose(2, 0, 1)
    assert np.array_equal(stored[:, :, :64], working)


def test_jpeg_reduced_decode_matches_a_full_decode_then_resize(tmp_path):
    """A 1200 x 900 photo is decoded at half scale (DCT) and resized: within a few grey levels
    of decoding all of it and resizing, and exactly the torch resize of PIL's own reduced decode."""
    path = tmp_path / "photo.jpg"
    photo(1, (1200, 900)).save(path, quality=85)
    decoded = decode_images([str(path)], 256)
    assert tuple(decoded.images.shape) == (1, 3, 256, 341)
    full = resize_pixels(torch.from_numpy(np.asarray(Image.open(path).convert("RGB")).copy()).permute(2, 0, 1), 341, 256)
    assert (decoded.images[0].int() - full.int()).abs().float().mean() < 3
    with Image.open(path) as image:
        image.draft("RGB", (341, 256))
        reduced = torch.from_numpy(np.asarray(image.convert("RGB")).copy()).permute(2, 0, 1)
    assert reduced.shape[1:] == (450, 600)
    assert torch.equal(decoded.images[0], resize_pixels(reduced, 341, 256))


def test_an_unreadable_image_leaves_a_zero_row_and_its_reason(tmp_path):
    good = tmp_path / "good.jpg"
    photo(2, (200, 150)).save(good)
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(good.read_bytes()[:300])
    decoded = decode_images([str(good), str(tmp_path / "missing.png"), str(truncated)], 32, threads=2)
    assert decoded.errors[0] == ""
    assert "missing.png" in decoded.errors[1] and decoded.errors[2]
    assert decoded.images[1:].sum() == 0 and decoded.images[0].sum() > 0
    assert decoded.readable == [0]


def mapped_from(tensor: torch.Tensor) -> str | None:
    """The file whose memory mapping holds the tensor's data (Linux /proc/self/maps), if any."""
    address = tensor.data_ptr()
    for line in open("/proc/self/maps", encoding="utf-8"):
        fields = line.split(maxsplit=5)
        start, end = (int(part, 16) for part in fields[0].split("-"))
        if start <= address < end:
            return fields[5].strip() if len(fields) == 6 else None
    return None


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="needs Linux /proc/self/maps")
def test_the_store_is_memory_mapped_when_loaded(tmp_path):
    table = pd.DataFrame({"image_id": ["a", "b"], "path": [str(tmp_path / "a.png"), str(tmp_path / "b.png")]})
    for seed, path in enumerate(table["path"]):
        photo(seed, (60, 40)).save(path)
    ImageStore.decode(table, 32).save(tmp_path / "images.pt")
    loaded = ImageStore.load(tmp_path / "images.pt")
    assert mapped_from(loaded.images) == str(tmp_path / "images.pt")
    assert loaded.image_ids == ["a", "b"] and loaded.errors == ["", ""]
    assert not list(tmp_path.glob("*.tmp*")), "written atomically, no temporary file left"


MEASURE = textwrap.dedent(
    """
    import json, resource, sys
    import torch
    from images_as_data.finetune.data import build_store
    torch.set_num_threads(1)
    build_store(sys.argv[1], {size}, threads=2).images.sum()  # warm: imports, threads, first decodes
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    store = build_store(sys.argv[2], {size}, threads=2)
    store.save(sys.argv[3])
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({{"grown_kb": after - before, "tensor_kb": store.images.numel() / 1024}}))
    """
)


def write_split(folder, n: int, size=(400, 300)) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    base = photo(0, size)
    rows = []
    for index in range(n):
        path = folder / f"{index:04d}.jpg"
        base.rotate(index % 360).save(path, quality=85)
        rows.append({"image_id": path.name, "path": str(path), "label": "ab"[index % 2], "split": ["train", "val"][index % 4 // 2]})
    pd.DataFrame(rows).to_csv(folder / "split.csv", index=False)
    return str(folder / "split.csv")


def test_building_a_store_peaks_at_its_tensor_not_twice(tmp_path):
    """Images are decoded straight into the preallocated canvas and torch.save writes it as
    it is: the build's peak memory grows by at most 1.2x the tensor (it was 2x: a list of
    tensors, then torch.stack)."""
    warm = write_split(tmp_path / "warm", 8)
    split = write_split(tmp_path / "photos", 240)
    result = subprocess.run(
        [sys.executable, "-c", MEASURE.format(size=256), warm, split, str(tmp_path / "store.pt")],
        capture_output=True, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    assert measured["tensor_kb"] > 60_000
    assert measured["grown_kb"] <= 1.2 * measured["tensor_kb"], measured


def test_a_store_with_no_readable_image_is_refused_by_name(tmp_path):
    (tmp_path / "a.png").write_bytes(b"not a png")
    pd.DataFrame({"image_id": ["a", "b", "c", "d"], "path": [str(tmp_path / "a.png")] * 4, "label": ["x", "y"] * 2,
                  "split": ["train", "train", "val", "val"]}).to_csv(tmp_path / "split.csv", index=False)  # fmt: skip
    with pytest.raises(DataError, match=r"split.csv: 4 image\(s\) cannot be read: a \("):
        build_store(tmp_path / "split.csv", 32)


def test_memory_of_store_jobs_follows_the_data_size(tmp_path):
    assert store_bytes_per_image(256, "centre_square", 3) == 3 * 256 * 256
    assert store_bytes_per_image(256, "full_image", 3) == 3 * 256 * 768
    assert table_rows(tmp_path / "not_yet.csv") == 0
    (tmp_path / "split.csv").write_text("image_id,path\n" + "".join(f"{i},{i}.png\n" for i in range(1000)))
    assert table_rows(tmp_path / "split.csv") == 1000
    # 100,000 images at 256 px, whole images: 59 GB of store at most, filled in place.
    build = store_build_mem_mb(100_000, 256, "full_image", 3.0, threads=4, per_thread_mb=250)
    assert build == PROCESS_MB + 4 * 250 + 58_983
    assert store_build_mem_mb(0, 256, "centre_square", 3.0) < store_build_mem_mb(1000, 256, "centre_square", 3.0)
    # A reader of a store: its base memory plus the store file's size.
    (tmp_path / "store.pt").write_bytes(b"\0" * 3_500_000)
    assert store_reader_mem_mb(tmp_path / "store.pt", 2000) == 2004
    assert store_reader_mem_mb(tmp_path / "missing.pt", 2000) == 2000


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="needs Linux /proc/self/maps")
def test_loaded_store_round_trips_from_the_mapped_file(tmp_path):
    """TensorStore.load maps the file (jobs of one node share its pages); what is read equals what was saved."""
    split = write_split(tmp_path / "photos", 8, size=(90, 60))
    store = build_store(split, 32)
    store.save(tmp_path / "store.pt")
    loaded = TensorStore.load(tmp_path / "store.pt")
    assert mapped_from(loaded.images) == str(tmp_path / "store.pt")
    assert torch.equal(loaded.images, store.images)
    assert loaded.image_ids == store.image_ids and torch.equal(loaded.sizes, store.sizes)
