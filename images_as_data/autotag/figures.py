"""Figures 6.3 (Rekognition's most frequent labels) and 6.4 (each service's ten most frequent
labels, side by side) and the precision-recall curve of the threshold sweep."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import pandas as pd
from matplotlib.figure import Figure

from images_as_data.autotag import LABEL_API, SERVICE_SHORT, SERVICE_TITLES
from images_as_data.autotag.compare import comparisons_from_config, fetched_comparisons, label_services, service_comparisons
from images_as_data.autotag.sample import as_yes
from images_as_data.common.atomic import save_figure, write_csv
from images_as_data.common.plotting import plt

SIMULATED_SUBTITLE = "simulated responses (demo corpus), not Amazon Rekognition output"
FIGURE_6_4_COLUMNS = ["service", "rank", "label", "n_images", "share", "min_confidence", "n_sample", "proxy_label",
                      "simulated", "marker", "model_version"]


def label_frequencies(labels: pd.DataFrame, min_confidence: float, top_n: int) -> pd.Series:
    """Images per label among labels returned with confidence above `min_confidence`, most frequent first."""
    confident = labels[labels["confidence"] > min_confidence]
    counts = confident.groupby("label")["image_id"].nunique()
    return counts.sort_index().sort_values(ascending=False, kind="stable").head(top_n)


def _subtitle(ax, simulated: bool, text: str = SIMULATED_SUBTITLE) -> None:
    if simulated:
        ax.text(0.5, 1.01, text, transform=ax.transAxes, ha="center", va="bottom", color="firebrick", fontsize=8)


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
    simulated = sweep.loc[sweep["simulated"].astype(bool), "service"] if "service" in sweep else pd.Series(dtype=str)
    if len(simulated) and set(simulated) != {"rekognition"}:
        names = ", ".join(dict.fromkeys(SERVICE_SHORT[service] for service in simulated))
        _subtitle(ax, True, f"demo: simulated responses or random weights ({names})")
    else:
        _subtitle(ax, bool(sweep["simulated"].any()) if len(sweep) else False)
    return fig


def service_marker(service: str, simulated: bool) -> str:
    """How a service's panel and rows say that its answers are not a real tagger's."""
    if not simulated:
        return ""
    return "random weights, not a trained model" if service == "clip" else "simulated responses, not the service's output"


def top_labels_by_service(labels: pd.DataFrame, requests: pd.DataFrame, section: Mapping[str, Any], n_sample: int,
                          top_n: int = 10) -> pd.DataFrame:
    """Figure 6.4's data: each compared service's `top_n` most frequent labels above its threshold."""
    services = label_services(section)
    proxies = {service: comparison.target for service, comparison in service_comparisons(section).items()}
    proxies["rekognition"] = comparisons_from_config(section)["table_6_1"].target
    rows = []
    for service in services:
        part = section if service == "rekognition" else section.get(service, {})
        threshold = float(part.get("top_labels_min_confidence", 50))
        calls = requests[(requests["api"] == LABEL_API[service])]
        simulated = bool(as_yes(calls["simulated"], "requests.csv column simulated").any()) if len(calls) else False
        versions = ";".join(sorted({str(value) for value in calls["model_version"].dropna()}))
        of_service = labels[labels["service"].fillna("rekognition") == service] if "service" in labels else labels
        frequencies = label_frequencies(of_service, threshold, top_n)
        for rank, (label, count) in enumerate(frequencies.items(), start=1):
            rows.append({"service": service, "rank": rank, "label": label, "n_images": int(count),
                         "share": count / n_sample if n_sample else float("nan"), "min_confidence": threshold,
                         "n_sample": n_sample, "proxy_label": label == proxies.get(service), "simulated": simulated,
                         "marker": service_marker(service, simulated), "model_version": versions})
    return pd.DataFrame(rows, columns=FIGURE_6_4_COLUMNS)


def figure_6_4(top: pd.DataFrame, services: list[str], n_sample: int) -> Figure:
    """One panel per service, its ten most frequent labels as horizontal bars (the book's Figure 6.4).

    The bar of the label each service's Table 6.1 uses as a proxy is drawn in another colour;
    a panel of simulated responses or random weights says so under its title.
    """
    fig, axes = plt.subplots(1, len(services), figsize=(3.4 * len(services), 4.2), squeeze=False)
    for ax, service in zip(axes[0], services):
        rows = top[top["service"] == service].sort_values("rank", ascending=False)
        colours = ["darkorange" if proxy else "steelblue" for proxy in rows["proxy_label"]]
        ax.barh(rows["label"], rows["n_images"], color=colours)
        threshold = rows["min_confidence"].iloc[0] if len(rows) else float("nan")
        ax.set_title(SERVICE_TITLES[service], fontsize=10, pad=16)
        ax.set_xlabel(f"images (of {n_sample}), confidence > {threshold:g}", fontsize=8)
        ax.tick_params(axis="both", labelsize=8)
        if rows.empty:
            ax.text(0.5, 0.5, "no label above the threshold", transform=ax.transAxes, ha="center", fontsize=8)
        marker = top.loc[top["service"] == service, "marker"]
        if len(marker) and marker.iloc[0]:
            ax.text(0.5, 1.01, marker.iloc[0], transform=ax.transAxes, ha="center", va="bottom", color="firebrick",
                    fontsize=7)
    fig.suptitle("Figure 6.4: the ten most frequent labels of each tagger (orange: the Table 6.1 proxy label)",
                 fontsize=10)
    fig.tight_layout()
    return fig


def run_figure_6_4(inputs: Mapping[str, str], section: Mapping[str, Any], png_path: str, table_csv: str,
                   dpi: int, style: str) -> pd.DataFrame:
    """The Figure 6.4 rule: the figure (PNG and PDF beside it) and its data as a tidy CSV."""
    labels = pd.read_csv(inputs["labels"], dtype={"image_id": str, "label": str, "service": str})
    requests = pd.read_csv(inputs["requests"], dtype={"image_id": str, "model_version": str})
    n_sample = len(pd.read_csv(inputs["sample"], usecols=["image_id"]))
    top = top_labels_by_service(labels, requests, section, n_sample)
    services = label_services(section)
    write_csv(top, table_csv)
    with plt.style.context(style):
        save_figure(figure_6_4(top, services, n_sample), Path(png_path).with_suffix(""), dpi=dpi)
    return top


def run_figure_6_3(inputs: Mapping[str, str], section: Mapping[str, Any], png_path: str, dpi: int, style: str) -> None:
    """The Figure 6.3 rule: writes `png_path` and the PDF beside it (`inputs`: labels, requests, sample CSVs)."""
    labels = pd.read_csv(inputs["labels"], dtype={"image_id": str, "label": str})
    if "service" in labels.columns:  # Figure 6.3 is Rekognition's
        labels = labels[labels["service"].fillna("rekognition") == "rekognition"]
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
    chosen = {comparison.name: comparison.threshold for comparison in fetched_comparisons(section)}
    with plt.style.context(style):
        fig = pr_curve(sweep, chosen)
        save_figure(fig, Path(png_path).with_suffix(""), dpi=dpi)
