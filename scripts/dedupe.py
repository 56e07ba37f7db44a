"""Duplicate clusters (exact, pixel, visual, url) among the kept images, and the evidence per pair (rule dedupe)."""

from images_as_data.common.runlog import setup_rule_logging
from images_as_data.prepare.dedupe import DedupeSettings, write_dedupe

setup_rule_logging(snakemake)
metadata = list(snakemake.input.metadata)
write_dedupe(
    inventory_csv=snakemake.input.inventory,
    clusters_csv=snakemake.output.clusters,
    hashes_csv=snakemake.output.hashes,
    pairs_csv=snakemake.output.pairs,
    settings=DedupeSettings(**snakemake.params.settings),
    metadata_csv=metadata[0] if metadata else None,
    workers=snakemake.threads,
    views_csv=snakemake.input.views,
)
