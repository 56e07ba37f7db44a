"""Which images go to the autotagger: labelled cluster roots, all of them or the most shared."""

from __future__ import annotations

import logging

import pandas as pd

from images_as_data.common.atomic import write_csv
from images_as_data.common.config import ConfigError

log = logging.getLogger(__name__)

SAMPLE_MODES = ("all_labelled", "most_shared")


def _require_columns(frame: pd.DataFrame, columns: list[str], source: str) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{source} lacks the column(s) {', '.join(missing)} (has {', '.join(frame.columns)})")


def as_yes(values: pd.Series, source: str) -> pd.Series:
    """Booleans from 0/1, true/false or yes/no values; anything else is an error naming `source`."""
    text = values.astype(str).str.strip().str.lower()
    yes = text.isin({"true", "1", "1.0", "yes", "y"})
    no = text.isin({"false", "0", "0.0", "no", "n"})
    if not (yes | no).all():
        bad = values[~(yes | no)].head(5).tolist()
        raise ValueError(f"{source} holds values that are not yes/no: {bad}")
    return yes


def cluster_roots(inventory: pd.DataFrame, clusters: pd.DataFrame) -> pd.DataFrame:
    """The kept root image of every duplicate cluster with its file facts (path, sha256...)."""
    _require_columns(inventory, ["image_id", "path", "sha256"], "the inventory CSV")
    _require_columns(clusters, ["image_id", "cluster_id", "is_root"], "the clusters CSV")
    roots = clusters.loc[as_yes(clusters["is_root"], "the clusters CSV column is_root"), ["image_id", "cluster_id"]]
    if "status" in inventory.columns:
        inventory = inventory[inventory["status"] == "kept"]
    kept = roots.merge(inventory, on="image_id", how="inner", validate="one_to_one")
    if len(kept) < len(roots):
        lost = sorted(set(roots["image_id"]) - set(kept["image_id"]))
        raise ValueError(
            f"{len(lost)} cluster roots are not kept images in the inventory CSV, e.g. {lost[:5]}; "
            "rerun the inventory and dedupe steps together"
        )
    return kept


def cluster_shares(clusters: pd.DataFrame, metadata: pd.DataFrame) -> pd.Series:
    """Total shares of each cluster: a duplicate posted in another tweet counts for its root."""
    _require_columns(metadata, ["image_id", "shares"], "the metadata CSV")
    shares = pd.to_numeric(metadata["shares"], errors="coerce")
    if shares.isna().any():
        bad = metadata.loc[shares.isna(), "image_id"].head(5).tolist()
        raise ValueError(f"the metadata CSV has shares that are not numbers for image_id {bad}")
    per_image = pd.Series(shares.to_numpy(), index=metadata["image_id"]).groupby(level=0).sum()
    members = clusters[["image_id", "cluster_id"]].assign(
        shares=lambda frame: frame["image_id"].map(per_image).fillna(0)
    )
    return members.groupby("cluster_id")["shares"].sum()


def select_sample(
    inventory: pd.DataFrame,
    clusters: pd.DataFrame,
    aggregated: pd.DataFrame,
    metadata: pd.DataFrame | None,
    mode: str,
    n_most_shared: int,
) -> pd.DataFrame:
    """Labelled cluster roots to tag: all of them, or the `n_most_shared` most shared.

    One row per root with its path, sha256, shares (summed over the cluster) and the
    aggregated manual labels; ordered by rank (most shared first, then image_id).
    """
    if mode not in SAMPLE_MODES:
        raise ConfigError(f"autotag.sample is '{mode}'; use one of {', '.join(SAMPLE_MODES)}")
    _require_columns(aggregated, ["cluster_id", "n_annotators"], "the aggregated labels CSV")
    roots = cluster_roots(inventory, clusters)
    labelled = aggregated[pd.to_numeric(aggregated["n_annotators"], errors="coerce").fillna(0) > 0]
    sample = roots.merge(labelled, on="cluster_id", how="inner", validate="one_to_one")
    if metadata is not None:
        sample["shares"] = sample["cluster_id"].map(cluster_shares(clusters, metadata)).fillna(0)
    elif mode == "most_shared":
        raise ConfigError("autotag.sample: most_shared needs data.metadata with a shares column")
    else:
        sample["shares"] = pd.NA
    if mode == "most_shared":
        sample = sample.sort_values(["shares", "image_id"], ascending=[False, True], kind="stable")
        if len(sample) < n_most_shared:
            log.warning(
                "only %d labelled cluster roots exist; autotag.n_most_shared asks for %d, taking all",
                len(sample), n_most_shared,
            )
        sample = sample.head(n_most_shared)
    else:
        sample = sample.sort_values("image_id", kind="stable")
    sample = sample.reset_index(drop=True)
    sample.insert(0, "rank", range(1, len(sample) + 1))
    if sample.empty:
        raise ValueError("no labelled cluster roots to send to the autotagger; check the aggregated labels CSV")
    return sample


def run_sample(
    inventory_csv: str, clusters_csv: str, aggregated_csv: str, metadata_csv: str | None,
    mode: str, n_most_shared: int, output_csv: str,
) -> pd.DataFrame:
    """The sample rule: read the stage outputs, select, write the sample CSV."""
    text_columns = {"image_id": str, "cluster_id": str, "path": str, "sha256": str}
    inventory = pd.read_csv(inventory_csv, dtype=text_columns, keep_default_na=False, na_values=[""])
    clusters = pd.read_csv(clusters_csv, dtype=text_columns)
    aggregated = pd.read_csv(aggregated_csv, dtype=text_columns)
    metadata = pd.read_csv(metadata_csv, dtype=text_columns) if metadata_csv else None
    sample = select_sample(inventory, clusters, aggregated, metadata, mode, n_most_shared)
    log.info("autotag sample: %d labelled cluster roots (%s)", len(sample), mode)
    write_csv(sample, output_csv)
    return sample
