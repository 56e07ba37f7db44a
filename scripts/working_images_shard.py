"""Upright RGB working PNGs of one shard of the cluster roots, shorter side fixed (rule working_images_shard)."""

from images_as_data.common.runlog import setup_rule_logging
from images_as_data.prepare.inventory import parse_shard
from images_as_data.prepare.resize import WorkingSettings, write_working_images

setup_rule_logging(snakemake)
write_working_images(
    inventory_csv=snakemake.input.inventory,
    clusters_csv=snakemake.input.clusters,
    images_dir=snakemake.output.images,
    manifest_csv=snakemake.output.manifest,
    settings=WorkingSettings(**snakemake.params.settings),
    threads=snakemake.threads,
    shard=parse_shard(snakemake.wildcards.scatteritem),
)
