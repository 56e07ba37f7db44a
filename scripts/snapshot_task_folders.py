"""Listing of a task's folders (rule snapshot_task_folders)."""

from images_as_data.common.listing import write_listing
from images_as_data.common.runlog import setup_rule_logging

setup_rule_logging(snakemake)
write_listing(dict(snakemake.input.items()), snakemake.output.listing, outside="follow")
