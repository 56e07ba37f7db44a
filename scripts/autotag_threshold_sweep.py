"""Counts and metrics of each comparison by confidence threshold (rule autotag_threshold_sweep)."""

from images_as_data.autotag.compare import run_threshold_sweep
from images_as_data.common.runlog import setup_rule_logging

setup_rule_logging(snakemake)
run_threshold_sweep(
    snakemake.params.autotag,
    dict(snakemake.input.items()),
    snakemake.output.csv,
)
