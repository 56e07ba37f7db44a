"""Upright RGB working PNGs of the cluster roots, shorter side fixed (rule working_images)."""

from images_as_data.runlog import setup_rule_logging
from images_as_data.working_images import WorkingSettings, write_working_images

setup_rule_logging(snakemake)  # noqa: F821
write_working_images(
    inventory_csv=snakemake.input.inventory,  # noqa: F821
    clusters_csv=snakemake.input.clusters,  # noqa: F821
    images_dir=snakemake.output.images,  # noqa: F821
    manifest_csv=snakemake.output.manifest,  # noqa: F821
    settings=WorkingSettings(**snakemake.params.settings),  # noqa: F821
    threads=snakemake.threads,  # noqa: F821
)
