"""Pixel-level evidence that two pictures are one photograph: content boxes, alignment, agreement.

Used by dedupe on candidate pairs only (pairs whose hashes are close). Nothing here
knows about files, clusters or configs; images are numpy arrays.

- :func:`content_box`: the picture inside uniform borders (letterbox bars, padding,
  caption bands, the frame of a screenshot);
- :func:`hint_transforms`: the alignment a hash match implies (whole picture onto whole
  picture, content box onto content box, or onto a crop window; mirrored or not);
- :func:`feature_transform`: the alignment found by ORB keypoints and RANSAC (OpenCV),
  for rotations, crops and overlays that move the hash too far for a hint;
- :func:`compare`: warp one picture onto the other and measure how much of each the
  shared region covers and in how much of it the two agree block by block.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image, ImageOps

# A box is (left, top, right, bottom) in pixels, right and bottom exclusive.
Box = tuple[int, int, int, int]


# --- content boxes -----------------------------------------------------------------------


def _border_lines(lines: np.ndarray, tolerance: int, limit: int) -> int:
    """How many leading lines (axis 0 of ``lines``: line x pixel x channel) are border.

    A border starts with a uniform line: at least ``UNIFORM`` of its pixels within
    ``UNIFORM_TOLERANCE`` of its median colour in every channel (bars, padding, the
    margin of a caption band or of a screenshot). Two shapes count:

    - a frame with text: the lines go on having at least ``EDGE`` of their pixels within
      ``tolerance`` of that colour (text on a band or a screenshot leaves that many even
      in bold type), at least ``SPACING`` of those after the first uniform ones nearly
      all that colour again (the gaps between lines of type, JPEG ringing and all), up
      to a clear edge: a line with under ``EDGE`` of its pixels near the
      colour, where the picture starts;
    - plain bars: lines with at least ``UNIFORM`` of their pixels within ``tolerance``
      of the colour (the bar, and the JPEG ringing where it meets the picture), at least
      ``BARS_UNIFORM`` of them uniform, up to an edge: within two lines, a line with
      under ``UNIFORM_EDGE`` of its pixels near the colour. A flat background that fades into
      the subject (a dish under a microscope, a sky over rooftops) drifts out of the
      uniform tolerance and has no such edge, and is kept, so that a crop of the subject
      is not taken for the whole picture.

    Bars in the colour of the picture's own edge have no edge: :func:`_flat_bars`.
    """
    if limit <= 0:
        return 0
    colour = np.median(lines[0], axis=0).astype(np.int16)

    def profile(stop: int) -> tuple[np.ndarray, np.ndarray]:
        difference = _channel_max(np.abs(lines[:stop].astype(np.int16) - colour))
        return (difference <= UNIFORM_TOLERANCE).mean(axis=1), (difference <= tolerance).mean(axis=1)

    tight, near = profile(1)
    if tight[0] < UNIFORM:
        return 0  # most pictures stop here, after one line
    # read lines in growing blocks until the run of border-coloured lines has ended
    stop = 1
    while stop < limit + 1 and (near >= EDGE).all():
        stop = min(limit + 1, max(32, 2 * stop))
        tight, near = profile(stop)
    uniform_lines = tight >= UNIFORM
    uniform = int(np.argmin(uniform_lines)) if not uniform_lines.all() else len(near)
    framed = int(np.argmin(near >= EDGE)) if not (near >= EDGE).all() else len(near)
    if uniform < framed < len(near) and (near[uniform:framed] >= UNIFORM).mean() >= SPACING:
        return min(framed, limit)
    bars = int(np.argmin(near >= UNIFORM)) if not (near >= UNIFORM).all() else len(near)
    # the edge may take a line or two to fall (resampling, chroma subsampling)
    falls = np.flatnonzero(near[bars : bars + 3] < UNIFORM_EDGE)
    if bars < len(near) and falls.size and uniform_lines[:bars].mean() >= BARS_UNIFORM:
        return min(bars + int(falls[0]), limit)
    if uniform < len(near) and tight[uniform] < UNIFORM_EDGE:  # an edge too sharp to ring
        return min(uniform, limit)
    return 0


def _channel_max(pixels: np.ndarray) -> np.ndarray:
    """The largest of the three channels of (..., 3) pixels (numpy's max over an axis of 3 is
    an order of magnitude slower than two element-wise maxima)."""
    return np.maximum(np.maximum(pixels[..., 0], pixels[..., 1]), pixels[..., 2])


def _flat_lines(lines: np.ndarray, limit: int) -> int:
    """How many leading lines (up to ``limit``) have ``FLAT`` of their pixels within
    ``FLAT_TOLERANCE`` of the first line's median colour."""
    if limit <= 0:
        return 0
    colour = np.median(lines[0], axis=0).astype(np.int16)
    stop = 1
    while True:
        difference = _channel_max(np.abs(lines[:stop].astype(np.int16) - colour))
        flat = (difference <= FLAT_TOLERANCE).mean(axis=1) >= FLAT
        if not flat.all():
            return int(np.argmin(flat))
        if stop >= limit:
            return limit
        stop = min(limit, max(32, 2 * stop))


