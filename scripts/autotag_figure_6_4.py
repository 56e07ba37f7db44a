"""Figure 6.4: each tagger's ten most frequent labels, side by side, and their table (rule autotag_figure_6_4)."""

from images_as_data.autotag.figures import run_figure_6_4
from images_as_data.common.runlog import setup_rule_logging

setup_rule_logging(snakemake)
run_figure_6_4(
    dict(snakemake.input.items()),
    snakemake.params.autotag,
    snakemake.output.png,
    snakemake.output.csv,
    snakemake.params.dpi,
    snakemake.params.style,
)
