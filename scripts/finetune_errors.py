"""Rule finetune_errors: contact sheets of a task's false positives and false negatives."""

from images_as_data.finetune.reporting import write_error_sheet
from images_as_data.runlog import setup_rule_logging

setup_rule_logging(snakemake)  # noqa: F821
write_error_sheet(
    snakemake.input.runs,  # noqa: F821
    snakemake.wildcards.task,  # noqa: F821
    snakemake.params.settings,  # noqa: F821
    snakemake.params.stem,  # noqa: F821
    dpi=snakemake.params.dpi,  # noqa: F821
    style=snakemake.params.style,  # noqa: F821
)
