"""The autotagger and the fine-tuned models on the same unseen images (rule autotag_vs_finetuned)."""

from images_as_data.autotag.compare import run_vs_finetuned
from images_as_data.common.runlog import setup_rule_logging

setup_rule_logging(snakemake)
run_vs_finetuned(
    snakemake.params.autotag,
    dict(snakemake.input.items()),
    snakemake.output.csv,
)
