"""Rule finetune_baseline: every task's accuracy against the 50 % baseline."""

from images_as_data.finetune.reporting import write_tasks_vs_baseline
from images_as_data.runlog import setup_rule_logging

setup_rule_logging(snakemake)  # noqa: F821
write_tasks_vs_baseline(
    snakemake.input.table, snakemake.params.stem, dpi=snakemake.params.dpi, style=snakemake.params.style  # noqa: F821
)
