"""The autotagger and the fine-tuned models on the same unseen images (rule autotag_vs_finetuned)."""

from images_as_data.autotag.compare import run_vs_finetuned
from images_as_data.runlog import setup_rule_logging

setup_rule_logging(snakemake)  # noqa: F821
run_vs_finetuned(
    snakemake.params.autotag,  # noqa: F821
    dict(snakemake.input.items()),  # noqa: F821
    snakemake.output.csv,  # noqa: F821
)
