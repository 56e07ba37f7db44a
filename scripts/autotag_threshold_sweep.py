"""Counts and metrics of each comparison by confidence threshold (rule autotag_threshold_sweep)."""

from images_as_data.autotag.compare import run_threshold_sweep
from images_as_data.runlog import setup_rule_logging

setup_rule_logging(snakemake)  # noqa: F821
run_threshold_sweep(
    snakemake.params.autotag,  # noqa: F821
    dict(snakemake.input.items()),  # noqa: F821
    snakemake.output.csv,  # noqa: F821
)
