"""One renderer per kind of picture in the demo corpus, plus the visual cues of evoked emotions.

Renderers draw on a small canvas (about 320 px on the long side); the corpus writer
resizes the result to the planned file size. Backgrounds and colours come from one
shared pool, so the protest / non-protest difference lies in the structure of the
picture (a crowd of small figures holding placards), not in its palette.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance

from . import drawing as dr
from .drawing import RGB
from .people import LEGEND, Persona, draw_bust_rotated, draw_small_figure

EMOTIONS: tuple[str, ...] = ("fear", "anger", "disgust", "sadness", "enthusiasm")
BACKGROUNDS: tuple[str, ...] = ("sky_city", "park", "wall", "indoor", "studio")
# Placard boards: light, dark and cool colours, so crowds are not warmer than other pictures.
PLACARD_BOARDS: tuple[RGB, ...] = (
    (245, 245, 240),
    (250, 250, 250),
    (240, 220, 120),
    (40, 40, 40),
    (120, 170, 220),
    (60, 90, 160),
    (80, 160, 120),
    (200, 200, 210),
    (30, 50, 90),
)


# --------------------------------------------------------------------------- backgrounds


def draw_background(rng: np.random.Generator, size: tuple[int, int], kinds=BACKGROUNDS) -> tuple[Image.Image, float]:
    """A background shared by every scene type; returns it with the y of its horizon / floor line."""
    kind = dr.pick(rng, kinds)
    width, height = size
    if kind == "studio":
        top, bottom = dr.jitter(dr.pick(rng, dr.SHARED_COLOURS), rng), dr.jitter(dr.pick(rng, dr.SHARED_COLOURS), rng)
        return dr.vertical_gradient(size, top, bottom), height * rng.uniform(0.4, 0.7)
    if kind in ("wall", "indoor"):
        wall = dr.jitter(dr.pick(rng, dr.SHARED_COLOURS), rng)
        img = Image.new("RGB", size, wall)
        draw = ImageDraw.Draw(img)
        floor_y = height * rng.uniform(0.35, 0.7)
        draw.rectangle((0, floor_y, width, height), fill=dr.jitter(dr.pick(rng, dr.SHARED_COLOURS), rng))
        if kind == "wall" and rng.random() < 0.6:
            _draw_bricks(draw, wall, floor_y, width, rng)
        elif kind == "indoor":
            for _ in range(int(rng.integers(1, 3))):
                x = rng.uniform(0, width * 0.8)
                w = width * rng.uniform(0.1, 0.25)
                draw.rectangle(
                    (x, floor_y * rng.uniform(0.1, 0.4), x + w, floor_y),
                    fill=dr.jitter(dr.pick(rng, dr.SHARED_COLOURS), rng),
                    outline=dr.mix(wall, (0, 0, 0), 0.3),
                )
        return img, floor_y
    top, bottom = dr.pick(rng, dr.SKY_PAIRS)
    img = dr.vertical_gradient(size, dr.jitter(top, rng, 12), dr.jitter(bottom, rng, 12))
    draw = ImageDraw.Draw(img)
    horizon = height * rng.uniform(0.3, 0.6)
    if kind == "sky_city":
        _draw_skyline(draw, horizon, width, height, rng)
        ground = dr.jitter(dr.pick(rng, dr.SHARED_COLOURS[1:5] + (dr.SHARED_COLOURS[9],)), rng)
    else:
        ground = dr.jitter(
            dr.pick(
                rng,
                (
                    dr.SHARED_COLOURS[10],
                    dr.SHARED_COLOURS[11],
                    dr.SHARED_COLOURS[12],
                    dr.SHARED_COLOURS[9],
                    dr.SHARED_COLOURS[20],
                ),
            ),
            rng,
        )
        for _ in range(int(rng.integers(0, 5))):
            _draw_tree(
                draw,
                rng.uniform(0, width),
                horizon + rng.uniform(-0.02, 0.05) * height,
                height * rng.uniform(0.12, 0.3),
                rng,
            )
    draw.rectangle((0, horizon, width, height), fill=ground)
    return img, horizon


def _draw_bricks(draw: ImageDraw.ImageDraw, wall: RGB, floor_y: float, width: int, rng: np.random.Generator) -> None:
    mortar = dr.mix(wall, (255, 255, 255), 0.3)
    step = rng.uniform(8, 16)
    y, row = 0.0, 0
    while y < floor_y:
        draw.line([(0, y), (width, y)], fill=mortar, width=1)
        offset = (row % 2) * step
        for x in np.arange(offset, width, 2 * step):
            draw.line([(x, y), (x, min(y + step / 2, floor_y))], fill=mortar, width=1)
        y += step / 2
        row += 1


def _draw_skyline(draw: ImageDraw.ImageDraw, horizon: float, width: int, height: int, rng: np.random.Generator) -> None:
    x = -rng.uniform(0, 20)
    while x < width:
        w = width * rng.uniform(0.07, 0.2)
        top = horizon - height * rng.uniform(0.08, 0.45)
        colour = dr.jitter(dr.pick(rng, dr.SHARED_COLOURS), rng)
        draw.rectangle((x, top, x + w, horizon), fill=colour)
        window = dr.mix(colour, dr.pick(rng, ((255, 255, 220), (30, 30, 40))), 0.45)
        step = max(4.0, w / rng.uniform(3, 6))
        for wx in np.arange(x + step / 3, x + w - step / 2, step):
            for wy in np.arange(top + step / 3, horizon - step / 2, step):
                draw.rectangle((wx, wy, wx + step / 3, wy + step / 3), fill=window)
        x += w + rng.uniform(0, 6)


def _draw_tree(draw: ImageDraw.ImageDraw, x: float, base_y: float, size: float, rng: np.random.Generator) -> None:
    draw.rectangle((x - size * 0.06, base_y - size * 0.5, x + size * 0.06, base_y), fill=dr.jitter((90, 60, 40), rng))
    leaves = dr.jitter(dr.pick(rng, ((60, 110, 50), (90, 140, 60), (40, 80, 40), (140, 150, 60))), rng)
    draw.ellipse((x - size * 0.35, base_y - size, x + size * 0.35, base_y - size * 0.35), fill=leaves)


# --------------------------------------------------------------------------- protest scenes


def _placard_text(
    draw: ImageDraw.ImageDraw, box: tuple[float, float, float, float], board: RGB, rng: np.random.Generator
) -> None:
    x0, y0, x1, y1 = box
    ink = (250, 250, 250) if sum(board) < 300 else dr.pick(rng, ((20, 20, 20), (30, 30, 120), (150, 20, 20)))
    if x1 - x0 >= 26:
        text = dr.pick(rng, dr.PLACARD_WORDS)
        size = max(6, int((y1 - y0) * 0.42))
        width_at_size = dr.font(size).getlength(text)
        if width_at_size > (x1 - x0) * 0.92:  # text width scales with the font size
            size = max(6, int(size * (x1 - x0) * 0.92 / width_at_size))
        font = dr.font(size)
        draw.text(((x0 + x1) / 2, (y0 + y1) / 2), text, fill=ink, font=font, anchor="mm")
    else:  # too small for letters: strokes that read as writing
        rows = int(rng.integers(1, 3))
        for r in range(rows):
            yy = y0 + (y1 - y0) * (r + 1) / (rows + 1)
            draw.line([(x0 + 2, yy), (x1 - 2, yy)], fill=ink, width=max(1, int((y1 - y0) / 6)))


def _draw_placard(
    draw: ImageDraw.ImageDraw,
    head_x: float,
    head_y: float,
    head_r: float,
    figure_h: float,
    red_share: float,
    rng: np.random.Generator,
) -> None:
    width = figure_h * rng.uniform(0.55, 0.95)
    height = width * rng.uniform(0.5, 0.8)
    bottom = head_y - head_r * rng.uniform(1.2, 2.5)
    cx = head_x + rng.uniform(-0.3, 0.3) * width
    if rng.random() < red_share:
        board = dr.jitter((200, 30, 35), rng, 12)
    else:
        board = dr.jitter(dr.pick(rng, PLACARD_BOARDS), rng, 8)
    draw.line(
        [(cx, bottom), (head_x + head_r * 1.3, head_y + head_r * 2)], fill=(110, 80, 50), width=max(1, int(head_r / 2))
    )
    box = (cx - width / 2, bottom - height, cx + width / 2, bottom)
    draw.rectangle(box, fill=board, outline=dr.mix(board, (0, 0, 0), 0.4))
    _placard_text(draw, box, board, rng)


def _draw_banner(
    draw: ImageDraw.ImageDraw, width: int, height: int, red_share: float, rng: np.random.Generator
) -> None:
    banner_w = width * rng.uniform(0.45, 0.85)
    banner_h = min(height * rng.uniform(0.1, 0.18), banner_w / 4)
    x0 = rng.uniform(0, width - banner_w)
    y0 = height * rng.uniform(0.55, 0.75)
    board = (
        dr.jitter((200, 30, 35), rng, 10)
        if rng.random() < red_share
        else dr.jitter(dr.pick(rng, PLACARD_BOARDS), rng, 8)
    )
    box = (x0, y0, x0 + banner_w, y0 + banner_h)
    draw.rectangle(box, fill=board)
    _placard_text(draw, box, board, rng)
    for px in (x0 + banner_w * 0.05, x0 + banner_w * 0.95):
        draw_small_figure(draw, px, min(height * 1.05, y0 + banner_h * 3), banner_h * 3.2, rng)


def render_protest(
    rng: np.random.Generator,
    size: tuple[int, int],
    *,
    red_share: float,
    fist_share: float,
    crowd: tuple[int, int] = (45, 120),
    legend: bool = False,
) -> Image.Image:
    """A street protest: a crowd of small figures, many holding placards with slogans."""
    width, height = size
    img, horizon = draw_background(rng, size, ("sky_city", "sky_city", "park", "wall", "indoor"))
    draw = ImageDraw.Draw(img)
    area_scale = math.sqrt(width * height) / 320
    count = int(rng.integers(*crowd) * area_scale)
    top = min(horizon, height * 0.6) - height * 0.05
    depth = np.sort(rng.random(count) ** 0.8)
    holders = rng.uniform(0.25, 0.5)
    for t in depth:
        feet_y = top + (height * 1.15 - top) * t
        figure_h = height * (0.14 + 0.5 * t)
        x = rng.uniform(-0.05, 1.05) * width
        head_x, head_y, head_r = draw_small_figure(draw, x, feet_y, figure_h, rng)
        roll = rng.random()
        if roll < holders:
            _draw_placard(draw, head_x, head_y, head_r, figure_h, red_share, rng)
        elif roll < holders + fist_share:
            _draw_raised_fist(
                draw, head_x + head_r * 1.4, head_y - head_r * 2.5, head_r * 0.9, head_y + head_r * 3, rng
            )
    if rng.random() < 0.4:
        _draw_banner(draw, width, height, red_share, rng)
    if legend:
        face_h = min(width, height) * rng.uniform(0.25, 0.38)
        cx = width * rng.uniform(0.25, 0.75)
        draw_bust_rotated(
            img, LEGEND, cx, height - face_h * 1.2, face_h, rng, roll_degrees=rng.uniform(-8, 8), yaw=rng.uniform(-1, 1)
        )
    return img


# --------------------------------------------------------------------------- people


def render_headshot(rng: np.random.Generator, size: tuple[int, int], persona: Persona) -> Image.Image:
    """One person's head and shoulders in front of a shared background."""
    width, height = size
    img, _ = draw_background(rng, size)
    short = min(width, height)
    face_h = short * rng.uniform(0.34, 0.58)
    cx = width / 2 + rng.uniform(-0.18, 0.18) * min(width, 1.5 * short)
    cy = height * rng.uniform(0.36, 0.5)
    draw_bust_rotated(img, persona, cx, cy, face_h, rng, roll_degrees=rng.uniform(-14, 14), yaw=rng.uniform(-1, 1))
    return dr.side_light(img, rng, 0.3)


