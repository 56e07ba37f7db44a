"""Google Cloud Vision or Azure AI Vision responses for the sample, through the response cache
(rule autotag_fetch_service, runs locally)."""

from images_as_data.autotag.cloud import run_cloud_fetch
from images_as_data.common.runlog import setup_rule_logging

setup_rule_logging(snakemake)
run_cloud_fetch(
    snakemake.wildcards.cloud,
    snakemake.input.sample,
    snakemake.params.config,
    snakemake.output.estimate,
    snakemake.output.responses,
)
