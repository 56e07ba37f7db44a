"""Tidy label, celebrity and request tables from the raw responses (rule autotag_tidy)."""

from images_as_data.autotag.tidy import run_tidy
from images_as_data.runlog import setup_rule_logging

setup_rule_logging(snakemake)  # noqa: F821
run_tidy(
    snakemake.input.responses,  # noqa: F821
    snakemake.output.labels,  # noqa: F821
    snakemake.output.celebrities,  # noqa: F821
    snakemake.output.requests,  # noqa: F821
)
