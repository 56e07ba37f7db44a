"""Inventory of the raw corpus: kept/excluded with a reason for every file (rule inventory)."""

from images_as_data.common.runlog import setup_rule_logging
from images_as_data.prepare.inventory import InventoryRules, write_inventory

setup_rule_logging(snakemake)
write_inventory(
    images_root=snakemake.input.images,
    output_csv=snakemake.output.inventory,
    rules=InventoryRules(**snakemake.params.rules),
    workers=snakemake.threads,
    progress_every=snakemake.params.progress_every,
    cache_csv=snakemake.params.cache,
)
