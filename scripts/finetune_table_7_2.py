"""Rule finetune_table_7_2: best setting per task with seed spread and test metrics (book Table 7.2)."""

from images_as_data.common.runlog import setup_rule_logging
from images_as_data.finetune.reporting import write_table_7_2

setup_rule_logging(snakemake)
write_table_7_2(
    snakemake.input.runs, snakemake.params.settings_by_task, snakemake.output.csv, snakemake.output.md
)
