"""Inventory of the raw corpus: kept/excluded with a reason for every file (rule inventory)."""

from images_as_data.inventory import InventoryRules, write_inventory
from images_as_data.runlog import setup_rule_logging

setup_rule_logging(snakemake)  # noqa: F821
write_inventory(
    images_root=snakemake.input.images,  # noqa: F821
    output_csv=snakemake.output.inventory,  # noqa: F821
    rules=InventoryRules(**snakemake.params.rules),  # noqa: F821
    workers=snakemake.threads,  # noqa: F821
    progress_every=snakemake.params.progress_every,  # noqa: F821
)
