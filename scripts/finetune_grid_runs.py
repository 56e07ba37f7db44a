"""Rule finetune_grid_runs: the runs of every task (the per-task tables) in results/tables/grid_runs.csv."""

from images_as_data.common.runlog import setup_rule_logging
from images_as_data.finetune.reporting import join_task_runs

setup_rule_logging(snakemake)
join_task_runs(list(snakemake.input.tasks), snakemake.output.csv)
