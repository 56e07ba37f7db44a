"""Rule table_4_1: the book's Table 4.1 beside torchvision's recorded ImageNet accuracy."""

from images_as_data.common.runlog import setup_rule_logging
from images_as_data.replication.table_4_1 import write_table_4_1

setup_rule_logging(snakemake)
write_table_4_1(snakemake.input.reference, snakemake.output.csv, snakemake.output.md)
