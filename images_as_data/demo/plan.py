"""The seeded plan of the demo corpus: what each image shows and how it is stored and shared.

Everything that a downstream stage could use as a shortcut (file format, pixel size,
aspect ratio, file name, folder) is drawn independently of the content, so only the
pixels tell a protest from a headshot. Each image draws from its own random stream
(`stream(seed, kind, index)`), so one image's plan does not depend on the others.
"""

from __future__ import annotations

import math
import string
from dataclasses import dataclass, field, replace

import numpy as np

from .people import LEADERS, LEGEND, OTHERS, Persona
from .scenes import EMOTIONS

CATEGORY_SHARES: dict[str, float] = {
    "protest": 0.44,
    "protest_small": 0.04,
    "legend_protest": 0.008,
    "headshot": 0.10,
    "group": 0.04,
    "legend_group": 0.004,
    "legend_headshot": 0.028,
    "screenshot": 0.095,
    "legend_screenshot": 0.01,
    "cartoon": 0.09,
    "landscape": 0.09,
    "street": 0.055,
}
PROTEST_CATEGORIES = frozenset({"protest", "protest_small", "legend_protest"})
LEGEND_CATEGORIES = frozenset({"legend_protest", "legend_group", "legend_headshot", "legend_screenshot"})

FORMAT_SHARES: dict[str, float] = {"JPEG": 0.74, "PNG": 0.12, "WEBP": 0.08, "GIF": 0.06}
EXTENSIONS: dict[str, str] = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
DATE_FOLDERS: dict[str, float] = {"2015-04-13": 0.2, "2015-04-14": 0.55, "2015-04-15": 0.25}
COMMON_ASPECTS: tuple[float, ...] = (1.0, 4 / 3, 3 / 4, 16 / 9, 9 / 16, 3 / 2, 2 / 3)

# How likely an image is to evoke no emotion at all, and which emotion it mostly evokes.
NO_EMOTION_SHARE: dict[str, float] = {
    "protest": 0.3,
    "protest_small": 0.32,
    "legend_protest": 0.3,
    "headshot": 0.35,
    "group": 0.35,
    "legend_group": 0.35,
    "legend_headshot": 0.35,
    "screenshot": 0.4,
    "legend_screenshot": 0.4,
    "cartoon": 0.33,
    "landscape": 0.36,
    "street": 0.38,
}
DOMINANT_WEIGHTS: dict[str, float] = {"fear": 0.15, "anger": 0.18, "disgust": 0.17, "sadness": 0.23, "enthusiasm": 0.27}
CATEGORY_TILT: dict[str, dict[str, float]] = {
    "protest": {"anger": 1.25, "fear": 1.1, "sadness": 0.9},
    "landscape": {"enthusiasm": 1.2, "sadness": 1.1, "anger": 0.7},
    "headshot": {"sadness": 1.1, "anger": 0.9},
    "cartoon": {"disgust": 1.2, "anger": 1.1, "fear": 0.8},
}
# Emotions that tend to come together (book Figure 7.1b): weights for a secondary emotion.
AFFINITY: dict[str, dict[str, float]] = {
    "fear": {"anger": 3, "sadness": 3, "disgust": 1.5, "enthusiasm": 0.3},
    "anger": {"fear": 2.5, "disgust": 3, "sadness": 2, "enthusiasm": 0.4},
    "disgust": {"anger": 3, "sadness": 1.5, "fear": 1.5, "enthusiasm": 0.3},
    "sadness": {"fear": 2, "anger": 2, "disgust": 1.5, "enthusiasm": 0.5},
    "enthusiasm": {"anger": 0.8, "sadness": 0.6, "fear": 0.4, "disgust": 0.3},
}

(
    STREAM_PLAN,
    STREAM_DRAW,
    STREAM_ANNOTATE,
    STREAM_COPY,
    STREAM_LEADERS,
    STREAM_LEGEND_EXTERNAL,
    STREAM_DEFECT,
    STREAM_CORPUS,
) = range(1, 9)

