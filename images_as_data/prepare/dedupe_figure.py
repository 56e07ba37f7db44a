"""Audit contact sheet for dedupe: sample accepted pairs by method, and the closest rejected pairs.

One row per method of results/dedupe/pairs.csv with accepted pairs (exact, pixel,
near, mirror, border, rotation, crop, url), then one row of the rejected pairs that
came closest to passing (highest agreement among those sharing at least
``min_overlap`` of both pictures, then the rest), so a researcher can see what each
rule merges and where the thresholds cut.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
from PIL import Image

from ..common.atomic import save_figure
from ..common.plotting import plt
from ..common.tables import read_table
from .resize import open_rgb

METHOD_ORDER = ["exact", "pixel", "near", "mirror", "border", "rotation", "crop", "url"]
THUMB_HEIGHT = 140
GAP = 8


def select_pairs(pairs: pd.DataFrame, per_method: int = 4, rejected: int = 4, seed: int = 0) -> pd.DataFrame:
    """The pairs to draw: a seeded sample of accepted pairs per method, and the closest rejected pairs.

    Returns the chosen rows with a ``group`` column (the method, or ``rejected``), in
    drawing order.
    """
    rng = np.random.default_rng(seed)
    chosen = []
    accepted = pairs[pairs["decision"] == "accepted"]
    methods = [m for m in METHOD_ORDER if m in set(accepted["method"])] + sorted(set(accepted["method"]) - set(METHOD_ORDER))
    for method in methods:
        rows = accepted[accepted["method"] == method]
        picked = rows.iloc[np.sort(rng.choice(len(rows), size=min(per_method, len(rows)), replace=False))]
        chosen.append(picked.assign(group=method))
    refused = pairs[pairs["decision"] == "rejected"].copy()
    if len(refused):
        overlap = pd.concat([_number(refused["overlap_a"]), _number(refused["overlap_b"])], axis=1).min(axis=1)
        refused = refused.assign(_overlap=overlap.fillna(0), _agreement=_number(refused["agreement"]).fillna(0))
        refused = refused.sort_values(["_agreement", "_overlap"], ascending=False).head(rejected)
        chosen.append(refused.drop(columns=["_overlap", "_agreement"]).assign(group="rejected"))
    return pd.concat(chosen, ignore_index=True) if chosen else pairs.head(0).assign(group=[])


def _number(column: pd.Series) -> pd.Series:
    return pd.to_numeric(column.replace("", np.nan), errors="coerce")


def thumbnail(path: str | os.PathLike, height: int = THUMB_HEIGHT) -> np.ndarray:
    """The upright RGB first frame of ``path`` scaled to ``height`` pixels high."""
    rgb, _ = open_rgb(path, short_side=height)
    width = max(1, round(rgb.width * height / rgb.height))
    return np.asarray(rgb.resize((width, height), Image.Resampling.LANCZOS))


def side_by_side(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    gap = np.full((left.shape[0], GAP, 3), 255, dtype=np.uint8)
    return np.concatenate([left, gap, right], axis=1)


def caption(row: pd.Series) -> str:
    """Method, hash distance, overlap and agreement of one pair, on two short lines."""
    parts = [row["method"]]
    if str(row.get("hash_distance", "")) not in ("", "nan", "<NA>"):
        parts.append(f"d={row['hash_distance']}")
    if str(row.get("alignment", "")) not in ("", "none"):
        parts.append(str(row["alignment"]))
    numbers = []
    for key, label in (("overlap_a", "overlap"), ("agreement", "agree")):
        value = pd.to_numeric(pd.Series([row.get(key, "")]).replace("", np.nan), errors="coerce").iloc[0]
        if key == "overlap_a" and not np.isnan(value):
            other = pd.to_numeric(pd.Series([row.get("overlap_b", "")]).replace("", np.nan), errors="coerce").iloc[0]
            numbers.append(f"{label} {value:.0%}/{other:.0%}")
        elif not np.isnan(value):
            numbers.append(f"{label} {value:.0%}")
    return " · ".join(parts) + ("\n" + " · ".join(numbers) if numbers else "")


def draw_audit(selected: pd.DataFrame, paths: dict[str, str], stem: str | os.PathLike, dpi: int = 150, style: str = "default") -> None:
    """Draw the contact sheet of ``selected`` (from :func:`select_pairs`) to ``stem``.png/.pdf."""
    with plt.style.context(style):
        groups = list(dict.fromkeys(selected["group"])) if len(selected) else []
        if not groups:
            fig, axis = plt.subplots(figsize=(6, 1.5))
            axis.axis("off")
            axis.text(0.5, 0.5, "no candidate pairs: no two images looked alike", ha="center", va="center")
            save_figure(fig, stem, dpi=dpi)
            return
        columns = int(selected.groupby("group").size().max())
        fig, axes = plt.subplots(len(groups), columns, figsize=(3.4 * columns, 2.2 * len(groups)), squeeze=False)
        for r, group in enumerate(groups):
            rows = selected[selected["group"] == group]
            for c in range(columns):
                axis = axes[r, c]
                axis.axis("off")
                if c >= len(rows):
                    continue
                row = rows.iloc[c]
                axis.imshow(side_by_side(thumbnail(paths[row["image_a"]]), thumbnail(paths[row["image_b"]])))
                axis.set_title(caption(row), fontsize=7)
                axis.text(0.5, -0.04, f"{row['image_a']}  |  {row['image_b']}", fontsize=5, ha="center", va="top", transform=axis.transAxes)
            label = "closest rejected" if group == "rejected" else f"accepted: {group}"
            axes[r, 0].text(-0.04, 0.5, label, fontsize=8, rotation=90, ha="right", va="center", transform=axes[r, 0].transAxes)
        fig.suptitle("Duplicate pairs by method (left | right), and the rejected pairs closest to passing", fontsize=9)
        fig.tight_layout()
        save_figure(fig, stem, dpi=dpi)


def write_dedupe_audit(
    pairs_csv: str | os.PathLike,
    inventory_csv: str | os.PathLike,
    stem: str | os.PathLike,
    seed: int = 0,
    dpi: int = 150,
    style: str = "default",
) -> pd.DataFrame:
    """Read pairs.csv and the inventory (for the files' paths), draw the audit sheet; return the drawn pairs."""
    pairs = read_table(pairs_csv)
    inventory = read_table(inventory_csv)
    selected = select_pairs(pairs, seed=seed)
    draw_audit(selected, dict(zip(inventory["image_id"], inventory["path"])), stem, dpi=dpi, style=style)
    return selected
