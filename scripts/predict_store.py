"""Rule predict_store: decode the images to label once, for every task's predictions."""

from images_as_data.common.runlog import setup_rule_logging
from images_as_data.finetune.pipeline import build_image_store_file

setup_rule_logging(snakemake)
build_image_store_file(
    snakemake.input.images,
    snakemake.output.store,
    snakemake.params.size,
    snakemake.threads,
    crop_source=snakemake.params.crop_source,
    max_aspect=snakemake.params.max_aspect,
)
