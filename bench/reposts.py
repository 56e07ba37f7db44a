"""A test set of real photographs and their reposts, for bench/repost_bench.py.

Sources are photographs that installed packages ship: scikit-image's data module (the
bench's only extra dependency), scikit-learn's two sample images and matplotlib's
sample portrait. Every source gets one copy of each repost kind of issue 12's table
(:data:`REPOST_KINDS`) and the hard negatives (:data:`NEGATIVE_KINDS`): pictures made
from the source that are *not* duplicates of it or of each other. All randomness comes
from one seed; the same seed writes byte-identical files.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFont, ImageOps

# scikit-image photographs bundled with the package (no download); the microscopy and
# astronomy images are photographs too. Textures (brick, grass, gravel) are kept:
# their crops look alike, which makes the hard negatives hard.
SKIMAGE_PHOTOS = (
    "astronaut", "camera", "chelsea", "coffee", "rocket", "hubble_deep_field", "coins", "moon", "page",
    "text", "clock", "retina", "immunohistochemistry", "brick", "grass", "gravel", "cell",
)  # fmt: skip

REPOST_KINDS = (
    "reencode", "resize", "brightness", "contrast", "grayscale", "webp", "png", "rotate3", "rotate5",
    "watermark", "caption", "letterbox", "mirror", "screenshot", "crop15",
)  # fmt: skip
# Not duplicates of their source nor of each other: crops overlapping under half (each
# under half of the source), 2x and 3x zooms, and a simulated burst (camera moved, the
# subject moved). The stereo pair (motorcycle left and right) is a real near-identical
# photo of one scene.
NEGATIVE_KINDS = ("crop_left", "crop_right", "zoom2", "zoom3", "burst")

WORDS = (
    "protest march downtown today police crowd city hall rally breaking news live thousands gather "
    "square students workers strike vote election tonight photo via reporter"
).split()


def source_photos() -> dict[str, Image.Image]:
    """Name -> RGB photograph, in a fixed order."""
    import matplotlib.cbook
    import skimage.data
    from sklearn.datasets import load_sample_images

    photos = {name: _rgb(getattr(skimage.data, name)()) for name in SKIMAGE_PHOTOS}
    left, right, _ = skimage.data.stereo_motorcycle()
    photos["motorcycle_left"] = _rgb(left)
    samples = load_sample_images()
    for filename, image in zip(samples.filenames, samples.images):
        photos[Path(filename).stem] = _rgb(image)
    with Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)) as hopper:
        photos["grace_hopper"] = hopper.convert("RGB")
    photos["_stereo_right"] = _rgb(right)
    return photos


def _rgb(array: np.ndarray) -> Image.Image:
    return Image.fromarray(np.asarray(array, dtype=np.uint8)).convert("RGB")


def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=max(8, int(size)))


def sentence(rng: np.random.Generator, n_words: int) -> str:
    return " ".join(rng.choice(WORDS, size=n_words))


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def jpeg(image: Image.Image, quality: int = 90) -> tuple[bytes, str]:
    return encode(image.convert("RGB"), "JPEG", quality=quality), "jpg"


def crop_fraction(image: Image.Image, left: float, top: float, right: float, bottom: float) -> Image.Image:
    w, h = image.size
    return image.crop((round(left * w), round(top * h), round(right * w), round(bottom * h)))


# --- reposts -------------------------------------------------------------------------------


def reencode(image, rng):
    return jpeg(image, int(rng.integers(45, 70)))


def resize(image, rng):
    scale = rng.uniform(0.4, 0.7)
    size = (round(image.width * scale), round(image.height * scale))
    return jpeg(image.resize(size, Image.Resampling.LANCZOS), 85)


def brightness(image, rng):
    return jpeg(ImageEnhance.Brightness(image).enhance(rng.choice([0.7, 1.35])))


def contrast(image, rng):
    return jpeg(ImageEnhance.Contrast(image).enhance(rng.choice([0.65, 1.45])))


def grayscale(image, rng):
    return jpeg(image.convert("L"))


def webp(image, rng):
    return encode(image, "WEBP", quality=70), "webp"


def png(image, rng):
    return encode(image, "PNG"), "png"


def rotate(degrees: float):
    def rotated(image, rng):
        fill = (0, 0, 0) if rng.random() < 0.5 else (255, 255, 255)
        angle = degrees * rng.choice([-1, 1])
        return jpeg(image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=fill))

    return rotated


def watermark(image, rng):
    """A semi-transparent agency mark: text, a fifth of the width or more, somewhere on the picture."""
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    text = rng.choice(["@newsdaily", "(c) Example Agency", "PHOTO: wire", "@citywatch_live"])
    size = image.height * rng.uniform(0.07, 0.11)
    box = draw.textbbox((0, 0), text, font=font(size))
    x = rng.uniform(0.03, 0.97 - min(0.94, (box[2] - box[0]) / image.width)) * image.width
    y = rng.uniform(0.05, 0.85) * image.height
    alpha = int(rng.integers(110, 170))
    draw.text((x, y), text, font=font(size), fill=(255, 255, 255, alpha), stroke_width=2, stroke_fill=(0, 0, 0, alpha))
    return jpeg(Image.alpha_composite(image.convert("RGBA"), layer), 88)


def caption(image, rng):
    """A band of text above or below the picture (a meme or news-card caption)."""
    band = round(image.height * rng.uniform(0.15, 0.25))
    background = tuple(int(v) for v in rng.choice([(255, 255, 255), (0, 0, 0), (20, 40, 90)]))
    ink = (0, 0, 0) if background == (255, 255, 255) else (255, 255, 255)
    canvas = Image.new("RGB", (image.width, image.height + band), background)
    top = rng.random() < 0.5
    canvas.paste(image, (0, band if top else 0))
    draw = ImageDraw.Draw(canvas)
    y0 = 0 if top else image.height
    size = band * 0.3
    for line in range(2):
        draw.text((band * 0.15, y0 + band * (0.12 + 0.42 * line)), sentence(rng, 5), font=font(size), fill=ink)
    return jpeg(canvas, 88)


def letterbox(image, rng):
    """Bars that fit the picture into another aspect ratio (16:9, 1:1 or 9:16)."""
    ratio = rng.choice([16 / 9, 1.0, 9 / 16])
    w, h = image.size
    if w / h < ratio:
        size = (round(h * ratio), h)
    else:
        size = (w, round(w / ratio))
    if size == (w, h):  # already that shape: use the widest other one
        size = (round(h * 16 / 9), h) if w / h < 16 / 9 else (w, round(w * 16 / 9))
    fill = (0, 0, 0) if rng.random() < 0.7 else (255, 255, 255)
    canvas = Image.new("RGB", size, fill)
    canvas.paste(image, ((size[0] - w) // 2, (size[1] - h) // 2))
    return jpeg(canvas, 88)


def mirror(image, rng):
    return jpeg(ImageOps.mirror(image))


def screenshot(image, rng):
    """A phone screenshot of a post: status bar, avatar and name, text, the picture, counts.

    The whole screen is scaled so that the picture in it is smaller than the original,
    as on a phone; the screenshot itself may still have more pixels than the photograph.
    """
    dark = rng.random() < 0.4
    background, ink, grey = ((21, 32, 43), (235, 235, 235), (140, 150, 160)) if dark else ((255, 255, 255), (15, 20, 25), (100, 110, 120))
    width = 1080
    margin = int(rng.integers(30, 60))
    picture_width = width - 2 * margin
    picture = image.resize((picture_width, round(image.height * picture_width / image.width)), Image.Resampling.LANCZOS)
    header, text_block, footer = 260, int(rng.integers(120, 260)), 160
    height = header + text_block + picture.height + footer
    canvas = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(canvas)
    draw.text((margin, 20), "9:41", font=font(34), fill=ink)
    draw.text((width - 160, 20), "5G 87%", font=font(30), fill=ink)
    draw.ellipse((margin, 100, margin + 110, 210), fill=tuple(int(v) for v in rng.integers(0, 255, 3)))
    draw.text((margin + 140, 110), "City Watch", font=font(40), fill=ink)
    draw.text((margin + 140, 160), "@citywatch_live", font=font(32), fill=grey)
    for line in range(text_block // 60):
        draw.text((margin, header + 10 + 55 * line), sentence(rng, 6), font=font(38), fill=ink)
    top = header + text_block
    canvas.paste(picture, (margin, top))
    draw.rounded_rectangle((margin - 2, top - 2, margin + picture.width + 2, top + picture.height + 2), 24, outline=grey, width=3)
    draw.text((margin, top + picture.height + 40), "1.2K Reposts   4,810 Likes   3:07 PM", font=font(32), fill=grey)
    # a phone shows a photograph smaller than it is: the picture ends up at 55-95 % of its width
    scale = image.width * rng.uniform(0.55, 0.95) / picture_width
    canvas = canvas.resize((round(width * scale), round(height * scale)), Image.Resampling.LANCZOS)
    return (encode(canvas, "PNG"), "png") if rng.random() < 0.5 else jpeg(canvas, 85)


def crop15(image, rng):
    """A crop keeping 85 % of the width and of the height, at a random position."""
    left, top = rng.uniform(0, 0.15, size=2)
    return jpeg(crop_fraction(image, left, top, left + 0.85, top + 0.85))


REPOSTS: dict[str, Callable] = {
    "reencode": reencode, "resize": resize, "brightness": brightness, "contrast": contrast,
    "grayscale": grayscale, "webp": webp, "png": png, "rotate3": rotate(3), "rotate5": rotate(5),
    "watermark": watermark, "caption": caption, "letterbox": letterbox, "mirror": mirror,
    "screenshot": screenshot, "crop15": crop15,
}  # fmt: skip
assert tuple(REPOSTS) == REPOST_KINDS


# --- hard negatives --------------------------------------------------------------------------

NEGATIVE_CROP = 0.65  # side of each of the two crops: 42 % of the source, overlapping 21 % of each


def crop_left(image, rng):
    return jpeg(crop_fraction(image, 0, 0, NEGATIVE_CROP, NEGATIVE_CROP))


def crop_right(image, rng):
    return jpeg(crop_fraction(image, 1 - NEGATIVE_CROP, 1 - NEGATIVE_CROP, 1, 1))


def zoom(factor: int):
    def zoomed(image, rng):
        side = 1 / factor
        left, top = rng.uniform(0.1, 0.9 - side, size=2)
        return jpeg(crop_fraction(image, left, top, left + side, top + side).resize(image.size, Image.Resampling.LANCZOS))

    return zoomed


def burst(image, rng):
    """The next frame of a burst: the camera moved a little and the subject moved.

    Simulated: a window shifted by 2-4 % of the frame, and in it the subject (the most
    textured region of about a third of the height and width, where a photograph's
    subject usually is) displaced by 6-10 % of the width.
    """
    shift = rng.uniform(0.02, 0.04, size=2) * rng.choice([-1, 1], size=2)
    left, top = 0.05 + shift
    frame = crop_fraction(image, left, top, left + 0.9, top + 0.9)
    w, h = frame.size
    sw, sh = round(w * rng.uniform(0.3, 0.4)), round(h * rng.uniform(0.3, 0.4))
    gray = np.asarray(frame.convert("L"), dtype=np.float64)
    energy = np.abs(np.diff(gray, axis=0))[:, :-1] + np.abs(np.diff(gray, axis=1))[:-1, :]
    integral = np.pad(energy.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    best, x, y = -1.0, 0, 0
    for cx in np.linspace(0.12 * w, 0.88 * w - sw, 8).astype(int):
        for cy in np.linspace(0.12 * h, 0.88 * h - sh, 8).astype(int):
            total = integral[cy + sh - 1, cx + sw - 1] - integral[cy, cx + sw - 1] - integral[cy + sh - 1, cx] + integral[cy, cx]
            if total > best:
                best, x, y = total, int(cx), int(cy)
    subject = frame.crop((x, y, x + sw, y + sh))
    dx = round(w * rng.uniform(0.06, 0.1))
    dx = dx if x + sw + dx <= w else -dx
    frame.paste(subject, (x + dx, y + round(h * rng.uniform(-0.03, 0.03))))
    return jpeg(frame, 90)


NEGATIVES: dict[str, Callable] = {
    "crop_left": crop_left, "crop_right": crop_right, "zoom2": zoom(2), "zoom3": zoom(3), "burst": burst,
}  # fmt: skip
assert tuple(NEGATIVES) == NEGATIVE_KINDS


@dataclass(frozen=True)
class Planted:
    image_id: str
    source: str  # the photograph it was made from
    kind: str  # original, a repost kind, a negative kind, or stereo
    picture: str  # images showing the same picture share this; duplicates of each other


def build_repost_set(outdir: Path, seed: int = 0) -> list[Planted]:
    """Write every source as ``<source>/original.jpg`` with its reposts and hard negatives."""
    rng = np.random.default_rng(seed)
    planted = []
    photos = source_photos()
    for name, photo in photos.items():
        if name.startswith("_"):
            continue
        folder = outdir / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "original.jpg").write_bytes(jpeg(photo, 95)[0])
        planted.append(Planted(f"{name}/original.jpg", name, "original", name))
        for kind, make in {**REPOSTS, **NEGATIVES}.items():
            data, extension = make(photo, rng)
            image_id = f"{name}/{kind}.{extension}"
            (outdir / image_id).write_bytes(data)
            picture = name if kind in REPOSTS else f"{name}:{kind}"
            planted.append(Planted(image_id, name, kind, picture))
    (outdir / "motorcycle_left" / "stereo_right.jpg").write_bytes(jpeg(photos["_stereo_right"], 95)[0])
    planted.append(Planted("motorcycle_left/stereo_right.jpg", "motorcycle_left", "stereo", "motorcycle_left:stereo"))
    return planted
