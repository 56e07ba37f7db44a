"""Rule predict_new_images: label new images with a task's chosen model (book Section 7.7)."""

from images_as_data.finetune.pipeline import write_predictions
from images_as_data.runlog import setup_rule_logging

setup_rule_logging(snakemake)  # noqa: F821
write_predictions(
    snakemake.input.runs,  # noqa: F821
    snakemake.wildcards.task,  # noqa: F821
    snakemake.params.settings,  # noqa: F821
    snakemake.input.images,  # noqa: F821
    snakemake.output.csv,  # noqa: F821
    batch=snakemake.params.batch,  # noqa: F821
    threads=snakemake.threads,  # noqa: F821
    device=snakemake.params.device,  # noqa: F821
)
