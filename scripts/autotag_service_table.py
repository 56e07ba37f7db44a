"""Table 6.1 of Google Cloud Vision, Azure AI Vision or CLIP: its proxy label against a manual label
(rule autotag_service_table)."""

from images_as_data.autotag.compare import run_service_table
from images_as_data.common.runlog import setup_rule_logging

setup_rule_logging(snakemake)
run_service_table(
    snakemake.wildcards.tagger,
    snakemake.params.autotag,
    dict(snakemake.input.items()),
    snakemake.output.csv,
    snakemake.output.md,
)