def render_face_crop(rng: np.random.Generator, size: tuple[int, int], persona: Persona) -> Image.Image:
    """A tight, square-ish face crop as in the authors' world-leader data."""
    width, height = size
    img, _ = draw_background(rng, size)
    face_h = min(width, height) * rng.uniform(0.62, 0.8)
    cx = width / 2 + rng.uniform(-0.08, 0.08) * width
    cy = height / 2 + rng.uniform(-0.06, 0.1) * height
    draw_bust_rotated(img, persona, cx, cy, face_h, rng, roll_degrees=rng.uniform(-15, 15), yaw=rng.uniform(-1, 1))
    return dr.side_light(img, rng, 0.35)


def render_group(rng: np.random.Generator, size: tuple[int, int], personas: list[Persona]) -> Image.Image:
    """Two or three people side by side (a posed photo, not a crowd)."""
    width, height = size
    img, _ = draw_background(rng, size)
    slots = len(personas)
    face_h = min(height * 0.34, width / (slots + 0.6) * 0.7)
    for i, persona in enumerate(personas):
        cx = width * (i + 0.5) / slots + rng.uniform(-0.04, 0.04) * width
        cy = height * rng.uniform(0.35, 0.5)
        draw_bust_rotated(
            img,
            persona,
            cx,
            cy,
            face_h * rng.uniform(0.9, 1.1),
            rng,
            roll_degrees=rng.uniform(-10, 10),
            yaw=rng.uniform(-1, 1),
        )
    return dr.side_light(img, rng, 0.25)


