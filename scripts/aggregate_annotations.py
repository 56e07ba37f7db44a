"""Validate the annotation sheet and pool it onto duplicate-cluster roots (rule aggregate_annotations)."""

from images_as_data.annotations import aggregate_annotation_files
from images_as_data.runlog import setup_rule_logging

setup_rule_logging(snakemake)  # noqa: F821
aggregate_annotation_files(
    annotations_path=snakemake.input.annotations,  # noqa: F821
    inventory_path=snakemake.input.inventory,  # noqa: F821
    clusters_path=snakemake.input.clusters,  # noqa: F821
    manifest_path=snakemake.input.manifest,  # noqa: F821
    aggregated_out=snakemake.output.aggregated,  # noqa: F821
    excluded_out=snakemake.output.excluded,  # noqa: F821
    binary_columns=snakemake.params.binary_columns,  # noqa: F821
    emotions=snakemake.params.emotions,  # noqa: F821
    score_range=snakemake.params.score_range,  # noqa: F821
)