TOKEN_ALPHABET = string.ascii_letters + string.digits
URL_ALPHABET = TOKEN_ALPHABET + "_-"


def stream(seed: int, kind: int, *keys: int) -> np.random.Generator:
    """An independent random generator for one (kind, index, ...) of one seed."""
    return np.random.default_rng([int(seed), int(kind), *[int(k) for k in keys]])


@dataclass
class ImagePlan:
    """Everything decided about one picture before it is drawn."""

    index: int
    category: str
    personas: tuple[str, ...]
    emotions: tuple[float, ...]  # latent intensity 0..1 per EMOTIONS entry
    width: int
    height: int
    fmt: str
    quality: int
    progressive: bool
    image_id: str
    url: str
    shares: int
    role: str = "regular"
    extra: dict = field(default_factory=dict)

    @property
    def protest(self) -> bool:
        return self.category in PROTEST_CATEGORIES

    @property
    def legend(self) -> bool:
        return self.category in LEGEND_CATEGORIES


def with_format(plan: ImagePlan, fmt: str) -> ImagePlan:
    """The plan with another file format (and a matching file extension and URL)."""
    stem = plan.image_id.rsplit(".", 1)[0]
    url_stem = plan.url.rsplit(".", 1)[0]
    return replace(plan, fmt=fmt, image_id=f"{stem}.{EXTENSIONS[fmt]}", url=f"{url_stem}.{EXTENSIONS[fmt]}")


def persona_by_name(name: str) -> Persona:
    """The persona called `name` (legend, a leader folder name or other_NN)."""
    for persona in (LEGEND, *LEADERS, *OTHERS):
        if persona.name == name:
            return persona
    raise KeyError(f"unknown demo persona {name!r}")


def allocate_categories(n_images: int, rng: np.random.Generator) -> list[str]:
    """Exactly proportional category counts (largest remainder), in random order."""
    names = sorted(CATEGORY_SHARES)
    quotas = np.array([CATEGORY_SHARES[name] * n_images for name in names])
    counts = np.floor(quotas).astype(int)
    for i in np.argsort(-(quotas - counts), kind="stable")[: n_images - counts.sum()]:
        counts[i] += 1
    categories = [name for name, count in zip(names, counts) for _ in range(count)]
    return [categories[i] for i in rng.permutation(n_images)]


def sample_size(rng: np.random.Generator, size_range: tuple[int, int], max_aspect: float = 3.0) -> tuple[int, int]:
    """Width and height within `size_range` with an aspect ratio between 1:max_aspect and max_aspect:1."""
    low, high = size_range
    max_ratio = min(max_aspect, high / low)
    if rng.random() < 0.6:
        ratio = COMMON_ASPECTS[int(rng.integers(len(COMMON_ASPECTS)))] * rng.uniform(0.97, 1.03)
    else:
        ratio = math.exp(rng.uniform(-math.log(max_aspect), math.log(max_aspect)))
    ratio = float(np.clip(ratio, 1 / max_ratio, max_ratio))
    long_over_short = max(ratio, 1 / ratio)
    short = math.exp(rng.uniform(math.log(low), math.log(high / long_over_short)))
    long = short * long_over_short
    short, long = int(np.clip(round(short), low, high)), int(np.clip(round(long), low, high))
    return (long, short) if ratio >= 1 else (short, long)


def sample_format(rng: np.random.Generator) -> tuple[str, int, bool]:
    """(format, quality, progressive) drawn independently of the content."""
    fmt = str(rng.choice(list(FORMAT_SHARES), p=list(FORMAT_SHARES.values())))
    return fmt, int(rng.integers(70, 96)), bool(rng.random() < 0.2)


def sample_token(rng: np.random.Generator, length: int, alphabet: str = TOKEN_ALPHABET) -> str:
    """A random-looking name part (never derived from the content)."""
    return "".join(alphabet[i] for i in rng.integers(0, len(alphabet), size=length))


