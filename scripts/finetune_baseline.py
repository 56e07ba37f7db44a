"""Rule finetune_baseline: every task's accuracy against the 50 % baseline."""

from images_as_data.common.runlog import setup_rule_logging
from images_as_data.finetune.reporting import write_tasks_vs_baseline

setup_rule_logging(snakemake)
write_tasks_vs_baseline(
    snakemake.input.table, snakemake.params.stem, dpi=snakemake.params.dpi, style=snakemake.params.style
)
