"""Validate the annotation sheet and pool it onto duplicate-cluster roots (rule aggregate_annotations)."""

from images_as_data.common.runlog import setup_rule_logging
from images_as_data.labels.annotations import aggregate_annotation_files

setup_rule_logging(snakemake)
aggregate_annotation_files(
    annotations_path=snakemake.input.annotations,
    inventory_path=snakemake.input.inventory,
    clusters_path=snakemake.input.clusters,
    manifest_path=snakemake.input.manifest,
    aggregated_out=snakemake.output.aggregated,
    excluded_out=snakemake.output.excluded,
    binary_columns=snakemake.params.binary_columns,
    emotions=snakemake.params.emotions,
    score_range=snakemake.params.score_range,
    column_keys=snakemake.params.column_keys,
)
