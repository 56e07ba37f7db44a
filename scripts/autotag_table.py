"""Table 6.1 or 6.2: the autotagger against a manual label (rule autotag_table)."""

from images_as_data.autotag.compare import run_comparison_table
from images_as_data.runlog import setup_rule_logging

setup_rule_logging(snakemake)  # noqa: F821
run_comparison_table(
    snakemake.wildcards.autotag_table,  # noqa: F821
    snakemake.params.autotag,  # noqa: F821
    dict(snakemake.input.items()),  # noqa: F821
    snakemake.output.csv,  # noqa: F821
    snakemake.output.md,  # noqa: F821
)
