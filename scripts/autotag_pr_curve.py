"""Precision-recall curve of the autotagger over confidence thresholds (rule autotag_pr_curve)."""

from images_as_data.autotag.figures import run_pr_curve
from images_as_data.common.runlog import setup_rule_logging

setup_rule_logging(snakemake)
run_pr_curve(
    snakemake.input.sweep,
    snakemake.params.autotag,
    snakemake.output.png,
    snakemake.params.dpi,
    snakemake.params.style,
)
