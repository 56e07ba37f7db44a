"""Pixel evidence for dedupe: content boxes, turned-copy fill, view geometry, comparisons."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from images_as_data.prepare.image_match import (
    View,
    box_transform,
    compare,
    content_box,
    feature_transform,
    fill_area,
    fill_mask,
    flow_motion,
    orb_features,
    refine_transform,
    turn_degrees,
    view_transform,
)

from .photos import (
    burst_frame,
    caption_band,
    crop,
    handwritten_page,
    letterbox,
    mirrored,
    night_sky,
    page_burst_frame,
    photo,
    turned,
)


def gray(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("L"))


def full(array: np.ndarray) -> tuple[int, int, int, int]:
    return 0, 0, array.shape[1], array.shape[0]


def jpeg(image: Image.Image, quality: int = 85) -> Image.Image:
    import io

    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return Image.open(buffer).convert("RGB")


@pytest.mark.parametrize("fill", [(0, 0, 0), (255, 255, 255), (20, 40, 90)])
def test_letterbox_bars_are_trimmed(fill):
    base = photo(1, (240, 180))
    boxed = np.asarray(jpeg(letterbox(base, 16 / 9, fill)))
    left, top, right, bottom = content_box(boxed)
    bar = (boxed.shape[1] - 240) // 2
    assert abs(left - bar) <= 2 and abs(right - (bar + 240)) <= 2 and (top, bottom) == (0, 180)


@pytest.mark.parametrize("ratio", [9 / 16, 16 / 9])
def test_bars_in_the_colour_of_the_pictures_edge_are_trimmed(ratio):
    """Black bars on a dark picture meet no edge (the picture's own border is near black);
    they are told by being flat, which no photograph's edge is. The picture alone is kept whole."""
    sky = night_sky(18, (300, 260), glow=0)
    assert content_box(np.asarray(jpeg(sky))) == (0, 0, 300, 260)
    boxed = np.asarray(jpeg(letterbox(sky, ratio, (0, 0, 0)), 88))
    left, top, right, bottom = content_box(boxed)
    x, y = (boxed.shape[1] - 300) // 2, (boxed.shape[0] - 260) // 2
    # the bar's lines in the JPEG block that straddles the edge ring, and may stay
    assert 0 <= x - left <= 8 and 0 <= y - top <= 8 and 0 <= right - (x + 300) <= 8 and 0 <= bottom - (y + 260) <= 8


def test_a_blown_out_edge_is_kept():
    """Flat lines at one end only (a bright sky clipped to white, fading into the scene) are the
    photograph's own: bars that reframe a picture are centred, one at each end."""
    rng = np.random.default_rng(0)
    scene = Image.fromarray(rng.integers(60, 200, (6, 8, 3), dtype=np.uint8)).resize((320, 240), Image.Resampling.BICUBIC)
    y = np.arange(240)[:, None, None]
    sky = np.asarray(scene, dtype=np.float64) + np.clip(250 - 2.5 * y, 0, None) + rng.normal(0, 3, (240, 320, 3))
    clipped = np.asarray(jpeg(Image.fromarray(np.clip(sky, 0, 255).astype(np.uint8)), 90))
    assert (clipped[:30] == 255).all(axis=2).mean() > 0.99  # the top lines are flat white
    assert content_box(clipped) == (0, 0, 320, 240)


def test_caption_band_and_screenshot_frame_are_trimmed():
    base = photo(2, (240, 180))
    captioned = np.asarray(jpeg(caption_band(base, share=0.25)))
    assert abs(content_box(captioned)[1] - 45) <= 2
    screen = Image.new("RGB", (264, 420), (255, 255, 255))  # a phone shows the picture nearly full width
    screen.paste(base, (12, 150))
    from PIL import ImageDraw

    draw = ImageDraw.Draw(screen)
    for line in range(4):  # a name and the post's text above the picture, counts below
        draw.text((12, 20 + 30 * line), "city watch: thousands gather downtown", fill=(0, 0, 0))
    draw.text((12, 350), "1.2K reposts  4,810 likes", fill=(90, 90, 90))
    left, top, right, bottom = content_box(np.asarray(jpeg(screen)))
    assert abs(left - 12) <= 2 and abs(top - 150) <= 2 and abs(right - 252) <= 2 and abs(bottom - 330) <= 2


def test_photographs_and_smooth_backgrounds_are_kept_whole():
    assert content_box(np.asarray(photo(3))) == (0, 0, 360, 270)
    # a subject on a smooth background that fades towards it: no edge, nothing trimmed
    y, x = np.mgrid[0:200, 0:200]
    dish = np.clip(40 + 0.6 * np.hypot(x - 100, y - 100), 0, 255)
    dish[80:120, 80:120] = 230
    rgb = np.repeat(dish[..., None], 3, axis=2).astype(np.uint8)
    assert content_box(rgb) == (0, 0, 200, 200)
    # nearly one colour: at least a quarter of each side stays
    flat = np.full((100, 100, 3), 128, dtype=np.uint8)
    flat[50, 50] = 0
    left, top, right, bottom = content_box(flat)
    assert right - left >= 25 and bottom - top >= 25


def test_fill_of_a_turned_copy_is_measured():
    base = photo(4, (300, 200))
    copy = np.asarray(jpeg(turned(base, 4)))
    share = fill_area(copy, full(copy)) / (copy.shape[0] * copy.shape[1])
    expected = 1 - (300 * 200) / (copy.shape[0] * copy.shape[1])
    assert 0.5 * expected < share <= expected + 0.01  # JPEG noise along the picture's edge stops some of the flood
    assert fill_area(np.asarray(base), full(np.asarray(base))) == 0
    # a flat sky over the top two corners is no fill
    sky = np.asarray(base).copy()
    sky[:60] = (150, 190, 240)
    assert fill_area(sky, full(sky)) == 0


def test_round_surrounds_and_vignettes_are_no_turn():
    """Flat corners that are not the slivers of one turn (a round fundus or microscope picture on
    black, corners darkened evenly) are picture, and are hashed as they are; a turned copy of the
    same picture has the slivers."""
    base = np.asarray(photo(14, (300, 300))).copy()
    y, x = np.mgrid[0:300, 0:300]
    base[(x - 150) ** 2 + (y - 150) ** 2 > 160**2] = 0  # round picture, black outside
    assert fill_mask(base, full(base)) is None
    vignette = np.asarray(photo(15, (300, 200))).copy()
    vignette[(np.abs(x[:200] - 150) + np.abs(y[:200] - 100)) > 210] = 30  # same-sized flat corners
    assert fill_mask(vignette, full(vignette)) is None
    copy = np.asarray(jpeg(turned(Image.fromarray(vignette), 3, fill=(255, 255, 255))))
    mask = fill_mask(copy, full(copy))
    assert mask is not None and mask.sum() == fill_area(copy, full(copy)) > 0


def test_turn_degrees_reads_the_turn_of_an_alignment():
    c, s = np.cos(np.radians(5)), np.sin(np.radians(5))
    assert turn_degrees(np.array([[c, s, 0.0], [-s, c, 0.0]])) == pytest.approx(5.0)
    assert turn_degrees(np.array([[2 * c, 2 * s, 7.0], [-2 * s, 2 * c, 1.0]])) == pytest.approx(5.0)
    assert turn_degrees(np.array([[-1.0, 0.0, 99.0], [0.0, 1.0, 0.0]])) == pytest.approx(0.0)  # a mirror, not a turn


def test_refinement_corrects_an_alignment_a_few_pixels_off():
    """A turned copy aligned a degree and a few pixels off: edge blocks disagree; the refinement
    (ECC) restores the alignment. Two different pictures are not made to match."""
    base = photo(16, (320, 240))
    a = gray(base)
    copy = turned(base, 5)
    b = gray(jpeg(copy))
    exact = View("full", degrees=5).to_unit(*base.size)  # base -> unit square of the turned frame
    truth = (np.linalg.inv(exact) @ np.diag([1 / copy.width, 1 / copy.height, 1.0]))[:2]
    c, s = np.cos(np.radians(1.2)), np.sin(np.radians(1.2))
    off = (np.array([[c, -s, 4.0], [s, c, -3.0], [0.0, 0.0, 1.0]]) @ np.vstack([truth, [0, 0, 1]]))[:2]
    before = compare(a, full(a), b, full(b), off)
    refined = refine_transform(a, b, full(b), off)
    assert refined is not None
    after = compare(a, full(a), b, full(b), refined)
    assert after.agreement > max(0.95, before.agreement + 0.05)
    corners = np.array([[0.0, copy.width, 0.0, copy.width], [0.0, 0.0, copy.height, copy.height], [1.0, 1.0, 1.0, 1.0]])
    assert np.abs(off @ corners - truth @ corners).max() > 4.0  # pixels of A
    assert np.abs(refined @ corners - truth @ corners).max() < 2.0
    other = gray(photo(17, (320, 240)))
    unrelated = refine_transform(a, other, full(other), box_transform(full(other), full(a)))
    assert unrelated is None or compare(a, full(a), other, full(other), unrelated).agreement < 0.6


@pytest.mark.parametrize(
    "view",
    [
        View("rotation", (0.1, 0.05, 0.9, 0.95), degrees=4),
        View("rotation", (0.0, 0.0, 1.0, 1.0), degrees=-4),
        View("crop", (0.15, 0.0, 1.0, 0.85), mirror=True),
        View("content", (0.0, 0.2, 1.0, 1.0)),
    ],
)
def test_view_transform_maps_a_view_back_onto_its_image(view):
    base = photo(5).convert("L")
    rendered = view.render(base)
    matrix = view_transform(view, base.size, View("full"), rendered.size)
    a, b = gray(base), gray(rendered)
    result = compare(a, full(a), b, full(b), matrix)
    assert result.agreement > 0.88 and result.coverage_b > 0.85 and result.motion < 0.02


def test_box_transform_and_mirror():
    matrix = box_transform((0, 0, 10, 20), (5, 5, 25, 45), mirror=True)
    corners = matrix @ np.array([[0, 10], [0, 20], [1, 1]], dtype=float)
    assert np.allclose(corners.T, [[25, 5], [5, 45]])


def test_comparison_tells_copies_from_zooms_and_bursts():
    base = photo(6)
    a = gray(base)
    same = gray(jpeg(base, 40))
    copy = compare(a, full(a), same, full(same), box_transform(full(same), full(a)))
    assert copy.coverage == pytest.approx(1.0, abs=0.01) and copy.agreement > 0.95 and copy.largest_difference < 0.05

    zoom = gray(crop(base, 0.25, 0.25, 0.75, 0.75).resize(base.size))
    matrix = box_transform(full(zoom), (90, 68, 270, 202))
    zoomed = compare(a, full(a), zoom, full(zoom), matrix)
    assert zoomed.coverage_a == pytest.approx(0.25, abs=0.03) and zoomed.coverage_b > 0.95

    frame = gray(burst_frame(base))
    burst = compare(a, full(a), frame, full(frame), box_transform(full(frame), full(a)))
    # kept apart by the defaults: the moved subject moves a region or leaves a patch of disagreement
    assert burst.motion > 0.05 or burst.largest_difference > 0.08


@pytest.mark.parametrize("seed", [4, 5])
def test_writing_moved_on_a_plain_page_is_motion(seed):
    """A burst frame of a page whose writing moved along the ruled lines: most blocks still
    agree, the patch of disagreement is under max_difference and the flow sees nothing to
    track on the paper; matching patches finds the moved writing. A copy moves nothing."""
    page = handwritten_page(seed)
    a = gray(page)
    frame = gray(jpeg(page_burst_frame(page), 90))
    burst = compare(a, full(a), frame, full(frame), box_transform(full(frame), full(a)))
    assert burst.agreement >= 0.9 and burst.largest_difference < 0.08 and flow_motion(*burst.grids) < 0.01
    assert burst.motion > 0.05
    for copy in (gray(jpeg(page, 50)), gray(jpeg(page.resize((300, 115)), 80))):
        same = compare(a, full(a), copy, full(copy), box_transform(full(copy), full(a)))
        assert same.motion < 0.01


def test_keypoints_align_mirrored_and_turned_copies():
    base = photo(7, (400, 300))
    a = gray(base)
    for copy, mirror in ((mirrored(base), True), (turned(base, 5), False)):
        b = gray(jpeg(copy))
        found = feature_transform(orb_features(a, full(a)), orb_features(b, full(b)), b.shape[1])
        assert found and found[0].mirror == mirror and found[0].inliers >= 12
        result = compare(a, full(a), b, full(b), found[0].matrix)
        assert result.agreement > 0.9 and result.coverage_a > 0.95


def test_unrelated_pictures_do_not_align():
    a, b = gray(photo(8)), gray(photo(9))
    found = feature_transform(orb_features(a, full(a)), orb_features(b, full(b)), b.shape[1])
    for alignment in found:
        assert compare(a, full(a), b, full(b), alignment.matrix).agreement < 0.6
