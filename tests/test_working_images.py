"""Working images: upright RGB PNGs of cluster roots with a fixed shorter side."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from images_as_data.prepare.resize import (
    MANIFEST_COLUMNS,
    WorkingSettings,
    build_working_images,
    cluster_roots,
    encode_png,
    make_working_image,
    open_rgb,
    scaled_size,
    write_working_images,
)

RED, BLUE, GREEN, WHITE = (255, 0, 0), (0, 0, 255), (0, 255, 0), (255, 255, 255)


def halves(width: int, height: int, left, right, mode: str = "RGB") -> Image.Image:
    """Left half one colour, right half another."""
    image = Image.new("RGB", (width, height), right)
    image.paste(left, (0, 0, width // 2, height))
    return image.convert(mode)


def near(pixel, colour, tolerance: int = 40) -> bool:
    return all(abs(int(a) - int(b)) <= tolerance for a, b in zip(pixel, colour))


@pytest.mark.parametrize(
    ("size", "short_side", "expected"),
    [((400, 200), 100, (200, 100)), ((200, 400), 100, (100, 200)), ((50, 30), 60, (100, 60)), ((64, 64), 32, (32, 32))],
)
def test_scaled_size_keeps_aspect_ratio_and_upscales(size, short_side, expected):
    assert scaled_size(*size, short_side) == expected


def test_exif_orientation_is_applied(tmp_path: Path):
    source = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # display = stored rotated 90 degrees clockwise
    halves(80, 40, RED, BLUE).save(source, exif=exif, quality=95)
    sizes = make_working_image(str(source), str(tmp_path / "out.png"), short_side=32)
    assert sizes == {"width": 32, "height": 64, "orig_width": 40, "orig_height": 80}
    out = Image.open(tmp_path / "out.png")
    assert out.mode == "RGB"
    # the stored left (red) half is on top once turned clockwise
    assert near(out.getpixel((16, 5)), RED) and near(out.getpixel((16, 58)), BLUE)


def test_cmyk_becomes_rgb(tmp_path: Path):
    source = tmp_path / "cmyk.jpg"
    halves(64, 64, RED, BLUE, mode="CMYK").save(source, quality=95)
    rgb, _ = open_rgb(source)
    assert rgb.mode == "RGB"
    assert near(rgb.getpixel((5, 30)), RED) and near(rgb.getpixel((60, 30)), BLUE)


def test_palette_transparency_is_composited_on_white(tmp_path: Path):
    source = tmp_path / "transparent.gif"
    image = Image.new("P", (40, 40), 0)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.paste(1, (0, 0, 20, 40))
    image.save(source, transparency=0)
    rgb, _ = open_rgb(source)
    assert rgb.getpixel((5, 5)) == RED
    assert rgb.getpixel((35, 5)) == WHITE  # transparent black would otherwise be black


def test_rgba_alpha_is_composited_on_white(tmp_path: Path):
    source = tmp_path / "alpha.png"
    image = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    image.paste((0, 255, 0, 255), (0, 0, 20, 40))
    image.save(source)
    rgb, _ = open_rgb(source)
    assert rgb.getpixel((5, 5)) == GREEN and rgb.getpixel((35, 5)) == WHITE


def test_first_frame_of_an_animation(tmp_path: Path):
    source = tmp_path / "anim.gif"
    frames = [Image.new("RGB", (40, 40), colour).convert("P") for colour in (RED, BLUE, GREEN)]
    frames[0].save(source, save_all=True, append_images=frames[1:], duration=50)
    rgb, _ = open_rgb(source)
    assert near(rgb.getpixel((20, 20)), RED)


def test_sixteen_bit_grey_is_rescaled_not_clipped(tmp_path: Path):
    source = tmp_path / "grey16.png"
    Image.fromarray(np.full((40, 40), 32768, dtype=np.uint16)).save(source)
    assert Image.open(source).mode.startswith("I")
    rgb, _ = open_rgb(source)
    assert near(rgb.getpixel((5, 5)), (128, 128, 128), tolerance=2)


@pytest.mark.parametrize(
    ("name", "values", "grey"),
    [
        ("float01.tif", np.full((40, 40), 0.5, dtype=np.float32), 128),  # a 0-1 float image: not black
        ("int32.tif", np.tile(np.array([0, 8_000_000, 16_000_000], dtype=np.int32), (40, 14))[:, :40], None),
        ("int16_as_i.tif", np.full((40, 40), 32768, dtype=np.int32), 128),  # 16-bit values held as I
    ],
)
def test_float_and_32_bit_grey_keep_their_contrast(tmp_path: Path, name: str, values: np.ndarray, grey):
    """PIL clips I and F at 255: a 0-1 float TIFF came out black, a 32-bit one white."""
    source = tmp_path / name
    Image.fromarray(values).save(source)
    assert Image.open(source).mode in ("F", "I")
    pixels = np.asarray(open_rgb(source)[0])
    if grey is not None:
        assert near(pixels[5, 5], (grey,) * 3, tolerance=1)
    else:  # values beyond 16 bits are stretched from their minimum to their maximum
        assert pixels[5, 0].tolist() == [0, 0, 0] and pixels[5, 2].tolist() == [255, 255, 255]
        assert near(pixels[5, 1], (128,) * 3, tolerance=2)


def test_large_jpeg_is_decoded_at_reduced_scale_but_reports_full_size(tmp_path: Path):
    source = tmp_path / "large.jpg"
    halves(1024, 768, RED, BLUE).save(source, quality=90)
    rgb, full = open_rgb(source, short_side=64)
    assert full == (1024, 768)
    assert 64 <= rgb.height < 768  # draft mode kept at least the requested size
    sizes = make_working_image(str(source), str(tmp_path / "large.png"), short_side=64)
    assert (sizes["width"], sizes["height"]) == (85, 64)


def test_output_is_deterministic_and_carries_no_metadata(tmp_path: Path):
    source = tmp_path / "with_exif.jpg"
    exif = Image.Exif()
    exif[0x010F] = "camera maker"
    halves(90, 60, RED, BLUE).save(source, exif=exif, quality=90)
    first, second = tmp_path / "a.png", tmp_path / "b.png"
    make_working_image(str(source), str(first), 32)
    make_working_image(str(source), str(second), 32)
    assert first.read_bytes() == second.read_bytes()
    assert Image.open(first).info == {}


def corpus(tmp_path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    raw = tmp_path / "raw"
    (raw / "sub").mkdir(parents=True)
    halves(60, 40, RED, BLUE).save(raw / "a.jpg", quality=95)
    halves(60, 40, RED, BLUE).save(raw / "a_copy.jpg", quality=95)
    halves(40, 60, GREEN, BLUE).save(raw / "sub" / "b.png")
    ids = ["a.jpg", "a_copy.jpg", "sub/b.png"]
    inventory = pd.DataFrame({"image_id": ids, "path": [str(raw / i) for i in ids]})
    clusters = pd.DataFrame(
        {"image_id": ids, "cluster_id": ["a.jpg", "a.jpg", "sub/b.png"], "is_root": [True, False, True]}
    )
    return inventory, clusters


def test_working_image_is_the_authors_resize_of_the_decoded_photo(tmp_path: Path):
    """The working image is torchvision's Resize(short_side) of the (drafted) decode: the
    store's Resize(256) of it then changes nothing, as on the authors' raw images."""
    from torchvision.transforms import Resize

    rng = np.random.default_rng(0)
    photo = Image.fromarray(rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)).resize((1200, 900), Image.Resampling.BICUBIC)
    source = tmp_path / "photo.jpg"
    photo.save(source, quality=90)
    make_working_image(str(source), str(tmp_path / "working.png"), 256)
    decoded, _ = open_rgb(source, short_side=256)
    with Image.open(tmp_path / "working.png") as working:
        assert working.size == (341, 256)
        assert np.array_equal(np.asarray(working), np.asarray(Resize(256)(decoded)))
        assert np.array_equal(np.asarray(Resize(256)(working)), np.asarray(working))


@pytest.mark.parametrize("level", [0, 1, 6, 9])
def test_png_encoding_is_lossless_at_every_level(level: int):
    """The working PNG holds exactly the resized pixels: the level trades only size and time."""
    rng = np.random.default_rng(level)
    noise = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    gradient = np.linspace(0, 255, 53, dtype=np.uint8)[None, :, None].repeat(37, axis=0).repeat(3, axis=2)
    for pixels in (noise, gradient):
        image = Image.fromarray(pixels)
        with Image.open(io.BytesIO(encode_png(image, level))) as decoded:
            assert decoded.format == "PNG" and decoded.mode == "RGB" and not decoded.info.get("exif")
            assert np.array_equal(np.asarray(decoded), pixels)


def test_only_roots_get_working_images(tmp_path: Path):
    inventory, clusters = corpus(tmp_path)
    images_dir = tmp_path / "working" / "images"
    images_dir.mkdir(parents=True)
    (images_dir / "stale.png").write_bytes(b"left over from an older run")
    manifest = build_working_images(inventory, clusters, images_dir, WorkingSettings(short_side=20), threads=2)
    assert list(manifest.columns) == MANIFEST_COLUMNS
    assert manifest["image_id"].tolist() == ["a.jpg", "sub/b.png"]
    assert manifest.set_index("image_id").loc["sub/b.png", ["width", "height", "orig_width", "orig_height"]].tolist() == [
        20,
        30,
        40,
        60,
    ]
    written = sorted(p.relative_to(images_dir).as_posix() for p in images_dir.rglob("*") if p.is_file())
    assert written == ["a.jpg.png", "sub/b.png.png"]
    assert manifest["path"].tolist() == [f"{images_dir.as_posix()}/{name}" for name in written]
    assert not list((tmp_path / "working").glob(".images.*"))  # no staging folder left behind


def test_parallel_and_serial_runs_write_identical_files(tmp_path: Path):
    inventory, clusters = corpus(tmp_path)
    digests = []
    for threads in (1, 2):
        images_dir = tmp_path / f"out{threads}"
        build_working_images(inventory, clusters, images_dir, WorkingSettings(short_side=24), threads=threads)
        digests.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in images_dir.rglob("*.png")})
    assert digests[0] == digests[1] and len(digests[0]) == 2


def test_csv_entry_point(tmp_path: Path):
    inventory, clusters = corpus(tmp_path)
    inventory.to_csv(tmp_path / "inventory_in.csv", index=False)
    full = inventory.assign(
        bytes=1, sha256="x", format="JPEG", width=1, height=1, mode="RGB", n_frames=1, status="kept", reason=""
    )
    full.to_csv(tmp_path / "inventory.csv", index=False)
    clusters.to_csv(tmp_path / "clusters.csv", index=False)
    manifest = write_working_images(
        tmp_path / "inventory.csv",
        tmp_path / "clusters.csv",
        tmp_path / "working" / "images",
        tmp_path / "working" / "manifest.csv",
        WorkingSettings(short_side=16),
    )
    assert pd.read_csv(tmp_path / "working" / "manifest.csv")["image_id"].tolist() == manifest["image_id"].tolist()


def test_roots_missing_from_inventory_are_reported(tmp_path: Path):
    inventory, clusters = corpus(tmp_path)
    with pytest.raises(ValueError, match="sub/b.png.*rerun the inventory"):
        cluster_roots(inventory.iloc[:2], clusters)
