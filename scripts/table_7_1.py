"""Table 7.1: images per task, class and split (rule table_7_1)."""

from images_as_data.label_figures import write_table_7_1
from images_as_data.runlog import setup_rule_logging

setup_rule_logging(snakemake)  # noqa: F821
write_table_7_1(list(snakemake.input.splits), snakemake.output.csv, snakemake.output.md)  # noqa: F821
