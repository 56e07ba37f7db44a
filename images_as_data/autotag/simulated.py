"""Simulated Rekognition, Google Cloud Vision and Azure AI Vision responses for the demo corpus,
each in its service's exact documented response format.

The demo corpus has no real photographs, so a live autotagger would say little about it.
The simulation starts from what each demo image shows (a crowd scene, the Legend
stand-in) and draws, with a seed derived from the image's SHA-256, the mistakes a real
tagger makes at configurable rates. Rekognition's responses carry a `LabelModelVersion`
and Azure's a `modelVersion` of "simulated"; every cache record says `"simulated": true`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from images_as_data.autotag.sample import as_yes
from images_as_data.autotag.settings import SimulationRates

SIMULATED_MODEL_VERSION = "simulated"

# Label -> parents, as Rekognition's label taxonomy links them.
PARENTS: dict[str, list[str]] = {
    "Person": [], "Human": [], "Crowd": ["Person"], "Audience": ["Crowd", "Person"],
    "Parade": ["Crowd", "Person"], "Pedestrian": ["Person"],
    "People": ["Person"], "Face": ["Person"], "Head": ["Person"], "Portrait": ["Face", "Person", "Photography"],
    "Photography": [], "Photo": ["Person"], "Smile": ["Face", "Person"], "Clothing": [], "Apparel": [],
    "Suit": ["Clothing", "Overcoat", "Coat"], "Coat": ["Clothing"], "Overcoat": ["Clothing", "Coat"],
    "Tie": ["Accessories"], "Accessories": [], "Microphone": ["Electrical Device"], "Electrical Device": [],
    "Performer": ["Person"], "Musician": ["Musical Instrument", "Person"], "Musical Instrument": [],
    "Text": [], "Poster": ["Advertisement", "Paper"], "Advertisement": ["Poster"], "Paper": [],
    "Flyer": ["Paper", "Poster", "Brochure"], "Brochure": ["Paper", "Poster"], "Banner": ["Text"],
    "Sign": ["Symbol"], "Symbol": [], "Flag": ["Symbol"], "Outdoors": [], "Nature": [], "Sky": ["Nature"],
    "Road": [], "Street": ["Road", "City", "Urban", "Building"], "City": ["Urban", "Building"],
    "Urban": [], "Building": [], "Town": ["Urban", "Building"], "Collage": ["Poster", "Advertisement"],
    "Cartoon": ["Art"], "Art": [], "Drawing": ["Art"], "Screen": ["Electronics"], "Electronics": [],
    "Monitor": ["Screen", "Electronics", "Display"], "Display": ["Screen", "Electronics"], "Word": ["Text"],
}
OBJECT_LABELS = {"Person", "Flag", "Microphone", "Tie", "Banner"}  # labels with bounding boxes

SCENE_LABELS: dict[str, list[str]] = {
    "crowd": ["Person", "Human", "People", "Pedestrian", "Text", "Banner", "Sign", "Symbol", "Flag",
              "Outdoors", "Road", "Street", "City", "Urban", "Building", "Town", "Clothing", "Apparel", "Poster"],
    "portrait": ["Person", "Human", "Face", "Head", "Portrait", "Photography", "Photo", "Smile", "Clothing",
                 "Apparel", "Suit", "Coat", "Overcoat", "Tie", "Accessories", "Microphone", "Performer", "Musician"],
    "other": ["Text", "Poster", "Advertisement", "Paper", "Flyer", "Brochure", "Word", "Collage", "Cartoon",
              "Art", "Drawing", "Screen", "Electronics", "Monitor", "Display", "Nature", "Outdoors", "Sky", "Building"],
}


@dataclass(frozen=True)
class SceneTruth:
    """What a demo image shows."""

    crowd: bool
    celebrity: bool


def image_rng(seed: int, sha256: str, api: str) -> np.random.Generator:
    """A generator that depends only on the seed, the image and the API (not on call order)."""
    api_key = int(hashlib.sha256(api.encode()).hexdigest()[:8], 16)
    return np.random.default_rng([seed, int(sha256[:16], 16), api_key])


def _bounding_box(rng: np.random.Generator, max_side: float = 0.6) -> dict[str, float]:
    width, height = rng.uniform(0.05, max_side, size=2)
    return {
        "Width": float(width), "Height": float(height),
        "Left": float(rng.uniform(0, 1 - width)), "Top": float(rng.uniform(0, 1 - height)),
    }


def _label(rng: np.random.Generator, name: str, confidence: float, n_instances: int = 0) -> dict[str, Any]:
    instances = [
        {"BoundingBox": _bounding_box(rng), "Confidence": float(min(99.99, confidence - rng.uniform(0, 8)))}
        for _ in range(n_instances if name in OBJECT_LABELS else 0)
    ]
    return {
        "Name": name,
        "Confidence": float(confidence),
        "Instances": instances,
        "Parents": [{"Name": parent} for parent in PARENTS.get(name, [])],
    }


def _scene(truth: SceneTruth) -> str:
    if truth.crowd:
        return "crowd"
    return "portrait" if truth.celebrity else "other"


def _crowd_confidence(rng: np.random.Generator, truth: SceneTruth, rates: SimulationRates) -> float | None:
    """Confidence of the Crowd label, or None when the tagger does not return it at all."""
    says_crowd = rng.random() < (rates.crowd_recall if truth.crowd else rates.crowd_false_positive_rate)
    if says_crowd:
        return float(rng.uniform(60, 99.5) if truth.crowd else rng.uniform(50, 85))
    return float(rng.uniform(20, 50)) if rng.random() < 0.4 else None


def simulate_detect_labels(
    seed: int, sha256: str, truth: SceneTruth, rates: SimulationRates, request: dict[str, Any]
) -> dict[str, Any]:
    """A DetectLabels response honouring the request's MinConfidence and MaxLabels."""
    rng = image_rng(seed, sha256, "detect_labels")
    scene = _scene(truth)
    names = SCENE_LABELS[scene]
    if scene == "other" and rng.random() < 0.3:  # flyers and screenshots often show people too
        names = ["Person", "Human", *names]
    chosen = [name for index, name in enumerate(names) if index < 2 or rng.random() < 0.55]
    labels = [
        _label(rng, name, rng.uniform(90, 99.9) if index < 2 else rng.uniform(20, 98), int(rng.integers(1, 9)))
        for index, name in enumerate(chosen)
    ]
    crowd = _crowd_confidence(rng, truth, rates)
    if crowd is not None:
        labels.append(_label(rng, "Crowd", crowd))
        if crowd >= 50 and rng.random() < 0.5:
            labels.append(_label(rng, str(rng.choice(["Audience", "Parade"])), crowd * rng.uniform(0.6, 0.95)))
    min_confidence = float(request.get("MinConfidence", 55.0))
    labels = sorted((label for label in labels if label["Confidence"] >= min_confidence),
                    key=lambda label: -label["Confidence"])
    if request.get("MaxLabels") is not None:
        labels = labels[: int(request["MaxLabels"])]
    return {"Labels": labels, "LabelModelVersion": SIMULATED_MODEL_VERSION}


