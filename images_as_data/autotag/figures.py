"""Figure 6.3 (most frequent labels) and the precision-recall curve of the threshold sweep."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import pandas as pd
from matplotlib.figure import Figure

from images_as_data.autotag.compare import comparisons_from_config
from images_as_data.autotag.sample import as_yes
from images_as_data.common.atomic import save_figure
from images_as_data.common.plotting import plt

SIMULATED_SUBTITLE = "simulated responses (demo corpus), not Amazon Rekognition output"


def label_frequencies(labels: pd.DataFrame, min_confidence: float, top_n: int) -> pd.Series:
    """Images per label among labels returned with confidence above `min_confidence`, most frequent first."""
    confident = labels[labels["confidence"] > min_confidence]
    counts = confident.groupby("label")["image_id"].nunique()
    return counts.sort_index().sort_values(ascending=False, kind="stable").head(top_n)


def _subtitle(ax, simulated: bool) -> None:
    if simulated:
        ax.text(0.5, 1.01, SIMULATED_SUBTITLE, transform=ax.transAxes, ha="center", va="bottom",
                color="firebrick", fontsize=8)


def figure_6_3(labels: pd.DataFrame, min_confidence: float, top_n: int, n_images: int, simulated: bool) -> Figure:
    """Horizontal bars: the `top_n` most frequent labels, as in the book's Figure 6.3."""
    frequencies = label_frequencies(labels, min_confidence, top_n)
    fig, ax = plt.subplots(figsize=(6, max(3.0, 0.25 * len(frequencies) + 1)))
    ax.barh(frequencies.index[::-1], frequencies.to_numpy()[::-1], color="steelblue")
    ax.set_xlabel(f"images (of {n_images}) with the label at > {min_confidence:g} % confidence")
    ax.set_title(f"Figure 6.3: the {len(frequencies)} most frequent labels", pad=14)
    ax.tick_params(axis="y", labelsize=8)
    _subtitle(ax, simulated)
    return fig


def pr_curve(sweep: pd.DataFrame, chosen: Mapping[str, float]) -> Figure:
    """Precision against recall over the confidence thresholds, one line per comparison.

    `chosen` maps a comparison name to its configured threshold, marked on the line.
    """
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    for name, rows in sweep.groupby("comparison", sort=False):
        rows = rows.dropna(subset=["precision", "recall"]).sort_values("threshold")
        line, = ax.plot(rows["recall"], rows["precision"], marker=".", markersize=3, label=name)
        at = rows[rows["threshold"] == chosen.get(name)]
        if not at.empty:
            ax.scatter(at["recall"], at["precision"], s=60, color=line.get_color(), edgecolor="black", zorder=3)
            ax.annotate(f"≥ {chosen[name]:g}", (at["recall"].iloc[0], at["precision"].iloc[0]),
                        textcoords="offset points", xytext=(-34, -14), fontsize=8)
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_title("Autotagger against manual labels, by confidence threshold", pad=14)
    ax.legend(fontsize=8, loc="lower left")
    _subtitle(ax, bool(sweep["simulated"].any()) if len(sweep) else False)
    return fig


def run_figure_6_3(inputs: Mapping[str, str], section: Mapping[str, Any], png_path: str, dpi: int, style: str) -> None:
    """The Figure 6.3 rule: writes `png_path` and the PDF beside it (`inputs`: labels, requests, sample CSVs)."""
    labels = pd.read_csv(inputs["labels"], dtype={"image_id": str, "label": str})
    requests = pd.read_csv(inputs["requests"], dtype={"image_id": str})
    n_images = len(pd.read_csv(inputs["sample"], usecols=["image_id"]))
    simulated = bool(as_yes(requests.loc[requests["api"] == "detect_labels", "simulated"], "requests.csv").any())
    with plt.style.context(style):
        fig = figure_6_3(labels, float(section.get("top_labels_min_confidence", 50)),
                         int(section.get("top_labels", 25)), n_images, simulated)
        save_figure(fig, Path(png_path).with_suffix(""), dpi=dpi)


def run_pr_curve(sweep_csv, section: Mapping[str, Any], png_path: str, dpi: int, style: str) -> None:
    """The precision-recall rule: writes `png_path` and the PDF beside it."""
    sweep = pd.read_csv(sweep_csv)
    chosen = {comparison.name: comparison.threshold for comparison in comparisons_from_config(section).values()}
    with plt.style.context(style):
        fig = pr_curve(sweep, chosen)
        save_figure(fig, Path(png_path).with_suffix(""), dpi=dpi)
