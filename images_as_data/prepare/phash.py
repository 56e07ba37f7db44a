"""pHash of many rectangles of one grey image at once, as ``imagehash.phash`` computes it for one.

``imagehash.phash`` resizes the picture to ``4 * hash_size`` pixels square with Lanczos
resampling, takes the 2-D DCT and compares its ``hash_size x hash_size`` low-frequency
block with the block's median. Dedupe hashes about twenty rectangles of every image
(crop windows, the content inside borders, mirror images); calling PIL's resize for
each costs more than decoding the image. Here each rectangle's resize is two small
matrices of Lanczos weights (the weights PIL uses, in floating point), so all views are
two batched matrix products and one batched DCT.

PIL rounds to 8 bits between its horizontal and vertical passes and this does not, so a
coefficient lying exactly at the median may fall the other way: a view's bits can differ
from imagehash's in a bit or two (the tests bound it); the distances dedupe compares
with ``max_distance`` are not changed by more than that.
"""

from __future__ import annotations

import functools

import numpy as np
import scipy.fftpack

LANCZOS_SUPPORT = 3.0


def _lanczos(x: np.ndarray) -> np.ndarray:
    inside = np.abs(x) < LANCZOS_SUPPORT
    return np.where(inside, np.sinc(x) * np.sinc(x / LANCZOS_SUPPORT), 0.0)


def resize_weights(starts: np.ndarray, stops: np.ndarray, length: int, size: int) -> np.ndarray:
    """(n, size, length) weights taking pixels ``[start, stop)`` of a line of ``length`` to ``size`` pixels.

    As PIL's Lanczos resampling: a sample at the centre of each output pixel, the kernel
    widened by the reduction factor, weights of each output pixel summing to one.
    """
    starts = np.asarray(starts, dtype=np.float64)[:, None, None]
    stops = np.asarray(stops, dtype=np.float64)[:, None, None]
    scale = (stops - starts) / size
    widen = np.maximum(scale, 1.0)
    centres = starts + (np.arange(size)[None, :, None] + 0.5) * scale
    pixels = np.arange(length)[None, None, :] + 0.5
    weights = _lanczos((pixels - centres) / widen)
    total = weights.sum(axis=2, keepdims=True)
    return weights / np.where(total == 0, 1.0, total)


@functools.lru_cache(maxsize=4096)
def _axis_weights(start: int, stop: int, length: int, size: int, flip: bool = False) -> np.ndarray:
    """One axis's weights (float32, size x length), cached: images of one size share their windows."""
    weights = resize_weights(np.array([start]), np.array([stop]), length, size)[0].astype(np.float32)
    weights = weights[::-1] if flip else weights
    weights.setflags(write=False)
    return weights


def resample_rectangles(gray: np.ndarray, boxes: np.ndarray, mirrored: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(n, height, width) float32 pictures of rectangles of ``gray`` resampled to ``size`` (width, height)."""
    boxes = np.asarray(boxes, dtype=np.int64).reshape(-1, 4)
    height, width = gray.shape
    rows = np.stack([_axis_weights(int(top), int(bottom), height, size[1]) for top, bottom in boxes[:, [1, 3]]])
    flips = np.asarray(mirrored, dtype=bool)
    columns = np.stack([_axis_weights(int(left), int(right), width, size[0], bool(flip)) for (left, right), flip in zip(boxes[:, [0, 2]], flips)])
    return (rows @ gray.astype(np.float32)) @ columns.transpose(0, 2, 1)


def dhash_rectangles(gray: np.ndarray, boxes: np.ndarray, mirrored: np.ndarray, hash_size: int = 8) -> np.ndarray:
    """Boolean dHash bits of rectangles of ``gray``, as ``imagehash.dhash`` computes them
    (``hash_size + 1`` by ``hash_size`` pixels, each brighter than its left neighbour or not)."""
    if not len(boxes):
        return np.zeros((0, hash_size * hash_size), dtype=bool)
    pixels = resample_rectangles(gray, boxes, mirrored, (hash_size + 1, hash_size))
    return (pixels[:, :, 1:] > pixels[:, :, :-1]).reshape(len(pixels), -1)


def phash_rectangles(gray: np.ndarray, boxes: np.ndarray, mirrored: np.ndarray, hash_size: int = 8) -> np.ndarray:
    """Boolean pHash bits (one row of ``hash_size**2`` per box) of rectangles of ``gray``.

    ``boxes`` holds integer pixel boxes (left, top, right, bottom); a box whose
    ``mirrored`` flag is set is hashed left-right flipped.
    """
    if not len(boxes):
        return np.zeros((0, hash_size * hash_size), dtype=bool)
    pixels = resample_rectangles(gray, boxes, mirrored, (4 * hash_size, 4 * hash_size))
    return dct_bits(pixels.astype(np.float64), hash_size)


def dct_bits(pixels: np.ndarray, hash_size: int) -> np.ndarray:
    """pHash bits of a stack of ``4 * hash_size`` square grey pictures (imagehash's DCT and median)."""
    dct = scipy.fftpack.dct(scipy.fftpack.dct(pixels, axis=1), axis=2)[:, :hash_size, :hash_size].reshape(len(pixels), -1)
    return dct > np.median(dct, axis=1, keepdims=True)
