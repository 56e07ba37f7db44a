"""Precision-recall curve of the autotagger over confidence thresholds (rule autotag_pr_curve)."""

from images_as_data.autotag.figures import run_pr_curve
from images_as_data.runlog import setup_rule_logging

setup_rule_logging(snakemake)  # noqa: F821
run_pr_curve(
    snakemake.input.sweep,  # noqa: F821
    snakemake.params.autotag,  # noqa: F821
    snakemake.output.png,  # noqa: F821
    snakemake.params.dpi,  # noqa: F821
    snakemake.params.style,  # noqa: F821
)
