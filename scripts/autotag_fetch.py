"""Rekognition responses for the sample, through the response cache (rule autotag_fetch, runs locally)."""

from images_as_data.autotag.fetch import run_fetch
from images_as_data.runlog import setup_rule_logging

setup_rule_logging(snakemake)  # noqa: F821
run_fetch(
    snakemake.input.sample,  # noqa: F821
    snakemake.params.config,  # noqa: F821
    snakemake.output.estimate,  # noqa: F821
    snakemake.output.responses,  # noqa: F821
)