def _flat_bars(lines: np.ndarray, limit: int) -> tuple[int, int]:
    """Flat bars at both ends of ``lines`` (axis 0): how many lines each, or (0, 0).

    A bar a reposter adds is one colour and decodes as one colour (JPEG and WebP store a
    flat block exactly), while the edge of a photograph, however dark or pale, has noise,
    grain or stars: this finds bars in the colour of the picture's own edge (black bars
    on a star field or around a fundus picture, white bars on a page), which have no
    edge to stop at. Bars that reframe a picture into another shape are centred, so both
    ends must have them, at least ``FLAT_MIN_SHARE`` of the side each and of about one
    width (within ``FLAT_BALANCE`` of the side, at least 4 lines: JPEG ringing reaches
    into one bar further than into the other). A flat run at one end only (a blown-out
    sky, clipped white paper) is the photograph's own, and stays.
    """
    first = _flat_lines(lines, limit)
    if first < max(2, FLAT_MIN_SHARE * len(lines)):
        return 0, 0
    last = _flat_lines(lines[::-1], limit - first)
    if last < max(2, FLAT_MIN_SHARE * len(lines)) or abs(first - last) > max(4, FLAT_BALANCE * len(lines)):
        return 0, 0
    return first, last


# share of a uniform line's pixels near its median colour (JPEG ringing spoils a few)
UNIFORM = 0.97
UNIFORM_TOLERANCE = 6
SPACING = 0.2
UNIFORM_EDGE = 0.75
BARS_UNIFORM = 0.7
# share of the border colour below which a line belongs to the picture
EDGE = 0.15
# A flat line: this share of its pixels within FLAT_TOLERANCE of the colour (the edge
# of a dark photograph reduced to the analysis size still has under 70 % within 3: the
# star field's; a bar has all). Bars that reframe a picture are a few per cent of the
# side or more; fewer flat lines than FLAT_MIN_SHARE are left to _border_lines (the
# black surround of a round fundus picture is flat for a line or two where the disc
# does not reach the frame).
FLAT = 0.99
FLAT_TOLERANCE = 2
FLAT_MIN_SHARE = 0.02
FLAT_BALANCE = 0.03


def content_box(rgb: np.ndarray, tolerance: int = 24, keep: float = 0.25) -> Box:
    """The picture inside uniform borders of an (H, W, 3) uint8 image.

    Each side is trimmed while its outermost line is border (:func:`_border_lines`),
    alternating rows and columns until nothing changes, as a column's share of border
    pixels rises once the rows of a caption or frame are gone. At least ``keep`` of each
    side remains, so a nearly uniform picture is never trimmed away.
    """
    height, width = rgb.shape[:2]
    left, top, right, bottom = 0, 0, width, height
    min_w, min_h = max(1, math.ceil(keep * width)), max(1, math.ceil(keep * height))
    for _ in range(4):
        before = (left, top, right, bottom)
        # flat bars (_flat_bars) where the rules of _border_lines find less: those also
        # take the lines where a bar with an edge rings
        first, last = _flat_bars(rgb[top:bottom, left:right], bottom - top - min_h)
        top += max(first, _border_lines(rgb[top:bottom, left:right], tolerance, bottom - top - min_h))
        bottom -= min(max(last, _border_lines(rgb[top:bottom, left:right][::-1], tolerance, bottom - top - min_h)), bottom - top - min_h)
        first, last = _flat_bars(rgb[top:bottom, left:right].transpose(1, 0, 2), right - left - min_w)
        columns = rgb[top:bottom, left:right].transpose(1, 0, 2)
        left += max(first, _border_lines(columns, tolerance, right - left - min_w))
        columns = rgb[top:bottom, left:right].transpose(1, 0, 2)
        right -= min(max(last, _border_lines(columns[::-1], tolerance, right - left - min_w)), right - left - min_w)
        if (left, top, right, bottom) == before:
            break
    return left, top, right, bottom


def fill_area(rgb: np.ndarray, box: Box, tolerance: int = 4) -> int:
    """Pixels of ``box`` in the corner triangles a turned copy fills, or 0 (see :func:`fill_mask`)."""
    mask = fill_mask(rgb, box, tolerance)
    return int(mask.sum()) if mask is not None else 0


