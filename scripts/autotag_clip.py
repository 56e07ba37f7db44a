"""Zero-shot CLIP scores of the sample's images on the configured vocabulary, through the response
cache (rule autotag_clip; a GPU when there is one)."""

from images_as_data.autotag.clip_tagger import run_clip
from images_as_data.common.runlog import setup_rule_logging

setup_rule_logging(snakemake)
run_clip(
    snakemake.input.sample,
    snakemake.params.config,
    snakemake.output.estimate,
    snakemake.output.responses,
)
