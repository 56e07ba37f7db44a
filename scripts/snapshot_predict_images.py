"""Listing of predict.images (a folder) by path, size and time (rule snapshot_predict_images)."""

from images_as_data.common.listing import write_listing
from images_as_data.common.runlog import setup_rule_logging

setup_rule_logging(snakemake)
write_listing({"": snakemake.input.images}, snakemake.output.listing, outside=snakemake.params.outside)
