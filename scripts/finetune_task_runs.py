"""Rule finetune_task_runs: every run of one task (its summaries) in results/finetune/<task>/runs.csv."""

from images_as_data.common.runlog import setup_rule_logging
from images_as_data.finetune.reporting import collect_grid_runs

setup_rule_logging(snakemake)
collect_grid_runs(list(snakemake.input.summaries), snakemake.output.csv)
