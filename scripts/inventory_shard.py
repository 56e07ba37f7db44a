"""One shard of the inventory: kept/excluded with a reason for every file, and dedupe's analysis of each kept image (rule inventory_shard)."""

from images_as_data.common.runlog import setup_rule_logging
from images_as_data.prepare.dedupe import Analyser
from images_as_data.prepare.inventory import InventoryRules, parse_shard, write_inventory_shard

setup_rule_logging(snakemake)
write_inventory_shard(
    images_root=snakemake.input.images,
    shard_csv=snakemake.output.shard,
    rules=InventoryRules(**snakemake.params.rules),
    workers=snakemake.threads,
    progress_every=snakemake.params.progress_every,
    cache_csv=snakemake.params.cache,
    analyser=Analyser.of(snakemake.params.analysis),
    shard=parse_shard(snakemake.wildcards.scatteritem),
)