def _face(rng: np.random.Generator) -> dict[str, Any]:
    box = _bounding_box(rng, max_side=0.3)
    eye_y = box["Top"] + box["Height"] * 0.4
    landmarks = [
        ("eyeLeft", 0.3, 0.0), ("eyeRight", 0.7, 0.0), ("nose", 0.5, 0.2), ("mouthLeft", 0.35, 0.45),
        ("mouthRight", 0.65, 0.45),
    ]
    return {
        "BoundingBox": box,
        "Confidence": float(rng.uniform(95, 99.999)),
        "Landmarks": [
            {"Type": kind, "X": box["Left"] + box["Width"] * x, "Y": eye_y + box["Height"] * y}
            for kind, x, y in landmarks
        ],
        "Pose": {key: float(rng.uniform(-25, 25)) for key in ("Roll", "Yaw", "Pitch")},
        "Quality": {"Brightness": float(rng.uniform(30, 90)), "Sharpness": float(rng.uniform(20, 95))},
    }


def celebrity_id(name: str) -> str:
    """A stable, service-like id for a simulated celebrity."""
    return hashlib.sha256(name.encode()).hexdigest()[:8]


def simulate_recognize_celebrities(
    seed: int, sha256: str, truth: SceneTruth, rates: SimulationRates, celebrity: str
) -> dict[str, Any]:
    """A RecognizeCelebrities response: the celebrity matched at the configured rates."""
    rng = image_rng(seed, sha256, "recognize_celebrities")
    n_other_faces = int(rng.integers(1, 6)) if truth.crowd else int(rng.integers(0, 2))
    matched = rng.random() < (rates.celebrity_recall if truth.celebrity else rates.celebrity_false_positive_rate)
    celebrities = []
    if matched:
        celebrities.append({
            "Urls": [], "Name": celebrity, "Id": celebrity_id(celebrity), "Face": _face(rng),
            "MatchConfidence": float(rng.uniform(85, 100)),
        })
    elif truth.celebrity:
        n_other_faces += 1
    return {"CelebrityFaces": celebrities, "UnrecognizedFaces": [_face(rng) for _ in range(n_other_faces)]}


def scene_truth_from_sample(sample, crowd_column: str, celebrity_column: str) -> dict[str, SceneTruth]:
    """Scene truth by image sha256 from the sample's manual labels (the demo's annotations)."""
    for column in (crowd_column, celebrity_column):
        if column not in sample.columns:
            raise ValueError(
                f"the autotag sample has no '{column}' column for the simulation; "
                "check autotag.label_comparison.manual_column and autotag.celebrity_comparison.manual_column"
            )
    crowd = as_yes(sample[crowd_column], f"the autotag sample column {crowd_column}")
    celebrity = as_yes(sample[celebrity_column], f"the autotag sample column {celebrity_column}")
    return {
        sha256: SceneTruth(crowd=bool(has_crowd), celebrity=bool(has_celebrity))
        for sha256, has_crowd, has_celebrity in zip(sample["sha256"], crowd, celebrity)
    }


