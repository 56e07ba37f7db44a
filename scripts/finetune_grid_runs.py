"""Rule finetune_grid_runs: every run's summary in results/tables/grid_runs.csv."""

from images_as_data.finetune.reporting import collect_grid_runs
from images_as_data.runlog import setup_rule_logging

setup_rule_logging(snakemake)  # noqa: F821
collect_grid_runs(list(snakemake.input.summaries), snakemake.output.csv)  # noqa: F821