# --------------------------------------------------------------------------- other pictures


def render_screenshot(rng: np.random.Generator, size: tuple[int, int], photo: Image.Image | None = None) -> Image.Image:
    """A screenshot of a post, an article or a chat: text, an avatar, sometimes an embedded photo."""
    width, height = size
    dark = rng.random() < 0.45
    paper = (
        dr.pick(rng, ((21, 32, 43), (0, 0, 0), (36, 37, 38), (48, 40, 60)))
        if dark
        else dr.pick(rng, ((255, 255, 255), (245, 248, 250), (250, 246, 236), (236, 240, 230)))
    )
    ink = (235, 235, 235) if dark else (20, 20, 24)
    img = Image.new("RGB", size, paper)
    page = _Page(ImageDraw.Draw(img), width, height, ink, paper, rng)
    if rng.random() < 0.45:
        page.app_bar(dr.jitter(dr.pick(rng, dr.SHARED_COLOURS + dr.BRIGHT_COLOURS), rng))
    layout = dr.pick(rng, ("post", "article", "chat"))
    if layout == "article":
        page.headline(int(rng.integers(1, 4)))
    else:
        page.author()
    photo_first = photo is not None and rng.random() < 0.5
    if photo_first:
        page.photo(img, photo, rng.uniform(0.3, 0.5))
    if layout == "chat":
        page.bubbles(dr.jitter(dr.pick(rng, dr.SHARED_COLOURS + dr.BRIGHT_COLOURS), rng))
    else:
        page.paragraphs(reserve=0.0 if photo is None or photo_first else rng.uniform(0.3, 0.45))
    if photo is not None and not photo_first:
        page.photo(img, photo, (height - page.margin - page.y) / height)
    if rng.random() < 0.3:
        page.link_card(dr.jitter(dr.pick(rng, dr.SHARED_COLOURS), rng))
    page.icons()
    return img


