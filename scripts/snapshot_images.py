"""Listing of data.images by path, size and time, made when the snapshot is missing (rule snapshot_images)."""

from images_as_data.common.listing import write_listing
from images_as_data.common.runlog import setup_rule_logging

setup_rule_logging(snakemake)
write_listing({"": snakemake.input.images}, snakemake.output.listing, outside=snakemake.params.outside)