def sample_image_id(rng: np.random.Generator, fmt: str) -> str:
    """A path such as `2015-04-14/Xq3...Tz.jpg`: date folder and name independent of the content."""
    folder = str(rng.choice(list(DATE_FOLDERS), p=list(DATE_FOLDERS.values())))
    ext = EXTENSIONS[fmt]
    if fmt == "JPEG" and rng.random() < 0.1:
        ext = "jpeg"
    return f"{folder}/{sample_token(rng, int(rng.integers(12, 17)))}.{ext}"


def sample_url(rng: np.random.Generator, fmt: str) -> str:
    return f"https://pbs.twimg.com/media/{sample_token(rng, 15, URL_ALPHABET)}.{EXTENSIONS[fmt]}"


def sample_shares(rng: np.random.Generator) -> int:
    """Heavy-tailed share counts: most images shared a few times, a few thousands of times."""
    return int(np.floor(rng.lognormal(mean=0.8, sigma=1.7)))


def sample_emotions(rng: np.random.Generator, category: str) -> tuple[float, ...]:
    """Latent intensities (0..1) of the five evoked emotions: none, or one dominant plus a few weaker."""
    if rng.random() < NO_EMOTION_SHARE[category]:
        return tuple(0.0 for _ in EMOTIONS)
    tilt = CATEGORY_TILT.get(category.replace("legend_", "").replace("_small", ""), {})
    weights = np.array([DOMINANT_WEIGHTS[e] * tilt.get(e, 1.0) for e in EMOTIONS])
    dominant = EMOTIONS[int(rng.choice(len(EMOTIONS), p=weights / weights.sum()))]
    levels = {e: 0.0 for e in EMOTIONS}
    levels[dominant] = float(rng.uniform(0.12, 0.95))
    n_secondary = int(rng.choice(4, p=[0.3, 0.42, 0.22, 0.06]))
    others = [e for e in EMOTIONS if e != dominant]
    affinity = np.array([AFFINITY[dominant][e] for e in others])
    for e in rng.choice(others, size=n_secondary, replace=False, p=affinity / affinity.sum()):
        levels[str(e)] = levels[dominant] * float(rng.uniform(0.15, 0.85))
    return tuple(levels[e] for e in EMOTIONS)


def sample_personas(rng: np.random.Generator, category: str) -> tuple[str, ...]:
    """Who appears in a headshot, group or screenshot photo."""
    crowd = [p.name for p in OTHERS] * 2 + [p.name for p in LEADERS]
    if category in ("headshot", "screenshot"):
        return (crowd[int(rng.integers(len(crowd)))],)
    if category in ("group", "legend_group"):
        count = int(rng.integers(2, 4)) - (category == "legend_group")
        picked = [str(name) for name in rng.choice(sorted(set(crowd)), size=count, replace=False)]
        if category == "legend_group":
            picked.insert(int(rng.integers(len(picked) + 1)), LEGEND.name)
        return tuple(picked)
    if category in LEGEND_CATEGORIES:
        return (LEGEND.name,)
    return ()


def plan_image(seed: int, index: int, category: str, size_range: tuple[int, int], role: str = "regular") -> ImagePlan:
    """The plan of one corpus image: its own random stream decides everything but the category."""
    rng = stream(seed, STREAM_PLAN, index)
    width, height = sample_size(rng, size_range)
    fmt, quality, progressive = sample_format(rng)
    return ImagePlan(
        index=index,
        category=category,
        personas=sample_personas(rng, category),
        emotions=sample_emotions(rng, category),
        width=width,
        height=height,
        fmt=fmt,
        quality=quality,
        progressive=progressive,
        image_id=sample_image_id(rng, fmt),
        url=sample_url(rng, fmt),
        shares=sample_shares(rng),
        role=role,
    )