def fill_mask(rgb: np.ndarray, box: Box, tolerance: int = 4) -> np.ndarray | None:
    """The corner triangles a turned copy fills, as a mask of ``box`` (None if there are none).

    A picture turned by an angle in an enlarged frame leaves a flat right triangle in
    each corner, whose hypotenuse is a side of the picture: its legs are that side
    times the cosine and the sine of the angle. From each corner whose 3 x 3 pixels are
    one colour (within 2), the region within ``tolerance`` of that colour connected to
    it is flood-filled; it counts if it is a triangle (it stops short of the next corner
    on both edges, and fills at most ``TRIANGLE`` of the rectangle its runs along the two
    edges span, where a flat sky fills all of it). The triangles of at least three
    corners must then fit one turn (:func:`_one_turn`): a backdrop around a subject, the
    dark surround of a round microscope or fundus picture, or a vignette also leaves
    flat corners, but not slivers with one angle and alternating long legs.
    """
    left, top, right, bottom = box
    region = np.array(rgb[top:bottom, left:right])  # floodFill needs a writable image, even when it only marks the mask
    height, width = region.shape[:2]
    if height < 3 or width < 3:
        return None
    flags = 4 | cv2.FLOODFILL_MASK_ONLY | cv2.FLOODFILL_FIXED_RANGE | (1 << 8)
    union = np.zeros((height, width), dtype=bool)
    legs = {}
    for corner, (x, y) in enumerate(((0, 0), (width - 1, 0), (0, height - 1), (width - 1, height - 1))):
        patch = region[max(0, y - 1) : y + 2, max(0, x - 1) : x + 2].reshape(-1, region.shape[2]).astype(np.int16)
        if (patch.max(axis=0) - patch.min(axis=0)).max() > 2:
            continue
        mask = np.zeros((height + 2, width + 2), dtype=np.uint8)
        cv2.floodFill(region, mask, (x, y), 0, (tolerance,) * 3, (tolerance,) * 3, flags)
        filled = mask[1:-1, 1:-1] > 0
        run_x, run_y = int(filled[y].sum()), int(filled[:, x].sum())
        if run_x < width and run_y < height and filled.sum() <= TRIANGLE * run_x * run_y:
            union |= filled
            legs[corner] = (run_x, run_y)
    return union if len(legs) >= 3 and _one_turn(legs) else None


def _one_turn(legs: dict[int, tuple[int, int]]) -> bool:
    """Whether corner triangles (corner 0-3: top left, top right, bottom left, bottom right;
    legs along x and y) fit one turn: the long leg on one axis at opposite corners and on
    the other at neighbouring ones, and one angle (within ``TURN_SPREAD`` degrees) of at
    most ``MAX_TURN`` degrees."""
    along_x = {corner: run_x >= run_y for corner, (run_x, run_y) in legs.items()}
    opposite, neighbouring = ((0, 3), (1, 2)), ((0, 1), (0, 2), (3, 1), (3, 2))
    if any(along_x[i] != along_x[j] for i, j in opposite if i in legs and j in legs):
        return False
    if any(along_x[i] == along_x[j] for i, j in neighbouring if i in legs and j in legs):
        return False
    angles = [math.degrees(math.atan2(min(leg), max(leg))) for leg in legs.values()]
    return max(angles) - min(angles) <= TURN_SPREAD and max(angles) <= MAX_TURN


# Angles (degrees) the corner triangles of one turned copy may differ by: JPEG ringing
# and colours of the picture near the fill move a triangle's legs by a pixel or two.
TURN_SPREAD = 3.0
# Reposts are turned by a few degrees (a phone held askew, a scan); flat corners whose
# triangles would mean a larger turn are more often a vignette or a backdrop. A copy
# turned further is still told by the pixel checks (dedupe's discount_turned).
MAX_TURN = 15.0


# A right triangle fills half the rectangle of its two sides (more once JPEG ringing
# rounds its tip); flood fills that fill the rectangle are flat backgrounds.
TRIANGLE = 0.9


# --- views and transforms ----------------------------------------------------------------

# Grey fills the corners a turned view exposes: halfway between the black and white
# corners a rotated repost may have.
FILL_LEVEL = 128


