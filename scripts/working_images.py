"""The working images of all shards in one folder, and their manifest (rule working_images)."""

from images_as_data.common.runlog import setup_rule_logging
from images_as_data.prepare.resize import gather_working_images

setup_rule_logging(snakemake)
gather_working_images(snakemake.input.images, snakemake.input.manifests, snakemake.output.images, snakemake.output.manifest)