class _Page:
    """A cursor that lays out the parts of a screenshot from the top down."""

    def __init__(
        self, draw: ImageDraw.ImageDraw, width: int, height: int, ink: RGB, paper: RGB, rng: np.random.Generator
    ) -> None:
        self.draw, self.width, self.height, self.ink, self.paper, self.rng = draw, width, height, ink, paper, rng
        self.muted = dr.mix(ink, paper, 0.45)
        self.margin = max(4.0, width * rng.uniform(0.03, 0.08))
        self.fs = int(np.clip(min(width, height * 0.8) / rng.uniform(9, 20), 7, 32))
        self.y = self.margin

    def app_bar(self, colour: RGB) -> None:
        bar = self.fs * self.rng.uniform(1.6, 2.6)
        self.draw.rectangle((0, 0, self.width, bar), fill=colour)
        self.draw.text(
            (self.margin, bar / 2),
            dr.words(self.rng, dr.TWEET_WORDS, 1).title(),
            fill=(255, 255, 255),
            font=dr.font(self.fs),
            anchor="lm",
        )
        self.y = bar + self.margin

    def author(self) -> None:
        fs, x = self.fs, self.margin
        avatar = dr.jitter(dr.pick(self.rng, dr.SHARED_COLOURS), self.rng)
        if self.rng.random() < 0.5:
            self.draw.ellipse((x, self.y, x + 2.2 * fs, self.y + 2.2 * fs), fill=avatar)
        else:
            self.draw.rounded_rectangle((x, self.y, x + 2.2 * fs, self.y + 2.2 * fs), radius=fs * 0.4, fill=avatar)
        self.draw.text(
            (x + 2.8 * fs, self.y), dr.words(self.rng, dr.TWEET_WORDS, 2).title(), fill=self.ink, font=dr.font(fs)
        )
        handle = "@" + dr.pick(self.rng, dr.TWEET_WORDS) + str(int(self.rng.integers(10, 999)))
        self.draw.text((x + 2.8 * fs, self.y + 1.2 * fs), handle, fill=self.muted, font=dr.font(int(fs * 0.85)))
        self.y += 3.0 * fs

    def headline(self, lines: int) -> None:
        fs = int(self.fs * self.rng.uniform(1.4, 2.2))
        for _ in range(lines):
            self._line(dr.font(fs), self.ink, ragged=0.3)
            self.y += fs * 1.25
        self.y += self.fs * 0.6

    def _fitting_words(self, font, limit: float) -> str:
        """Random words that fit in `limit` pixels."""
        line = ""
        while True:
            candidate = (line + " " + dr.pick(self.rng, dr.TWEET_WORDS)).strip()
            if font.getlength(candidate) > limit:
                return line
            line = candidate

    def _line(self, font, fill: RGB, ragged: float) -> None:
        line = self._fitting_words(font, (self.width - 2 * self.margin) * (1 - self.rng.uniform(0, ragged)))
        if self.rng.random() < 0.15:
            line = line.rsplit(" ", 1)[0] + " #" + dr.pick(self.rng, ("BlackLivesMatter", "A14", "ShutItDown", "news"))
        self.draw.text((self.margin, self.y), line, fill=fill, font=font)

    def paragraphs(self, reserve: float) -> None:
        font = dr.font(self.fs)
        bottom = self.height * (1 - reserve) - self.margin - 2 * self.fs
        while self.y < bottom:
            self._line(font, self.ink, ragged=0.5 if self.rng.random() < 0.2 else 0.05)
            self.y += self.fs * (2.4 if self.rng.random() < 0.12 else 1.45)

    def bubbles(self, colour: RGB) -> None:
        font = dr.font(self.fs)
        while self.y < self.height - self.margin - 4 * self.fs:
            mine = self.rng.random() < 0.5
            w = (self.width - 2 * self.margin) * self.rng.uniform(0.45, 0.8)
            h = self.fs * (1.5 + 1.3 * int(self.rng.integers(0, 3)))
            x = self.width - self.margin - w if mine else self.margin
            fill = colour if mine else dr.mix(self.paper, self.ink, 0.15)
            self.draw.rounded_rectangle((x, self.y, x + w, self.y + h), radius=self.fs * 0.6, fill=fill)
            self.draw.text(
                (x + self.fs * 0.5, self.y + self.fs * 0.3),
                self._fitting_words(font, w - self.fs),
                fill=(255, 255, 255) if mine else self.ink,
                font=font,
            )
            self.y += h + self.fs * 0.6

    def photo(self, img: Image.Image, photo: Image.Image, share: float) -> None:
        top = int(self.y)
        bottom = int(min(self.height - self.margin - 1.5 * self.fs, self.y + self.height * share))
        left, right = int(self.margin), int(self.width - self.margin)
        if right - left > 4 and bottom - top > 4:
            img.paste(photo.resize((right - left, bottom - top), Image.Resampling.BILINEAR), (left, top))
        self.y = bottom + self.fs * 0.6

    def link_card(self, colour: RGB) -> None:
        top = min(self.y, self.height - self.margin - 4 * self.fs)
        box = (self.margin, top, self.width - self.margin, top + 2.6 * self.fs)
        self.draw.rounded_rectangle(box, radius=self.fs * 0.4, outline=self.muted, width=1)
        self.draw.rectangle((box[0], box[1], box[0] + 2.6 * self.fs, box[3]), fill=colour)
        self.draw.text(
            (box[0] + 3 * self.fs, box[1] + self.fs * 0.4),
            dr.words(self.rng, dr.TWEET_WORDS, 3),
            fill=self.ink,
            font=dr.font(self.fs),
        )

    def icons(self) -> None:
        fs, y = self.fs, self.height - self.margin
        for i in range(4):  # reply / repost / like / share
            x = self.margin + i * (self.width - 2 * self.margin) / 4
            self.draw.ellipse((x, y - fs * 0.8, x + fs * 0.7, y - fs * 0.1), outline=self.muted, width=1)