@dataclass(frozen=True)
class View:
    """A picture derived from an image: a rectangle of it, then mirrored, then turned.

    ``rect`` is (left, top, right, bottom) as fractions of the image's width and height;
    ``degrees`` turns counter-clockwise (as PIL's ``Image.rotate``), enlarging the frame
    to hold the whole rectangle. Hashes of views of two images that are close say how
    the two relate (:func:`view_transform`).
    """

    kind: str
    rect: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)
    mirror: bool = False
    degrees: float = 0.0

    def pixels(self, width: int, height: int) -> Box:
        left, top, right, bottom = self.rect
        box = (round(left * width), round(top * height), round(right * width), round(bottom * height))
        return box[0], box[1], max(box[2], box[0] + 1), max(box[3], box[1] + 1)

    def render(self, image: Image.Image) -> Image.Image:
        box = self.pixels(*image.size)
        view = image.crop(box) if box != (0, 0, *image.size) else image
        if self.mirror:
            view = ImageOps.mirror(view)
        if self.degrees:
            view = view.rotate(self.degrees, resample=Image.Resampling.BILINEAR, expand=True, fillcolor=(FILL_LEVEL,) * len(view.getbands()))
        return view

    def to_unit(self, width: int, height: int) -> np.ndarray:
        """3x3 matrix from an image's pixel coordinates to the view's, scaled to the unit square."""
        left, top, right, bottom = self.pixels(width, height)
        w, h = right - left, bottom - top
        matrix = np.array([[1.0, 0.0, -left], [0.0, 1.0, -top], [0.0, 0.0, 1.0]])
        if self.mirror:
            matrix = np.array([[-1.0, 0.0, w], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]) @ matrix
        out_w, out_h = float(w), float(h)
        if self.degrees:
            # PIL turns counter-clockwise on screen; with y pointing down that is x' = c x + s y, y' = -s x + c y
            c, s = math.cos(math.radians(self.degrees)), math.sin(math.radians(self.degrees))
            out_w, out_h = w * abs(c) + h * abs(s), w * abs(s) + h * abs(c)
            centre = np.array([[1.0, 0.0, -w / 2], [0.0, 1.0, -h / 2], [0.0, 0.0, 1.0]])
            turn = np.array([[c, s, out_w / 2], [-s, c, out_h / 2], [0.0, 0.0, 1.0]])
            matrix = turn @ centre @ matrix
        return np.diag([1 / out_w, 1 / out_h, 1.0]) @ matrix


def view_transform(view_a: View, size_a: tuple[int, int], view_b: View, size_b: tuple[int, int]) -> np.ndarray:
    """The 2x3 affine map of B's pixels onto A's when view ``view_b`` of B shows the same as ``view_a`` of A."""
    return (np.linalg.inv(view_a.to_unit(*size_a)) @ view_b.to_unit(*size_b))[:2]


def box_transform(source: Box, target: Box, mirror: bool = False) -> np.ndarray:
    """The 2x3 affine map taking box ``source`` onto box ``target`` (left-right flipped if ``mirror``)."""
    sx = (target[2] - target[0]) / max(1, source[2] - source[0])
    sy = (target[3] - target[1]) / max(1, source[3] - source[1])
    if mirror:
        return np.array([[-sx, 0.0, target[0] + sx * source[2]], [0.0, sy, target[1] - sy * source[1]]])
    return np.array([[sx, 0.0, target[0] - sx * source[0]], [0.0, sy, target[1] - sy * source[1]]])