# --- Google Cloud Vision and Azure AI Vision ------------------------------------------------
# Label names as each service writes them: Google capitalises and returns "Protest" and
# "Demonstration" for protest photographs, Azure writes lower case and uses "group" (book
# Figure 6.4). Which labels a scene gets is drawn per image; the proxy label follows the rates.

GOOGLE_SCENE_LABELS: dict[str, list[str]] = {
    "crowd": ["Crowd", "People", "Public event", "Event", "Street", "Banner", "Pedestrian", "City", "Signage",
              "Rebellion", "Town square", "Flag", "Tourism", "Recreation", "Travel"],
    "portrait": ["Forehead", "Smile", "Chin", "Eyebrow", "Suit", "Gesture", "Event", "Microphone", "Public speaking",
                 "Spokesperson", "Musician", "Performance", "Entertainment", "Happy"],
    "other": ["Font", "Text", "Poster", "Screenshot", "Paper", "Rectangle", "Advertising", "Brand", "Illustration",
              "Cartoon", "Art", "Graphic design", "Logo", "Graphics"],
}
AZURE_SCENE_LABELS: dict[str, list[str]] = {
    "crowd": ["person", "outdoor", "people", "group", "street", "text", "clothing", "sky", "building", "city",
              "event", "protest", "banner", "sign"],
    "portrait": ["person", "human face", "clothing", "man", "smile", "suit", "indoor", "microphone", "portrait",
                 "wall", "woman", "tie"],
    "other": ["text", "screenshot", "font", "poster", "design", "cartoon", "graphic design", "illustration",
              "indoor", "drawing", "sketch", "logo"],
}


def _scored(rng: np.random.Generator, names: list[str], always: int, keep: float) -> dict[str, float]:
    """The first `always` names at high scores, each later one with probability `keep` (0-1 scores)."""
    return {
        name: float(rng.uniform(0.88, 0.99) if index < always else rng.uniform(0.5, 0.95))
        for index, name in enumerate(names)
        if index < always or rng.random() < keep
    }


def _proxy_score(rng: np.random.Generator, present: bool, recall: float, false_positive_rate: float) -> float | None:
    """Score (0-1) of the proxy label, or None when the service does not return it."""
    if rng.random() < (recall if present else false_positive_rate):
        return float(rng.uniform(0.6, 0.98) if present else rng.uniform(0.5, 0.8))
    return float(rng.uniform(0.3, 0.5)) if rng.random() < 0.3 else None


def simulate_google_labels(seed: int, sha256: str, truth: SceneTruth, rates, request: dict[str, Any]) -> dict[str, Any]:
    """An AnnotateImageResponse with labelAnnotations (mid, description, score, topicality), as the REST API returns it.

    Google returns labels scored 0.5 and above, most confident first, at most maxResults.
    """
    rng = image_rng(seed, sha256, "google_label_detection")
    scores = _scored(rng, GOOGLE_SCENE_LABELS[_scene(truth)], always=2, keep=0.5)
    protest = _proxy_score(rng, truth.crowd, rates.protest_recall, rates.protest_false_positive_rate)
    if protest is not None:
        scores["Protest"] = protest
        if protest >= 0.5 and rng.random() < 0.7:
            scores["Demonstration"] = protest * float(rng.uniform(0.85, 1.0))
    if truth.crowd and rng.random() < 0.35:  # Google rarely says Crowd: the book's Figure 6.4 shows it lower
        scores.pop("Crowd", None)
    max_results = int((request.get("features") or [{}])[0].get("maxResults", 10))
    ranked = sorted(((name, score) for name, score in scores.items() if score >= 0.5), key=lambda item: -item[1])
    return {"labelAnnotations": [
        {"mid": f"/simulated/{name.lower().replace(' ', '_')}", "description": name, "score": round(score, 6),
         "topicality": round(score, 6)}
        for name, score in ranked[:max_results]
    ]}


def simulate_azure_tags(
    seed: int, sha256: str, truth: SceneTruth, rates, request: dict[str, Any], size: tuple[int, int]
) -> dict[str, Any]:
    """An Image Analysis 4.0 result with the tags feature (modelVersion, metadata, tagsResult.values)."""
    rng = image_rng(seed, sha256, "azure_tags")
    scores = _scored(rng, AZURE_SCENE_LABELS[_scene(truth)], always=1, keep=0.55)
    crowd = _proxy_score(rng, truth.crowd, rates.crowd_recall, rates.crowd_false_positive_rate)
    if crowd is not None:
        scores["crowd"] = crowd
    ranked = sorted(scores.items(), key=lambda item: -item[1])
    return {
        "modelVersion": SIMULATED_MODEL_VERSION,
        "metadata": {"width": int(size[0]), "height": int(size[1])},
        "tagsResult": {"values": [{"name": name, "confidence": round(score, 6)} for name, score in ranked]},
    }
