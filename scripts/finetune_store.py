"""Rule finetune_store: decode a task's images once into results/finetune/<task>/store.pt."""

from images_as_data.finetune.pipeline import build_store_file
from images_as_data.runlog import setup_rule_logging

setup_rule_logging(snakemake)  # noqa: F821
build_store_file(snakemake.input.split, snakemake.output.store, snakemake.params.size, snakemake.threads)  # noqa: F821
