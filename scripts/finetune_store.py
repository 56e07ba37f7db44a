"""Rule finetune_store: decode a task's images once into results/finetune/<task>/store.pt."""

from images_as_data.common.runlog import setup_rule_logging
from images_as_data.finetune.pipeline import build_store_file

setup_rule_logging(snakemake)
build_store_file(
    snakemake.input.split,
    snakemake.output.store,
    snakemake.params.size,
    snakemake.threads,
    crop_source=snakemake.params.crop_source,
    max_aspect=snakemake.params.max_aspect,
)
