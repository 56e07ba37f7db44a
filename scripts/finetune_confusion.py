"""Rule finetune_confusion: confusion matrix and per-class metrics of a task's chosen model."""

from images_as_data.finetune.reporting import write_confusion
from images_as_data.runlog import setup_rule_logging

setup_rule_logging(snakemake)  # noqa: F821
write_confusion(
    snakemake.input.runs,  # noqa: F821
    snakemake.wildcards.task,  # noqa: F821
    snakemake.params.settings,  # noqa: F821
    snakemake.params.stem,  # noqa: F821
    snakemake.output.per_class,  # noqa: F821
    dpi=snakemake.params.dpi,  # noqa: F821
    style=snakemake.params.style,  # noqa: F821
)
