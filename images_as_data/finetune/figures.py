"""Figures of the fine-tuning stage: learning curves (Figures 7.4, 7.5), confusion matrices,
contact sheets of misclassified images (book Section 4.5) and tasks against the baseline."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from PIL import Image, ImageOps

from images_as_data.common.plotting import plt

from .metrics import is_binary

CURVE_LABELS = {"loss": "cross-entropy loss per image (log scale)", "accuracy": "accuracy"}


def learning_curves(epochs: pd.DataFrame, metric: str, title: str) -> Figure:
    """Train (dashed) and validation (solid) `metric` by epoch; rows momentum, columns learning rate,
    colour batch size; lines are means over seeds, bands span the seeds."""
    lrs = sorted(epochs["lr"].unique(), reverse=True)
    momenta = sorted(epochs["momentum"].unique())
    batches = sorted(epochs["batch"].unique())
    colours = dict(zip(batches, plt.rcParams["axes.prop_cycle"].by_key()["color"]))
    fig, axes = plt.subplots(
        len(momenta), len(lrs), figsize=(3.2 * len(lrs), 2.6 * len(momenta)), sharex=True, sharey=True, squeeze=False
    )
    for (row, momentum), (col, lr) in ((r, c) for r in enumerate(momenta) for c in enumerate(lrs)):
        ax = axes[row][col]
        ax.set_title(f"lr {lr:g}, momentum {momentum:g}", fontsize=9)
        for batch in batches:
            runs = epochs[(epochs["lr"] == lr) & (epochs["momentum"] == momentum) & (epochs["batch"] == batch)]
            if runs.empty:
                continue
            for phase, style in (("train", "--"), ("val", "-")):
                by_epoch = runs.groupby("epoch")[f"{phase}_{metric}"]
                mean = by_epoch.mean()
                ax.plot(mean.index, mean.values, style, color=colours[batch], label=f"batch {batch}, {phase}")
                if phase == "val" and runs["seed"].nunique() > 1:
                    ax.fill_between(mean.index, by_epoch.min(), by_epoch.max(), color=colours[batch], alpha=0.15)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if metric == "loss":  # early random-init epochs can spike by orders of magnitude
            ax.set_yscale("log")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.supxlabel("epoch")
    fig.supylabel(CURVE_LABELS[metric])
    fig.suptitle(title)
    fig.tight_layout()
    # Below the figure; savefig(bbox_inches="tight") keeps it in the file.
    fig.legend(handles, labels, loc="upper center", ncol=max(1, len(labels)), frameon=False, bbox_to_anchor=(0.5, 0.0))
    return fig


def confusion_figure(predictions: pd.DataFrame, classes: list[str], title: str) -> Figure:
    """Confusion matrix of the chosen model, one panel per held-out split."""
    # Imported here: scikit-learn costs 0.5 s of CPU to import, and every other job that
    # imports the finetune reporting (tables, curves) would pay it for nothing.
    from sklearn.metrics import ConfusionMatrixDisplay

    splits = list(dict.fromkeys(predictions["split"]))
    side = 1.6 + 0.6 * len(classes)
    fig, axes = plt.subplots(1, len(splits), figsize=(side * len(splits), side), squeeze=False)
    for ax, split in zip(axes[0], splits):
        subset = predictions[predictions["split"] == split]
        ConfusionMatrixDisplay.from_predictions(
            subset["label"], subset["predicted"], labels=classes, ax=ax, colorbar=False, xticks_rotation=45
        )
        ax.set_title(f"{split} (n = {len(subset)})")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def error_groups(predictions: pd.DataFrame, classes: list[str]) -> dict[str, pd.DataFrame]:
    """Misclassified images: false positives and false negatives (binary) or all errors (multiclass)."""
    wrong = predictions[predictions["label"] != predictions["predicted"]]
    if is_binary(classes):
        return {
            "false positives": wrong[wrong["predicted"] == "positive"],
            "false negatives": wrong[wrong["predicted"] == "negative"],
        }
    return {"misclassified": wrong}


def thumbnail(path: str, size: int) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(ImageOps.fit(image.convert("RGB"), (size, size)))


def error_sheet(
    predictions: pd.DataFrame, classes: list[str], title: str, per_group: int = 16, size: int = 96
) -> Figure:
    """Contact sheets of the misclassified held-out images, captioned true -> predicted (probability)."""
    groups = error_groups(predictions, classes)
    columns = 8
    rows_per_group = [max(1, -(-min(len(g), per_group) // columns)) for g in groups.values()]
    fig = plt.figure(figsize=(columns * 1.3, sum(rows_per_group) * 1.5 + 0.6 * len(groups) + 0.5), layout="constrained")
    subfigs = np.atleast_1d(fig.subfigures(len(groups), 1, height_ratios=rows_per_group))
    for subfig, (name, group), n_rows in zip(subfigs, groups.items(), rows_per_group):
        subfig.suptitle(f"{name}: {len(group)}" + (f" (first {per_group} shown)" if len(group) > per_group else ""))
        axes = np.atleast_1d(subfig.subplots(n_rows, columns)).ravel()
        for ax in axes:
            ax.axis("off")
        if group.empty:
            axes[0].text(0, 0.5, "none", fontsize=10)
        for ax, (_, row) in zip(axes, group.head(per_group).iterrows()):
            ax.imshow(thumbnail(row["path"], size))
            probability = row[f"prob_{row['predicted']}"]
            ax.set_title(f"{row['label']}→{row['predicted']}\n{probability:.2f} ({row['split']})", fontsize=6)
    fig.suptitle(title)
    return fig


def tasks_vs_baseline(table: pd.DataFrame, title: str) -> Figure:
    """Validation accuracy per task (mean ± sd over seeds), test accuracy if any, against chance."""
    fig, ax = plt.subplots(figsize=(max(4.0, 1.0 + 0.9 * len(table)), 4.2))
    x = np.arange(len(table))
    ax.bar(
        x,
        table["accuracy"],
        yerr=table["accuracy_sd"].fillna(0),
        capsize=3,
        color="#7fa7d1",
        label="validation (mean ± sd)",
    )
    if table["test_accuracy"].notna().any():
        ax.plot(x, table["test_accuracy"], "D", color="black", label="test")
    ax.axhline(0.5, color="firebrick", linestyle="--", label="50 % baseline")
    chance = 1 / table["n_classes"].astype(float)
    multiclass = table["n_classes"] > 2
    if multiclass.any():
        ax.hlines(
            chance[multiclass],
            x[multiclass] - 0.4,
            x[multiclass] + 0.4,
            color="black",
            linestyle=":",
            label="chance (1/k)",
            zorder=3,
        )
    ax.set_xticks(x, table["task"], rotation=30, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("accuracy")
    ax.set_title(title)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=2, frameon=False)
    fig.tight_layout()
    return fig