def render_cartoon(rng: np.random.Generator, size: tuple[int, int]) -> Image.Image:
    """An editorial cartoon: flat colours, thick outlines, a character, props and a speech bubble per panel."""
    width, height = size
    img = Image.new("RGB", size, dr.jitter(dr.pick(rng, ((250, 250, 250), (240, 236, 220), (30, 30, 30))), rng, 6))
    draw = ImageDraw.Draw(img)
    stroke = max(2, int(min(width, height) / rng.uniform(50, 90)))
    columns = int(rng.integers(1, 4)) if width >= height else int(rng.integers(1, 3))
    rows = int(rng.integers(1, 3)) if height >= width else 1
    gap = max(3.0, min(width, height) * 0.02)
    panel_w, panel_h = width / columns, height / rows
    for col in range(columns):
        for row in range(rows):
            box = (col * panel_w + gap, row * panel_h + gap, (col + 1) * panel_w - gap, (row + 1) * panel_h - gap)
            _draw_cartoon_panel(draw, box, stroke, rng)
    return img


def _draw_cartoon_panel(
    draw: ImageDraw.ImageDraw, box: tuple[float, float, float, float], stroke: int, rng: np.random.Generator
) -> None:
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    sky = dr.jitter(dr.pick(rng, dr.SHARED_COLOURS + dr.BRIGHT_COLOURS), rng)
    draw.rectangle(box, fill=sky, outline=(0, 0, 0), width=stroke)
    ground_y = y0 + h * rng.uniform(0.55, 0.9)
    draw.rectangle(
        (x0 + stroke, ground_y, x1 - stroke, y1 - stroke), fill=dr.jitter(dr.pick(rng, dr.SHARED_COLOURS), rng)
    )
    draw.line([(x0, ground_y), (x1, ground_y)], fill=(0, 0, 0), width=stroke)
    for _ in range(int(rng.integers(0, 3))):
        _draw_cartoon_prop(
            draw, x0 + w * rng.uniform(0.1, 0.9), ground_y, min(w, h) * rng.uniform(0.2, 0.45), stroke, rng
        )
    _draw_cartoon_character(
        draw, x0 + w * rng.uniform(0.2, 0.8), ground_y, min(w, h) * rng.uniform(0.3, 0.55), stroke, rng
    )
    if rng.random() < 0.75:
        bubble_w = w * rng.uniform(0.4, 0.8)
        bx = x0 + rng.uniform(0.03, 0.97) * (w - bubble_w)
        by = y0 + h * rng.uniform(0.04, 0.3)
        bubble = (bx, by, bx + bubble_w, by + h * rng.uniform(0.15, 0.28))
        draw.ellipse(bubble, fill=(255, 255, 255), outline=(0, 0, 0), width=stroke)
        draw.text(
            ((bubble[0] + bubble[2]) / 2, (bubble[1] + bubble[3]) / 2),
            dr.words(rng, dr.TWEET_WORDS, 2).upper(),
            fill=(0, 0, 0),
            font=dr.font(max(6, int(h * 0.05))),
            anchor="mm",
        )


def _draw_cartoon_prop(
    draw: ImageDraw.ImageDraw, x: float, ground_y: float, size: float, stroke: int, rng: np.random.Generator
) -> None:
    colour = dr.jitter(dr.pick(rng, dr.BRIGHT_COLOURS + dr.SHARED_COLOURS), rng)
    kind = dr.pick(rng, ("house", "tree", "sun", "box"))
    if kind == "house":
        draw.rectangle(
            (x - size / 2, ground_y - size * 0.7, x + size / 2, ground_y), fill=colour, outline=(0, 0, 0), width=stroke
        )
        draw.polygon(
            [
                (x - size * 0.6, ground_y - size * 0.7),
                (x, ground_y - size * 1.2),
                (x + size * 0.6, ground_y - size * 0.7),
            ],
            fill=dr.jitter((170, 50, 40), rng),
            outline=(0, 0, 0),
        )
    elif kind == "tree":
        draw.rectangle(
            (x - size * 0.08, ground_y - size * 0.6, x + size * 0.08, ground_y),
            fill=(110, 70, 40),
            outline=(0, 0, 0),
            width=stroke,
        )
        draw.ellipse(
            (x - size * 0.4, ground_y - size * 1.3, x + size * 0.4, ground_y - size * 0.5),
            fill=dr.jitter((70, 150, 60), rng),
            outline=(0, 0, 0),
            width=stroke,
        )
    elif kind == "sun":
        r = size * 0.3
        draw.ellipse(
            (x - r, ground_y - size * 2 - r, x + r, ground_y - size * 2 + r),
            fill=(250, 210, 60),
            outline=(0, 0, 0),
            width=stroke,
        )
    else:
        draw.rectangle(
            (x - size * 0.3, ground_y - size * 0.5, x + size * 0.3, ground_y),
            fill=colour,
            outline=(0, 0, 0),
            width=stroke,
        )


