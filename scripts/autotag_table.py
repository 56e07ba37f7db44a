"""Table 6.1 or 6.2: the autotagger against a manual label (rule autotag_table)."""

from images_as_data.autotag.compare import run_comparison_table
from images_as_data.common.runlog import setup_rule_logging

setup_rule_logging(snakemake)
run_comparison_table(
    snakemake.wildcards.autotag_table,
    snakemake.params.autotag,
    dict(snakemake.input.items()),
    snakemake.output.csv,
    snakemake.output.md,
)
