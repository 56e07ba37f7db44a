"""Rekognition responses for the sample, through the response cache (rule autotag_fetch, runs locally)."""

from images_as_data.autotag.fetch import run_fetch
from images_as_data.common.runlog import setup_rule_logging

setup_rule_logging(snakemake)
# The estimate file belongs to the autotag_estimate rule; this step logs its own.
run_fetch(snakemake.input.sample, snakemake.params.config, None, snakemake.output.responses)