def _draw_cartoon_character(
    draw: ImageDraw.ImageDraw, x: float, ground_y: float, size: float, stroke: int, rng: np.random.Generator
) -> None:
    body = dr.jitter(dr.pick(rng, dr.BRIGHT_COLOURS + dr.SHARED_COLOURS[5:10]), rng)
    head = dr.jitter(dr.pick(rng, dr.BRIGHT_COLOURS + ((250, 222, 200), (160, 104, 66))), rng)
    draw.rectangle(
        (x - size * 0.2, ground_y - size * 0.7, x + size * 0.2, ground_y), fill=body, outline=(0, 0, 0), width=stroke
    )
    r = size * rng.uniform(0.2, 0.32)
    hy = ground_y - size * 0.7 - r * 0.9
    draw.ellipse((x - r, hy - r, x + r, hy + r), fill=head, outline=(0, 0, 0), width=stroke)
    draw.ellipse((x - r * 0.45, hy - r * 0.2, x - r * 0.2, hy + r * 0.05), fill=(0, 0, 0))
    draw.ellipse((x + r * 0.2, hy - r * 0.2, x + r * 0.45, hy + r * 0.05), fill=(0, 0, 0))
    draw.arc((x - r * 0.5, hy - r * 0.1, x + r * 0.5, hy + r * 0.6), 20, 160, fill=(0, 0, 0), width=stroke)
    for side in (-1, 1):
        draw.line(
            [
                (x + side * size * 0.2, ground_y - size * 0.6),
                (x + side * size * 0.45, ground_y - size * rng.uniform(0.2, 0.9)),
            ],
            fill=(0, 0, 0),
            width=stroke,
        )


def render_landscape(rng: np.random.Generator, size: tuple[int, int]) -> Image.Image:
    """Hills, trees, water or a skyline under a sky: no people."""
    width, height = size
    top, bottom = dr.pick(rng, dr.SKY_PAIRS)
    img = dr.vertical_gradient(size, dr.jitter(top, rng, 12), dr.jitter(bottom, rng, 12))
    draw = ImageDraw.Draw(img)
    if rng.random() < 0.3:
        r = min(width, height) * rng.uniform(0.05, 0.1)
        sx, sy = rng.uniform(0.1, 0.9) * width, rng.uniform(0.08, 0.3) * height
        draw.ellipse((sx - r, sy - r, sx + r, sy + r), fill=dr.jitter((250, 230, 170), rng, 8))
    for _ in range(int(rng.integers(0, 4))):
        cx, cy = rng.uniform(0, width), rng.uniform(0.05, 0.35) * height
        draw.ellipse(
            (cx - width * 0.12, cy - height * 0.04, cx + width * 0.12, cy + height * 0.04),
            fill=dr.jitter((235, 235, 240), rng, 10),
        )
    xs = np.linspace(0, width, 24)
    for layer in range(int(rng.integers(2, 4))):
        base = height * (0.45 + 0.15 * layer) + rng.uniform(-0.05, 0.05) * height
        phase, freq = rng.uniform(0, 6.3), rng.uniform(1.0, 3.5)
        ys = base - height * rng.uniform(0.05, 0.18) * (1 + np.sin(phase + freq * xs / width * math.pi)) / 2
        colour = dr.jitter(
            dr.pick(
                rng,
                (
                    dr.SHARED_COLOURS[10],
                    dr.SHARED_COLOURS[11],
                    dr.SHARED_COLOURS[12],
                    dr.SHARED_COLOURS[9],
                    dr.SHARED_COLOURS[2],
                    dr.SHARED_COLOURS[20],
                    dr.SHARED_COLOURS[15],
                ),
            ),
            rng,
        )
        draw.polygon(list(zip(xs, ys)) + [(width, height), (0, height)], fill=colour)
    if rng.random() < 0.35:
        wy = height * rng.uniform(0.65, 0.8)
        draw.rectangle((0, wy, width, height), fill=dr.jitter((70, 110, 160), rng, 15))
    elif rng.random() < 0.35:
        _draw_skyline(draw, height * rng.uniform(0.6, 0.75), width, height, rng)
    for _ in range(int(rng.integers(0, 10))):
        _draw_tree(draw, rng.uniform(0, width), height * rng.uniform(0.65, 1.0), height * rng.uniform(0.1, 0.3), rng)
    return img


def render_street(rng: np.random.Generator, size: tuple[int, int]) -> Image.Image:
    """An ordinary street: buildings, a road, cars and a few passers-by (no crowd, no placards)."""
    width, height = size
    img, horizon = draw_background(rng, size, ("sky_city",))
    draw = ImageDraw.Draw(img)
    road_top = max(horizon, height * 0.55)
    draw.rectangle((0, road_top, width, height), fill=dr.jitter((95, 95, 100), rng))
    for x in np.arange(rng.uniform(0, 30), width, 40):
        draw.rectangle((x, (road_top + height) / 2, x + 18, (road_top + height) / 2 + 3), fill=(230, 230, 220))
    for _ in range(int(rng.integers(0, 4))):
        _draw_car(
            draw,
            rng.uniform(-0.1, 0.9) * width,
            rng.uniform(road_top + 10, height),
            height * rng.uniform(0.1, 0.2),
            rng,
        )
    for _ in range(int(rng.integers(1, 6))):
        t = rng.random()
        draw_small_figure(
            draw, rng.uniform(0, width), road_top + (height - road_top) * t, height * (0.2 + 0.35 * t), rng
        )
    return img


