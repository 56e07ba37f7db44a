"""Balanced, cluster-grouped train/val(/test) split of one task (rule splits)."""

from images_as_data.runlog import setup_rule_logging
from images_as_data.splits import write_splits

setup_rule_logging(snakemake)  # noqa: F821
write_splits(
    labels_path=snakemake.input.labels,  # noqa: F821
    out=snakemake.output.csv,  # noqa: F821
    task=snakemake.wildcards.task,  # noqa: F821
    task_type=snakemake.params.task_type,  # noqa: F821
    splits_config=snakemake.params.splits,  # noqa: F821
    seed=snakemake.params.seed,  # noqa: F821
    folders_out=snakemake.output.get("folders"),  # noqa: F821
)
