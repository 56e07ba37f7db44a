"""Tidy label, celebrity and request tables from every service's raw responses (rule autotag_tidy)."""

from images_as_data.autotag.tidy import run_tidy
from images_as_data.common.runlog import setup_rule_logging

setup_rule_logging(snakemake)
run_tidy(
    list(snakemake.input.responses),
    snakemake.output.labels,
    snakemake.output.celebrities,
    snakemake.output.requests,
)