def _draw_car(draw: ImageDraw.ImageDraw, x: float, bottom: float, h: float, rng: np.random.Generator) -> None:
    colour = dr.jitter(dr.pick(rng, dr.SHARED_COLOURS + dr.BRIGHT_COLOURS), rng)
    w = h * 2.4
    draw.rounded_rectangle((x, bottom - h * 0.65, x + w, bottom - h * 0.15), radius=h * 0.15, fill=colour)
    draw.polygon(
        [
            (x + w * 0.2, bottom - h * 0.65),
            (x + w * 0.35, bottom - h),
            (x + w * 0.7, bottom - h),
            (x + w * 0.85, bottom - h * 0.65),
        ],
        fill=colour,
    )
    draw.rectangle((x + w * 0.38, bottom - h * 0.93, x + w * 0.67, bottom - h * 0.68), fill=(170, 200, 220))
    for wx in (x + w * 0.22, x + w * 0.78):
        draw.ellipse((wx - h * 0.17, bottom - h * 0.32, wx + h * 0.17, bottom), fill=(25, 25, 25))


# --------------------------------------------------------------------------- evoked emotions


def _draw_raised_fist(
    draw: ImageDraw.ImageDraw, x: float, top: float, size: float, arm_bottom: float, rng: np.random.Generator
) -> None:
    skin = dr.jitter(
        dr.pick(rng, ((236, 192, 160), (196, 136, 92), (160, 104, 66), (120, 78, 48), (86, 56, 38))), rng, 8
    )
    draw.line(
        [(x, top + size), (x + rng.uniform(-0.3, 0.3) * size, arm_bottom)],
        fill=dr.mix(skin, (0, 0, 0), 0.1),
        width=max(1, int(size * 0.7)),
    )
    draw.rounded_rectangle((x - size * 0.6, top, x + size * 0.6, top + size * 1.1), radius=size * 0.3, fill=skin)
    for k in range(1, 4):
        draw.line(
            [(x - size * 0.6 + k * size * 0.3, top), (x - size * 0.6 + k * size * 0.3, top + size * 0.4)],
            fill=dr.mix(skin, (0, 0, 0), 0.35),
            width=1,
        )


def _overlay(img: Image.Image, paint: Callable[[ImageDraw.ImageDraw], None]) -> Image.Image:
    layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
    paint(ImageDraw.Draw(layer))
    out = img.convert("RGBA")
    out.alpha_composite(layer)
    return out.convert("RGB")


def _fear(img: Image.Image, v: float, rng: np.random.Generator) -> Image.Image:
    width, height = img.size
    img = dr.shade_rows(img, 1 - 0.4 * v, 1 - 0.12 * v)

    def smoke(draw: ImageDraw.ImageDraw) -> None:
        for _ in range(int(round(8 * v))):
            cx, cy = rng.uniform(0, width), rng.uniform(0, 0.55) * height
            r = min(width, height) * rng.uniform(0.08, 0.2)
            draw.ellipse((cx - r * 1.5, cy - r, cx + r * 1.5, cy + r), fill=(35, 32, 30, int(90 + 100 * v)))

    img = _overlay(img, smoke)
    draw = ImageDraw.Draw(img)
    for _ in range(int(round(1 + 10 * v))):
        base_x = rng.uniform(-0.05, 1.05) * width
        fw = width * rng.uniform(0.05, 0.13)
        fh = height * v * rng.uniform(0.2, 0.45)
        for scale, colour in ((1.0, (215, 60, 20)), (0.55, (250, 190, 50))):
            peaks = [(base_x - fw * scale, height)]
            for k in range(1, 5):
                peaks.append(
                    (
                        base_x - fw * scale + k * fw * scale * 0.4,
                        height - fh * scale * rng.uniform(0.4, 1.0) * (1.0 if k % 2 else 0.55),
                    )
                )
            peaks.append((base_x + fw * scale, height))
            draw.polygon(peaks, fill=dr.jitter(colour, rng, 10))
    return img


def _anger(img: Image.Image, v: float, rng: np.random.Generator) -> Image.Image:
    width, height = img.size
    img = dr.blend_colour(img, (190, 20, 20), 0.12 * v)
    draw = ImageDraw.Draw(img)
    for _ in range(int(round(7 * v))):
        size = min(width, height) * rng.uniform(0.04, 0.08)
        _draw_raised_fist(draw, rng.uniform(0.05, 0.95) * width, height * rng.uniform(0.3, 0.65), size, height, rng)
    for _ in range(int(round(5 * v))):
        w = min(width, height) * rng.uniform(0.12, 0.25)
        x, y = rng.uniform(0, width - w), rng.uniform(0.1, 0.6) * height
        board = dr.jitter((205, 25, 30), rng, 10)
        draw.rectangle((x, y, x + w, y + w * 0.6), fill=board, outline=(60, 0, 0))
        draw.text(
            (x + w / 2, y + w * 0.3),
            dr.pick(rng, ("NO!", "!!", "ENOUGH", "STOP")),
            fill=(255, 255, 255),
            font=dr.font(max(6, int(w * 0.22))),
            anchor="mm",
        )
    return img


