"""Rekognition responses for the sample, through the response cache (rule autotag_fetch, runs locally)."""

from images_as_data.autotag.fetch import run_fetch
from images_as_data.common.runlog import setup_rule_logging

setup_rule_logging(snakemake)
run_fetch(
    snakemake.input.sample,
    snakemake.params.config,
    snakemake.output.estimate,
    snakemake.output.responses,
)
