"""Rule fetch_weights (local, needs internet): cache torchvision's ImageNet weights once."""

from images_as_data.finetune.pipeline import fetch_weights
from images_as_data.runlog import setup_rule_logging

setup_rule_logging(snakemake)  # noqa: F821
fetch_weights(snakemake.params.backbone, snakemake.params.weights, snakemake.params.cache)  # noqa: F821
