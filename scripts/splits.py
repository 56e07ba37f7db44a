"""Balanced, cluster-grouped train/val(/test) split of one task (rule splits)."""

from images_as_data.common.runlog import setup_rule_logging
from images_as_data.labels.splits import write_splits

setup_rule_logging(snakemake)
write_splits(
    labels_path=snakemake.input.labels,
    out=snakemake.output.csv,
    task=snakemake.wildcards.task,
    task_type=snakemake.params.task_type,
    splits_config=snakemake.params.splits,
    seed=snakemake.params.seed,
    folders_out=snakemake.output.get("folders"),
)
