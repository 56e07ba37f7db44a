"""Image bytes ready for the API: sent as they are when within its limits, else re-encoded."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps

from images_as_data.autotag.settings import ImageLimits
from images_as_data.common.pixels import to_rgb

MIN_JPEG_QUALITY = 50


@dataclass(frozen=True)
class PreparedImage:
    """The bytes to send and how they relate to the original file."""

    image_id: str
    sha256: str  # of the original file: the cache key
    data: bytes
    format: str
    width: int
    height: int
    reencoded: bool
    reason: str  # why it was re-encoded ("" when sent as is)

    @property
    def sent_sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def description(self) -> dict:
        """What was sent, for the cache record (no image bytes)."""
        return {
            "reencoded": self.reencoded,
            "reason": self.reason,
            "format": self.format,
            "bytes": len(self.data),
            "width": self.width,
            "height": self.height,
            "sha256": self.sent_sha256,
        }


def limit_violations(fmt: str | None, n_bytes: int, width: int, height: int, limits: ImageLimits) -> list[str]:
    """Reasons the image cannot be sent as it is (empty when it can)."""
    reasons = []
    if fmt not in limits.formats:
        reasons.append(f"format {fmt} is not one of {'/'.join(limits.formats)}")
    if n_bytes > limits.max_bytes:
        reasons.append(f"{n_bytes} bytes exceed {limits.max_bytes}")
    if max(width, height) > limits.max_side:
        reasons.append(f"{width}x{height} pixels exceed {limits.max_side} on a side")
    if min(width, height) < limits.min_side:
        reasons.append(f"{width}x{height} pixels are below {limits.min_side} on a side")
    return reasons


def _flatten_to_rgb(image: Image.Image) -> Image.Image:
    """Upright RGB on a white background, so transparent areas do not turn black in the JPEG
    (and wide greyscale is scaled, not clipped white)."""
    return to_rgb(ImageOps.exif_transpose(image))


def _scale_to_sides(image: Image.Image, limits: ImageLimits) -> Image.Image:
    width, height = image.size
    factor = min(1.0, limits.max_side / max(width, height))
    if min(width, height) * factor < limits.min_side:
        factor = limits.min_side / min(width, height)
    if factor == 1.0:
        return image
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return image.resize(size, Image.Resampling.LANCZOS)


def _encode_jpeg_within(image: Image.Image, limits: ImageLimits) -> bytes:
    """JPEG bytes under the byte limit: lower the quality first, then the size."""
    quality = limits.jpeg_quality
    while True:
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=quality)
        if buffer.tell() <= limits.max_bytes:
            return buffer.getvalue()
        if quality > MIN_JPEG_QUALITY:
            quality = max(MIN_JPEG_QUALITY, quality - 10)
        else:
            width, height = image.size
            if min(width, height) * 0.8 < limits.min_side:
                raise ValueError(f"cannot fit the image into {limits.max_bytes} bytes at {limits.min_side} pixels a side")
            image = image.resize((round(width * 0.8), round(height * 0.8)), Image.Resampling.LANCZOS)


def prepare_image(image_id: str, path: str | Path, expected_sha256: str | None, limits: ImageLimits) -> PreparedImage:
    """Read an image and make it acceptable to the API, recording any re-encoding."""
    data = Path(path).read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    if expected_sha256 and sha256 != expected_sha256:
        raise ValueError(
            f"{path} (image_id {image_id}) changed since the inventory (sha256 {sha256} != {expected_sha256}); "
            "rerun the inventory step"
        )
    with Image.open(io.BytesIO(data)) as image:
        fmt = image.format
        width, height = image.size
        reasons = limit_violations(fmt, len(data), width, height, limits)
        if getattr(image, "n_frames", 1) > 1:
            reasons.append(f"{image.n_frames} frames; the first is sent")
        if not reasons:
            return PreparedImage(image_id, sha256, data, fmt, width, height, False, "")
        image.seek(0)
        converted = _scale_to_sides(_flatten_to_rgb(image), limits)
    encoded = _encode_jpeg_within(converted, limits)
    with Image.open(io.BytesIO(encoded)) as sent:
        sent_width, sent_height = sent.size
    return PreparedImage(image_id, sha256, encoded, "JPEG", sent_width, sent_height, True, "; ".join(reasons))