def _disgust(img: Image.Image, v: float, rng: np.random.Generator) -> Image.Image:
    width, height = img.size
    img = dr.blend_colour(img, (110, 125, 35), 0.12 * v)
    draw = ImageDraw.Draw(img)
    sludge = ((95, 115, 30), (120, 120, 40), (80, 70, 30), (70, 95, 45))
    for _ in range(int(round(1 + 7 * v))):
        colour = dr.jitter(dr.pick(rng, sludge), rng, 10)
        cx, r = rng.uniform(0, width), min(width, height) * rng.uniform(0.05, 0.12)
        if rng.random() < 0.5:  # drips from the top
            draw.ellipse((cx - r * 1.4, -r, cx + r * 1.4, r), fill=colour)
            for _ in range(int(rng.integers(1, 4))):
                dx = cx + rng.uniform(-r, r)
                draw.rounded_rectangle(
                    (dx - r * 0.18, 0, dx + r * 0.18, r + height * v * rng.uniform(0.05, 0.3)),
                    radius=r * 0.18,
                    fill=colour,
                )
        else:  # a puddle on the ground
            cy = height * rng.uniform(0.75, 0.98)
            draw.ellipse((cx - r * 2.2, cy - r * 0.6, cx + r * 2.2, cy + r * 0.6), fill=colour)
    litter = ((120, 90, 60), (140, 140, 130), (90, 100, 60), (180, 170, 150), (60, 50, 40))
    for _ in range(int(round(70 * v))):
        x, y = rng.uniform(0, width), height * rng.uniform(0.62, 1.0)
        s = min(width, height) * rng.uniform(0.01, 0.035)
        draw.rectangle((x, y, x + s * rng.uniform(0.6, 1.8), y + s), fill=dr.jitter(dr.pick(rng, litter), rng, 10))
    for _ in range(int(round(25 * v))):
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        draw.ellipse((x, y, x + 2, y + 2), fill=(10, 10, 10))
    return img


def _sadness(img: Image.Image, v: float, rng: np.random.Generator) -> Image.Image:
    width, height = img.size
    img = dr.blend_colour(dr.saturate(img, 1 - 0.45 * v), (55, 75, 135), 0.24 * v)
    draw = ImageDraw.Draw(img)
    slant = rng.uniform(-0.25, 0.25)
    for _ in range(int(round(280 * v))):
        x, y = rng.uniform(-0.1, 1.1) * width, rng.uniform(-0.1, 1.0) * height
        length = height * rng.uniform(0.04, 0.1)
        draw.line([(x, y), (x + slant * length, y + length)], fill=dr.jitter((185, 195, 215), rng, 12), width=1)
    return img


def _enthusiasm(img: Image.Image, v: float, rng: np.random.Generator) -> Image.Image:
    width, height = img.size
    img = dr.saturate(ImageEnhance.Brightness(img).enhance(1 + 0.12 * v), 1 + 0.35 * v)
    draw = ImageDraw.Draw(img)
    if rng.random() < 0.3 + v:
        r = min(width, height) * rng.uniform(0.07, 0.12)
        sx, sy = dr.pick(rng, (0.12, 0.88)) * width, 0.14 * height
        for k in range(12):
            a = k * math.pi / 6
            draw.line(
                [
                    (sx + r * 1.2 * math.cos(a), sy + r * 1.2 * math.sin(a)),
                    (sx + r * 1.9 * math.cos(a), sy + r * 1.9 * math.sin(a)),
                ],
                fill=(255, 215, 60),
                width=2,
            )
        draw.ellipse((sx - r, sy - r, sx + r, sy + r), fill=(255, 225, 70))
    for _ in range(int(round(4 * v))):
        bx, by = rng.uniform(0, width), rng.uniform(0.05, 0.5) * height
        r = min(width, height) * rng.uniform(0.03, 0.06)
        draw.line([(bx, by + r * 1.3), (bx + rng.uniform(-5, 5), by + r * 4)], fill=(90, 90, 90), width=1)
        draw.ellipse((bx - r, by - r * 1.3, bx + r, by + r * 1.3), fill=dr.pick(rng, dr.BRIGHT_COLOURS))
    for _ in range(int(round(220 * v))):
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        s = rng.uniform(2, 5)
        draw.rectangle((x, y, x + s, y + s * rng.uniform(0.4, 1.0)), fill=dr.pick(rng, dr.BRIGHT_COLOURS))
    return img


_CUES: dict[str, Callable[[Image.Image, float, np.random.Generator], Image.Image]] = {
    "fear": _fear,
    "disgust": _disgust,
    "anger": _anger,
    "enthusiasm": _enthusiasm,
    "sadness": _sadness,
}


def apply_emotion_cues(img: Image.Image, strengths: dict[str, float], rng: np.random.Generator) -> Image.Image:
    """Add the visual cues (0..1 strength each) that make annotators feel each emotion.

    Cues are applied in a fixed order (rain and colour washes last) so the result
    depends only on the strengths and the generator state.
    """
    for emotion in ("fear", "disgust", "anger", "enthusiasm", "sadness"):
        v = float(strengths.get(emotion, 0.0))
        if v > 0.02:
            img = _CUES[emotion](img, min(v, 1.0), rng)
    return img
