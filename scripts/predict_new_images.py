"""Rule predict_new_images: label new images with a task's chosen model (book Section 7.7)."""

from images_as_data.common.runlog import setup_rule_logging
from images_as_data.finetune.pipeline import write_predictions

setup_rule_logging(snakemake)
write_predictions(
    snakemake.input.runs,
    snakemake.wildcards.task,
    snakemake.params.settings,
    snakemake.input.store,
    snakemake.output.csv,
    batch=snakemake.params.batch,
    threads=snakemake.threads,
    device=snakemake.params.device,
)
