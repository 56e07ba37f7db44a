"""Rule finetune_errors: contact sheets of a task's false positives and false negatives."""

from images_as_data.common.runlog import setup_rule_logging
from images_as_data.finetune.reporting import write_error_sheet

setup_rule_logging(snakemake)
write_error_sheet(
    snakemake.input.runs,
    snakemake.wildcards.task,
    snakemake.params.settings,
    snakemake.params.stem,
    dpi=snakemake.params.dpi,
    style=snakemake.params.style,
)
