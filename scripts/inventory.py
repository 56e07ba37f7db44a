"""The inventory of the raw corpus and dedupe's analyses, gathered from the shards (rule inventory)."""

from images_as_data.common.runlog import setup_rule_logging
from images_as_data.prepare.inventory import gather_inventory

setup_rule_logging(snakemake)
gather_inventory(snakemake.input.shards, snakemake.output.inventory, snakemake.output.views)
