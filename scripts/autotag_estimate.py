"""Calls and cost the Rekognition fetch will need, before any call (rule autotag_estimate, runs locally)."""

from images_as_data.autotag.fetch import run_estimate
from images_as_data.common.runlog import setup_rule_logging

setup_rule_logging(snakemake)
run_estimate(snakemake.input.sample, snakemake.params.config, snakemake.output.estimate)
