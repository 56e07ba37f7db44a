"""Duplicate clusters (exact, pixel, near, url) among the kept images (rule dedupe)."""

from images_as_data.dedupe import DedupeSettings, write_dedupe
from images_as_data.runlog import setup_rule_logging

setup_rule_logging(snakemake)  # noqa: F821
metadata = list(snakemake.input.metadata)  # noqa: F821  (zero or one path: the metadata CSV is optional)
write_dedupe(
    inventory_csv=snakemake.input.inventory,  # noqa: F821
    clusters_csv=snakemake.output.clusters,  # noqa: F821
    hashes_csv=snakemake.output.hashes,  # noqa: F821
    settings=DedupeSettings(**snakemake.params.settings),  # noqa: F821
    metadata_csv=metadata[0] if metadata else None,
    workers=snakemake.threads,  # noqa: F821
)
