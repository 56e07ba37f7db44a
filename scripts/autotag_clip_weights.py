"""Rule autotag_clip_weights (local, needs internet): fetch the pinned open_clip checkpoint once."""

from images_as_data.autotag.clip_tagger import run_fetch_clip_weights
from images_as_data.common.runlog import setup_rule_logging

setup_rule_logging(snakemake)
run_fetch_clip_weights(snakemake.params.clip)
