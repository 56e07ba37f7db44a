"""Rule finetune_grid_runs: every run's summary in results/tables/grid_runs.csv."""

from images_as_data.common.runlog import setup_rule_logging
from images_as_data.finetune.reporting import collect_grid_runs

setup_rule_logging(snakemake)
collect_grid_runs(list(snakemake.input.summaries), snakemake.output.csv)