def mirror_image(gray: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(gray[:, ::-1])


@dataclass
class Features:
    """ORB keypoints (x, y) and their binary descriptors, of a picture and of its mirror image."""

    points: np.ndarray
    descriptors: np.ndarray | None
    mirror_points: np.ndarray
    mirror_descriptors: np.ndarray | None


_ORB_CACHE: dict[int, cv2.ORB] = {}


def orb_features(gray: np.ndarray, box: Box | None = None, n_features: int = 500) -> Features:
    """ORB keypoints inside ``box`` of ``gray`` and of its mirror image (ORB descriptors are not mirror invariant).

    Keeping to the content box keeps a screenshot's or caption's text from crowding
    out the picture's keypoints.
    """
    orb = _ORB_CACHE.setdefault(n_features, cv2.ORB_create(nfeatures=n_features, fastThreshold=10, edgeThreshold=15, patchSize=15))
    mask = _box_mask(gray.shape, box) if box is not None else None
    found = []
    for image, region in ((gray, mask), (mirror_image(gray), None if mask is None else mirror_image(mask))):
        keypoints, descriptors = orb.detectAndCompute(image, region)
        found.append((np.array([k.pt for k in keypoints], dtype=np.float32).reshape(-1, 2), descriptors))
    return Features(found[0][0], found[0][1], found[1][0], found[1][1])


@dataclass(frozen=True)
class Alignment:
    """A transform of picture B's pixels into picture A's, and the keypoint evidence for it."""

    matrix: np.ndarray
    mirror: bool
    inliers: int = 0
    matches: int = 0


def feature_transform(
    a: Features, b: Features, width_b: int, min_inliers: int = 12, ratio: float = 0.8
) -> list[Alignment]:
    """Similarity transforms (rotation, scale, shift; B mirrored or not) fitted to matched ORB keypoints.

    Matches pass Lowe's ratio test; RANSAC keeps transforms with at least
    ``min_inliers`` inliers. Returns the plain and the mirrored fit where found,
    most inliers first.
    """
    found = []
    if a.descriptors is None:
        return found
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    for mirror, points, descriptors in ((False, b.points, b.descriptors), (True, b.mirror_points, b.mirror_descriptors)):
        if descriptors is None or len(descriptors) < 2 or len(a.descriptors) < 2:
            continue
        pairs = matcher.knnMatch(descriptors, a.descriptors, k=2)
        good = [m for m, n in (p for p in pairs if len(p) == 2) if m.distance < ratio * n.distance]
        if len(good) < min_inliers:
            continue
        source = points[[m.queryIdx for m in good]]
        target = a.points[[m.trainIdx for m in good]]
        matrix, inlier_mask = cv2.estimateAffinePartial2D(
            source, target, method=cv2.RANSAC, ransacReprojThreshold=3.0, maxIters=2000, confidence=0.995, refineIters=10
        )
        if matrix is None or int(inlier_mask.sum()) < min_inliers:
            continue
        if mirror:  # the points were found on the mirror image: compose with the flip
            matrix = matrix @ np.array([[-1.0, 0.0, width_b - 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
        found.append(Alignment(matrix, mirror, int(inlier_mask.sum()), len(good)))
    return sorted(found, key=lambda alignment: -alignment.inliers)


def turn_degrees(matrix: np.ndarray) -> float:
    """Degrees a 2x3 similarity (or near-similarity) turns by, counter-clockwise as :class:`View`; a mirror is taken out first."""
    linear = np.asarray(matrix, dtype=np.float64)[:, :2]
    if np.linalg.det(linear) < 0:
        linear = linear @ np.diag([-1.0, 1.0])
    return float(np.degrees(np.arctan2(linear[0, 1], linear[0, 0])))


# The refinement runs coarse to fine: at these longer sides (pixels; the last one, 0,
# at the analysis size), with at most this many iterations each.
REFINE_SIDES = (160, 0)
REFINE_ITERATIONS = (30, 10)
# A refinement is a correction of a few pixels towards a similarity (copies are resized,
# cropped, turned or mirrored, not sheared): one that moves a corner of B by more than
# this share of B's longer side, or stretches one axis against the other by more than
# REFINE_STRETCH, is fitting a difference, not an error, and is dropped.
REFINE_SHIFT = 0.03
REFINE_STRETCH = 1.03


def refine_transform(gray_a: np.ndarray, gray_b: np.ndarray, box_b: Box, matrix: np.ndarray) -> np.ndarray | None:
    """``matrix`` (B's pixels onto A's) refined on the pixels by OpenCV's ECC (the affine map
    maximising the correlation of A with B's content box), or None where it does not converge.

    Coarse to fine (:data:`REFINE_SIDES`): a pixel off at the analysis size is what
    leaves blocks along a turned copy's edges disagreeing, so the last pass is at full
    size, started from the coarse pass's answer.
    """
    full = np.vstack([np.asarray(matrix, dtype=np.float64), [0.0, 0.0, 1.0]])
    for side, iterations in zip(REFINE_SIDES, REFINE_ITERATIONS):
        scale_a = min(1.0, side / max(gray_a.shape)) if side else 1.0
        scale_b = min(1.0, side / max(gray_b.shape)) if side else 1.0
        small_a = cv2.resize(gray_a, None, fx=scale_a, fy=scale_a, interpolation=cv2.INTER_AREA) if scale_a < 1 else gray_a
        small_b = cv2.resize(gray_b, None, fx=scale_b, fy=scale_b, interpolation=cv2.INTER_AREA) if scale_b < 1 else gray_b
        mask_b = _box_mask(small_b.shape, tuple(round(v * scale_b) for v in box_b))  # type: ignore[arg-type]
        to_small_a, from_small_b = np.diag([scale_a, scale_a, 1.0]), np.diag([1 / scale_b, 1 / scale_b, 1.0])
        # ECC maps the template's (A's) coordinates into the input's (B's)
        warp = np.linalg.inv(to_small_a @ full @ from_small_b)[:2].astype(np.float32)
        criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, iterations, 1e-4)
        try:
            _, warp = cv2.findTransformECC(small_a.astype(np.float32), small_b.astype(np.float32), warp, cv2.MOTION_AFFINE, criteria, mask_b, 5)
        except cv2.error:  # no convergence: the pictures do not correlate under any nearby warp
            return None
        small = np.linalg.inv(np.vstack([warp.astype(np.float64), [0.0, 0.0, 1.0]]))
        full = np.linalg.inv(to_small_a) @ small @ np.linalg.inv(from_small_b)
    height, width = gray_b.shape
    corners = np.array([[0.0, width, 0.0, width], [0.0, 0.0, height, height], [1.0, 1.0, 1.0, 1.0]])
    start = np.vstack([np.asarray(matrix, dtype=np.float64), [0.0, 0.0, 1.0]])
    # in B's pixels: where A's points land in B before and after
    shift = np.abs(np.linalg.solve(full, start @ corners) - corners)[:2].max() / max(height, width)
    singular = np.linalg.svd(full[:2, :2], compute_uv=False)
    if shift > REFINE_SHIFT or singular[0] / singular[1] > REFINE_STRETCH:
        return None
    return full[:2]


# --- comparison ----------------------------------------------------------------------------


@dataclass
class Comparison:
    """How two aligned pictures relate: the shared region's share of each, and their agreement in it."""

    coverage_a: float
    coverage_b: float
    agreement: float
    blocks: int
    # the largest 4-connected region of disagreeing blocks, as a share of the blocks
    largest_difference: float = 0.0
    # the aligned grids (A, B, shared mask) the motion is measured on, when asked for
    grids: tuple[np.ndarray, np.ndarray, np.ndarray] | None = field(default=None, repr=False, compare=False)
    _motion: float | None = field(default=None, repr=False, compare=False)

    @property
    def coverage(self) -> float:
        return min(self.coverage_a, self.coverage_b)

    @property
    def motion(self) -> float:
        """The largest connected region that moved between the two, as a share of the shared
        region: the larger of what dense optical flow (:func:`flow_motion`) and patch matching
        (:func:`patch_motion`) find moved by over ``MOTION_PIXELS`` of the comparison grid.

        Computed on first use: the two cost more than the rest of the comparison, and
        are only needed for pairs that pass the other tests."""
        if self._motion is None:
            self._motion = max(flow_motion(*self.grids), patch_motion(*self.grids)) if self.grids is not None else 0.0
        return self._motion

    @property
    def motion_measured(self) -> bool:
        return self._motion is not None


NO_OVERLAP = Comparison(0.0, 0.0, 0.0, 0)


def _box_mask(shape: tuple[int, int], box: Box) -> np.ndarray:
    mask = np.zeros(shape, dtype=np.uint8)
    mask[box[1] : box[3], box[0] : box[2]] = 255
    return mask


# Flow (in pixels of the comparison grid) above which a pixel counts as moved: 2 % of
# the grid's longer side, above what alignment error and resampling leave.
MOTION_PIXELS = 3.5
# Width of the rim of the shared region where motion is not measured (grid pixels: 6 %).
MOTION_RIM = 8


def _robust_standardise(values: np.ndarray) -> np.ndarray:
    low, median, high = np.percentile(values, [25, 50, 75])
    return (values - median) / max((high - low) / 1.349, 1e-6)


def compare(
    gray_a: np.ndarray,
    box_a: Box,
    gray_b: np.ndarray,
    box_b: Box,
    matrix: np.ndarray,
    grid: int = 128,
    block: int = 6,
    min_correlation: float = 0.5,
    flat: float = 0.1,
    level: float = 0.35,
) -> Comparison:
    """Warp B's content box into A's frame by ``matrix`` and compare the shared region.

    Coverage: the shared region's share of A's content box and of B's (B's measured in
    its own pixels: the area over ``|det matrix|``). Agreement: the shared region's
    bounding box is resampled so its longer side is ``grid`` pixels and cut into
    ``block`` x ``block`` blocks; a block fully inside the shared region agrees when both
    are textured and correlate (zero-mean normalised correlation >= ``min_correlation``,
    which ignores brightness, contrast and colour changes), or both are flat with
    similar standardised brightness. Agreement is the share of agreeing blocks.
    """
    height, width = gray_a.shape
    warped = cv2.warpAffine(gray_b, matrix, (width, height), flags=cv2.INTER_LINEAR, borderValue=0)
    frame_b = np.full(gray_b.shape, 255, dtype=np.uint8)
    in_b = cv2.warpAffine(frame_b, matrix, (width, height), flags=cv2.INTER_NEAREST, borderValue=0) > 0
    box_b_in_a = cv2.warpAffine(_box_mask(gray_b.shape, box_b), matrix, (width, height), flags=cv2.INTER_NEAREST, borderValue=0) > 0
    box_a_mask = _box_mask(gray_a.shape, box_a) > 0
    # Coverage: the share of each content box inside the other picture's frame, so that a
    # border one picture has and the other lacks counts against neither.
    scale = abs(float(np.linalg.det(matrix[:, :2])))
    area_a = (box_a[2] - box_a[0]) * (box_a[3] - box_a[1])
    area_b = (box_b[2] - box_b[0]) * (box_b[3] - box_b[1]) * scale
    coverage_a = float((in_b & box_a_mask).sum()) / area_a
    coverage_b = min(1.0, float(box_b_in_a.sum()) / max(area_b, 1e-9))
    # agreement is measured where both pictures have content
    shared = box_a_mask & box_b_in_a
    if not shared.any():
        return Comparison(coverage_a, coverage_b, 0.0, 0)
    rows, columns = np.flatnonzero(shared.any(axis=1)), np.flatnonzero(shared.any(axis=0))
    top, bottom, left, right = rows[0], rows[-1] + 1, columns[0], columns[-1] + 1
    factor = grid / max(bottom - top, right - left)
    size = (max(block, round((right - left) * factor)), max(block, round((bottom - top) * factor)))
    pieces = [
        cv2.resize(np.ascontiguousarray(image[top:bottom, left:right]).astype(np.float32), size, interpolation=cv2.INTER_AREA)
        for image in (gray_a, warped, shared.astype(np.float32))
    ]
    a, b, inside = pieces
    rows_b, cols_b = size[1] // block, size[0] // block
    if rows_b == 0 or cols_b == 0:
        return Comparison(coverage_a, coverage_b, 0.0, 0)

    def blocks(image: np.ndarray) -> np.ndarray:
        cut = image[: rows_b * block, : cols_b * block]
        return cut.reshape(rows_b, block, cols_b, block).transpose(0, 2, 1, 3).reshape(rows_b * cols_b, block * block)

    full = blocks(inside).min(axis=1) > 0.99
    if not full.any():
        return Comparison(coverage_a, coverage_b, 0.0, 0)
    a_blocks, b_blocks = blocks(a)[full], blocks(b)[full]
    # Standardise each picture over the shared region so that brightness and contrast
    # changes cancel; by median and interquartile range, which an overlay (a watermark's
    # strokes) barely moves, unlike the mean and standard deviation of a dull picture.
    a_blocks, b_blocks = _robust_standardise(a_blocks), _robust_standardise(b_blocks)
    a_centred = a_blocks - a_blocks.mean(axis=1, keepdims=True)
    b_centred = b_blocks - b_blocks.mean(axis=1, keepdims=True)
    a_std, b_std = np.sqrt((a_centred**2).mean(axis=1)), np.sqrt((b_centred**2).mean(axis=1))
    textured = (a_std > flat) & (b_std > flat)
    correlation = (a_centred * b_centred).mean(axis=1) / np.maximum(a_std * b_std, 1e-9)
    both_flat = (a_std <= flat) & (b_std <= flat)
    same_level = np.abs(a_blocks.mean(axis=1) - b_blocks.mean(axis=1)) < level
    agree = (textured & (correlation >= min_correlation)) | (both_flat & same_level)
    grid_disagree = np.zeros(rows_b * cols_b, dtype=np.uint8)
    grid_disagree[np.flatnonzero(full)[~agree]] = 1
    n_labels, _, stats, _ = cv2.connectedComponentsWithStats(grid_disagree.reshape(rows_b, cols_b), connectivity=4)
    largest = int(stats[1:, cv2.CC_STAT_AREA].max()) if n_labels > 1 else 0
    return Comparison(coverage_a, coverage_b, float(agree.mean()), int(full.sum()), largest / int(full.sum()), (a, b, inside > 0.5))


def flow_motion(a: np.ndarray, b: np.ndarray, inside: np.ndarray) -> float:
    """The largest connected region of ``inside`` where B moved against A, as a share of ``inside``.

    Farneback's dense optical flow between the aligned pictures, after histogram
    equalisation (brightness, contrast and tone changes); outside the shared region
    B is replaced by A so that the frame's edge does not look like motion. A subject
    that moved between two frames of a burst, or the parallax of a stereo pair, moves
    a region; recompression, resampling or a watermark barely move anything.
    """
    a8 = cv2.equalizeHist(np.clip(a, 0, 255).astype(np.uint8))
    b8 = cv2.equalizeHist(np.where(inside, np.clip(b, 0, 255), np.clip(a, 0, 255)).astype(np.uint8))
    flow = cv2.calcOpticalFlowFarneback(a8, b8, None, 0.5, 3, 9, 3, 5, 1.1, 0)
    # the rim of the shared region is left out: there a turned copy's corner fill or a
    # border one picture has and the other lacks meet the picture, and the flow follows them
    interior = cv2.erode(inside.astype(np.uint8), np.ones((2 * MOTION_RIM + 1,) * 2, np.uint8)) > 0
    moving = ((np.hypot(flow[..., 0], flow[..., 1]) > MOTION_PIXELS) & interior).astype(np.uint8)
    n_labels, _, stats, _ = cv2.connectedComponentsWithStats(moving, connectivity=8)
    return float(stats[1:, cv2.CC_STAT_AREA].max() / max(int(interior.sum()), 1)) if n_labels > 1 else 0.0


# Patch matching (on the comparison grid): patches of MOTION_PATCH pixels every
# MOTION_STEP, each looked for in A within MOTION_SEARCH pixels (12 % of the grid's longer
# side: a burst's subject moves a few per cent to a tenth of the frame). A patch moved when
# A shows it better elsewhere than in place: the best match correlates at least
# MOVED_MATCH and MOVED_GAIN more than the match in place, more than MOTION_PIXELS away.
MOTION_PATCH = 12
MOTION_STEP = 6
MOTION_SEARCH = 16
MOVED_MATCH = 0.7
MOVED_GAIN = 0.3
# A patch of B flatter than this (standard deviation in grey levels) matches anywhere:
# it counts as not moved.
MOTION_FLAT = 2.0


def patch_motion(a: np.ndarray, b: np.ndarray, inside: np.ndarray) -> float:
    """The largest connected region of B's patches found displaced in A, as a share of the
    patches inside the shared region.

    The flow (:func:`flow_motion`) follows texture: on a plain page or a smooth picture its
    window sees little to track and a moved subject (handwriting shifted on a page, a
    figure stepping across a plain wall) leaves it near zero. Matching each patch of B
    against A around its place finds that content where it went, with one shift for the
    whole moved region; a copy's patches are best matched in place, and an overlay's
    (a watermark's strokes) are found nowhere in A. Only patches that match poorly in
    place are searched (above 1 - MOVED_GAIN no match elsewhere can beat the one in place
    by MOVED_GAIN), so a copy costs one vectorised correlation of its patches.
    """
    windows = (MOTION_PATCH, MOTION_PATCH)
    patches_a = sliding_window_view(a, windows)[::MOTION_STEP, ::MOTION_STEP]
    patches_b = sliding_window_view(b, windows)[::MOTION_STEP, ::MOTION_STEP]
    counted = sliding_window_view(inside, windows)[::MOTION_STEP, ::MOTION_STEP].all(axis=(2, 3))
    if not counted.any():
        return 0.0
    centred_a = patches_a - patches_a.mean(axis=(2, 3), keepdims=True)
    centred_b = patches_b - patches_b.mean(axis=(2, 3), keepdims=True)
    spread_b = np.sqrt((centred_b**2).mean(axis=(2, 3)))
    in_place = (centred_a * centred_b).mean(axis=(2, 3)) / np.maximum(np.sqrt((centred_a**2).mean(axis=(2, 3))) * spread_b, 1e-9)
    searched = counted & (spread_b >= MOTION_FLAT) & (in_place <= 1 - MOVED_GAIN)
    moved = np.zeros(counted.shape, dtype=np.uint8)
    a32, b32 = a.astype(np.float32), b.astype(np.float32)
    for row, column in zip(*np.nonzero(searched)):
        y, x = row * MOTION_STEP, column * MOTION_STEP
        top, left = max(0, y - MOTION_SEARCH), max(0, x - MOTION_SEARCH)
        scores = cv2.matchTemplate(
            a32[top : y + MOTION_PATCH + MOTION_SEARCH, left : x + MOTION_PATCH + MOTION_SEARCH],
            b32[y : y + MOTION_PATCH, x : x + MOTION_PATCH],
            cv2.TM_CCOEFF_NORMED,
        )
        best_y, best_x = np.unravel_index(int(np.argmax(scores)), scores.shape)
        best = float(scores[best_y, best_x])
        if best >= MOVED_MATCH and best - in_place[row, column] >= MOVED_GAIN and math.hypot(best_y + top - y, best_x + left - x) > MOTION_PIXELS:
            moved[row, column] = 1
    if not moved.any():
        return 0.0
    _, _, stats, _ = cv2.connectedComponentsWithStats(moved, connectivity=8)
    return float(stats[1:, cv2.CC_STAT_AREA].max() / counted.sum())
