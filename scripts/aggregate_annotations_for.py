"""The aggregated annotations one consumer of the sheet reads (rule aggregate_annotations_for)."""

from images_as_data.common.runlog import setup_rule_logging
from images_as_data.labels.annotations import aggregate_annotation_files

setup_rule_logging(snakemake)
aggregate_annotation_files(
    annotations_path=snakemake.input.annotations,
    inventory_path=snakemake.input.inventory,
    clusters_path=snakemake.input.clusters,
    manifest_path=snakemake.input.manifest,
    aggregated_out=snakemake.output.aggregated,
    excluded_out=None,
    binary_columns=snakemake.params.reads["binary_columns"],
    emotions=snakemake.params.reads["emotions"],
    score_range=snakemake.params.score_range,
)
