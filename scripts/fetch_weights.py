"""Rule fetch_weights (local, needs internet): cache torchvision's ImageNet weights once."""

from images_as_data.common.runlog import setup_rule_logging
from images_as_data.finetune.pipeline import fetch_weights

setup_rule_logging(snakemake)
fetch_weights(snakemake.params.backbone, snakemake.params.weights, snakemake.params.cache)
