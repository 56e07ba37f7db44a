"""The synthetic cast: one person plays John Legend, six play the book's world leaders,
and ten more are "other people". Each identity is a fixed combination of face shape,
skin tone, hair, facial hair and glasses, so a small network can tell them apart at
64 x 64 pixels; pose, expression, clothing, lighting and background vary per picture.
The personas are invented and are not likenesses of the real people whose roles they play.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from .drawing import RGB, SHARED_COLOURS, jitter, mix, pick

SKIN: dict[str, RGB] = {
    "s1": (250, 222, 200),
    "s2": (236, 192, 160),
    "s3": (220, 170, 124),
    "s4": (196, 136, 92),
    "s5": (160, 104, 66),
    "s6": (120, 78, 48),
    "s7": (86, 56, 38),
}
HAIR: dict[str, RGB] = {
    "black": (24, 20, 20),
    "dark_brown": (62, 40, 26),
    "brown": (112, 72, 42),
    "auburn": (150, 62, 32),
    "blond": (222, 190, 118),
    "grey": (150, 150, 150),
    "white": (228, 228, 226),
}
EYES: dict[str, RGB] = {"dark": (40, 26, 20), "brown": (96, 60, 30), "blue": (60, 110, 170), "green": (70, 120, 70)}


@dataclass(frozen=True)
class Persona:
    """The fixed look of one synthetic person."""

    name: str
    skin: str
    hair_colour: str
    hair_style: str  # bald, buzz, short, side_part, long, afro, receding
    facial_hair: str  # none, stubble, moustache, goatee, full
    glasses: str  # none, round, square
    face_ratio: float  # face width / face height
    square_jaw: bool
    eyes: str = "dark"
    brow: float = 1.0  # eyebrow thickness multiplier


LEGEND = Persona("legend", "s5", "black", "short", "full", "none", 0.80, True, "dark", 1.3)

LEADERS: tuple[Persona, ...] = (
    Persona("USA_Obama", "s4", "grey", "buzz", "none", "none", 0.70, False, "dark", 1.0),
    Persona("VEN_Maduro", "s3", "black", "side_part", "moustache", "none", 0.86, True, "brown", 1.6),
    Persona("ZAF_Zuma", "s6", "black", "bald", "goatee", "none", 0.90, False, "dark", 1.0),
    Persona("JPN_Abe", "s2", "dark_brown", "side_part", "none", "square", 0.74, False, "dark", 0.8),
    Persona("KAZ_Nazarbayev", "s2", "white", "receding", "none", "none", 0.88, True, "brown", 1.4),
    Persona("ESP_Rajoy", "s1", "grey", "short", "full", "round", 0.78, False, "blue", 1.0),
)

OTHERS: tuple[Persona, ...] = (
    Persona("other_01", "s1", "blond", "long", "none", "none", 0.74, False, "blue", 0.7),
    Persona("other_02", "s6", "black", "afro", "none", "round", 0.80, False, "dark", 0.9),
    Persona("other_03", "s4", "black", "long", "none", "none", 0.72, False, "brown", 0.8),
    Persona("other_04", "s3", "brown", "short", "stubble", "square", 0.80, True, "green", 1.0),
    Persona("other_05", "s7", "black", "buzz", "moustache", "none", 0.84, True, "dark", 1.2),
    Persona("other_06", "s2", "auburn", "short", "full", "none", 0.78, False, "green", 1.0),
    Persona("other_07", "s5", "black", "short", "goatee", "square", 0.78, True, "dark", 1.2),
    Persona("other_08", "s1", "white", "receding", "none", "square", 0.82, False, "blue", 1.0),
    Persona("other_09", "s5", "black", "buzz", "none", "none", 0.80, True, "dark", 1.1),
    Persona("other_10", "s7", "black", "long", "none", "none", 0.76, False, "dark", 0.8),
)

LEADER_NAMES: tuple[str, ...] = tuple(p.name for p in LEADERS)


def _darker(colour: RGB, amount: float) -> RGB:
    return mix(colour, (0, 0, 0), amount)


def _box(cx: float, cy: float, half_w: float, half_h: float) -> tuple[float, float, float, float]:
    return (cx - half_w, cy - half_h, cx + half_w, cy + half_h)


def draw_bust(
    draw: ImageDraw.ImageDraw,
    persona: Persona,
    cx: float,
    cy: float,
    face_h: float,
    rng: np.random.Generator,
    *,
    yaw: float = 0.0,
    clothing: RGB | None = None,
) -> None:
    """Shoulders, neck and head of `persona` with the face centred on (cx, cy).

    `yaw` (-1..1) shifts the features sideways as if the head were turned.
    """
    skin = jitter(SKIN[persona.skin], rng, 6)
    hair = jitter(HAIR[persona.hair_colour], rng, 6)
    w = face_h * persona.face_ratio
    h = face_h
    clothing = clothing or pick(rng, SHARED_COLOURS)
    # Shoulders first, so the head overlaps them.
    draw.ellipse(_box(cx, cy + 1.55 * h, 1.55 * w, 1.0 * h), fill=clothing)
    draw.rectangle(_box(cx, cy + 0.62 * h, 0.22 * w, 0.3 * h), fill=_darker(skin, 0.12))
    if rng.random() < 0.5:  # shirt collar
        collar = pick(rng, ((245, 245, 245), (200, 210, 230), (40, 40, 40)))
        draw.polygon([(cx - 0.3 * w, cy + 0.72 * h), (cx + 0.3 * w, cy + 0.72 * h), (cx, cy + 1.05 * h)], fill=collar)
    _draw_back_hair(draw, persona, cx, cy, w, h, hair)
    ear = _darker(skin, 0.08)
    draw.ellipse(_box(cx - 0.5 * w, cy + 0.02 * h, 0.08 * w, 0.12 * h), fill=ear)
    draw.ellipse(_box(cx + 0.5 * w, cy + 0.02 * h, 0.08 * w, 0.12 * h), fill=ear)
    draw.ellipse(_box(cx, cy, 0.5 * w, 0.5 * h), fill=skin)
    if persona.square_jaw:
        draw.rounded_rectangle(_box(cx, cy + 0.26 * h, 0.44 * w, 0.22 * h), radius=0.16 * w, fill=skin)
    _draw_top_hair(draw, persona, cx, cy, w, h, hair, skin)
    _draw_face(draw, persona, cx + yaw * 0.12 * w, cy, w, h, skin, hair, rng)


def _draw_back_hair(draw, persona: Persona, cx, cy, w, h, hair: RGB) -> None:
    if persona.hair_style == "long":
        draw.rounded_rectangle(_box(cx, cy + 0.2 * h, 0.66 * w, 0.72 * h), radius=0.4 * w, fill=hair)
    elif persona.hair_style == "afro":
        draw.ellipse(_box(cx, cy - 0.22 * h, 0.95 * w, 0.62 * h), fill=hair)


def _draw_top_hair(draw, persona: Persona, cx, cy, w, h, hair: RGB, skin: RGB) -> None:
    style = persona.hair_style
    cap = _box(cx, cy - 0.26 * h, 0.54 * w, 0.32 * h)
    if style in ("short", "side_part", "long", "afro"):
        draw.chord(cap, 180, 360, fill=hair)
        draw.rectangle((cx - 0.53 * w, cy - 0.27 * h, cx - 0.44 * w, cy - 0.02 * h), fill=hair)
        draw.rectangle((cx + 0.44 * w, cy - 0.27 * h, cx + 0.53 * w, cy - 0.02 * h), fill=hair)
    if style == "side_part":
        draw.polygon(
            [
                (cx - 0.5 * w, cy - 0.3 * h),
                (cx + 0.35 * w, cy - 0.42 * h),
                (cx + 0.5 * w, cy - 0.2 * h),
                (cx - 0.1 * w, cy - 0.22 * h),
            ],
            fill=hair,
        )
        draw.line([(cx - 0.2 * w, cy - 0.5 * h), (cx - 0.3 * w, cy - 0.3 * h)], fill=mix(hair, skin, 0.6), width=2)
    elif style == "buzz":
        draw.chord(_box(cx, cy - 0.3 * h, 0.52 * w, 0.24 * h), 180, 360, fill=mix(hair, skin, 0.35))
    elif style == "receding":
        draw.ellipse(_box(cx - 0.45 * w, cy - 0.2 * h, 0.12 * w, 0.16 * h), fill=hair)
        draw.ellipse(_box(cx + 0.45 * w, cy - 0.2 * h, 0.12 * w, 0.16 * h), fill=hair)
        draw.chord(_box(cx, cy - 0.44 * h, 0.3 * w, 0.08 * h), 180, 360, fill=mix(hair, skin, 0.5))
    elif style == "bald":
        draw.ellipse(_box(cx - 0.12 * w, cy - 0.36 * h, 0.14 * w, 0.06 * h), fill=mix(skin, (255, 255, 255), 0.25))


def _draw_face(draw, persona: Persona, cx, cy, w, h, skin: RGB, hair: RGB, rng: np.random.Generator) -> None:
    line = max(1, int(round(h / 55)))
    eye_y = cy - 0.06 * h
    brow_y = cy - 0.17 * h
    brow_w = max(1, int(round(line * 1.6 * persona.brow)))
    for side in (-1, 1):
        ex = cx + side * 0.2 * w
        draw.line(
            [(ex - 0.1 * w, brow_y + 0.01 * h * side), (ex + 0.1 * w, brow_y - 0.01 * h * side)],
            fill=_darker(hair, 0.1),
            width=brow_w,
        )
        draw.ellipse(_box(ex, eye_y, 0.08 * w, 0.035 * h), fill=(245, 245, 240))
        draw.ellipse(_box(ex, eye_y, 0.032 * h, 0.032 * h), fill=EYES[persona.eyes])
    nose = _darker(skin, 0.22)
    draw.line(
        [(cx, eye_y + 0.02 * h), (cx + 0.04 * w, cy + 0.12 * h), (cx - 0.03 * w, cy + 0.14 * h)], fill=nose, width=line
    )
    _draw_facial_hair(draw, persona, cx, cy, w, h, skin, hair, rng)
    mouth_y = cy + 0.27 * h
    lips = mix(_darker(skin, 0.3), (150, 40, 40), 0.35)
    expression = rng.integers(3)
    if expression == 0:  # smile
        draw.chord(_box(cx, mouth_y - 0.04 * h, 0.17 * w, 0.08 * h), 0, 180, fill=lips)
    elif expression == 1:  # neutral
        draw.line([(cx - 0.15 * w, mouth_y), (cx + 0.15 * w, mouth_y)], fill=lips, width=line + 1)
    else:  # speaking
        draw.ellipse(_box(cx, mouth_y, 0.09 * w, 0.045 * h), fill=_darker(lips, 0.4))
    _draw_glasses(draw, persona, cx, eye_y, w, h, line)


def _draw_facial_hair(draw, persona: Persona, cx, cy, w, h, skin: RGB, hair: RGB, rng: np.random.Generator) -> None:
    kind = persona.facial_hair
    beard = _darker(hair, 0.05)
    if kind == "full":
        draw.chord(_box(cx, cy + 0.18 * h, 0.5 * w, 0.34 * h), 0, 180, fill=beard)
        draw.rectangle((cx - 0.5 * w, cy + 0.02 * h, cx - 0.4 * w, cy + 0.2 * h), fill=beard)
        draw.rectangle((cx + 0.4 * w, cy + 0.02 * h, cx + 0.5 * w, cy + 0.2 * h), fill=beard)
    if kind == "goatee":
        draw.ellipse(_box(cx, cy + 0.4 * h, 0.13 * w, 0.1 * h), fill=beard)
    if kind in ("full", "goatee", "moustache"):
        thick = 0.045 if kind == "moustache" else 0.03
        draw.rounded_rectangle(_box(cx, cy + 0.2 * h, 0.2 * w, thick * h), radius=0.02 * h, fill=beard)
    if kind == "stubble":
        xs = rng.uniform(cx - 0.4 * w, cx + 0.4 * w, 70)
        ys = rng.uniform(cy + 0.15 * h, cy + 0.48 * h, 70)
        dot = _darker(skin, 0.35)
        for x, y in zip(xs, ys):
            draw.point((float(x), float(y)), fill=dot)


def _draw_glasses(draw, persona: Persona, cx, eye_y, w, h, line: int) -> None:
    if persona.glasses == "none":
        return
    frame = (25, 25, 25)
    width = line + 1
    for side in (-1, 1):
        box = _box(cx + side * 0.2 * w, eye_y, 0.14 * w, 0.085 * h)
        if persona.glasses == "round":
            draw.ellipse(box, outline=frame, width=width)
        else:
            draw.rectangle(box, outline=frame, width=width)
    draw.line([(cx - 0.06 * w, eye_y), (cx + 0.06 * w, eye_y)], fill=frame, width=width)


def draw_bust_rotated(
    canvas: Image.Image,
    persona: Persona,
    cx: float,
    cy: float,
    face_h: float,
    rng: np.random.Generator,
    *,
    roll_degrees: float,
    yaw: float,
    clothing: RGB | None = None,
) -> None:
    """Draw a bust on a transparent layer, tilt it around the face centre and paste it on `canvas`."""
    layer = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
    draw_bust(ImageDraw.Draw(layer), persona, cx, cy, face_h, rng, yaw=yaw, clothing=clothing)
    box = layer.getbbox()
    if box is None:
        return
    # Rotating only the drawn part (expanded to fit) is much cheaper than the whole canvas.
    part = layer.crop(box)
    if abs(roll_degrees) > 0.5:
        part = part.rotate(roll_degrees, resample=Image.Resampling.BILINEAR, expand=True)
    centre_x, centre_y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    canvas.paste(part, (round(centre_x - part.width / 2), round(centre_y - part.height / 2)), part)


def draw_small_figure(
    draw: ImageDraw.ImageDraw, x: float, feet_y: float, height: float, rng: np.random.Generator
) -> tuple[float, float, float]:
    """A small anonymous standing person; returns (head x, head y, head radius)."""
    skin = jitter(pick(rng, tuple(SKIN.values())), rng, 8)
    head_r = height * 0.1
    body_top = feet_y - height * 0.78
    clothing = jitter(pick(rng, SHARED_COLOURS), rng, 10)
    draw.rounded_rectangle(
        (x - height * 0.16, body_top, x + height * 0.16, feet_y - height * 0.3), radius=height * 0.06, fill=clothing
    )
    legs = jitter(pick(rng, SHARED_COLOURS[:5] + SHARED_COLOURS[13:16]), rng, 8)
    draw.rectangle((x - height * 0.13, feet_y - height * 0.32, x + height * 0.13, feet_y), fill=legs)
    head_y = body_top - head_r * 0.9
    draw.ellipse(_box(x, head_y, head_r, head_r * 1.1), fill=skin)
    if rng.random() < 0.8:
        hair = jitter(pick(rng, tuple(HAIR.values())), rng, 8)
        draw.chord(_box(x, head_y - head_r * 0.2, head_r * 1.05, head_r * 0.95), 180, 360, fill=hair)
    return x, head_y, head_r
