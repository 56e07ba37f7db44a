"""Rule finetune_confusion: confusion matrix and per-class metrics of a task's chosen model."""

from images_as_data.common.runlog import setup_rule_logging
from images_as_data.finetune.reporting import write_confusion

setup_rule_logging(snakemake)
write_confusion(
    snakemake.input.runs,
    snakemake.wildcards.task,
    snakemake.params.settings,
    snakemake.params.stem,
    snakemake.output.per_class,
    dpi=snakemake.params.dpi,
    style=snakemake.params.style,
)
