"""Table 7.1: images per task, class and split (rule table_7_1)."""

from images_as_data.common.runlog import setup_rule_logging
from images_as_data.labels.figures import write_table_7_1

setup_rule_logging(snakemake)
write_table_7_1(
    list(snakemake.input.splits), snakemake.output.csv, snakemake.output.md, snakemake.params.presplit_folders
)
