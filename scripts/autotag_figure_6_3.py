"""Figure 6.3: the most frequent labels returned with > 50 % confidence (rule autotag_figure_6_3)."""

from images_as_data.autotag.figures import run_figure_6_3
from images_as_data.common.runlog import setup_rule_logging

setup_rule_logging(snakemake)
run_figure_6_3(
    dict(snakemake.input.items()),
    snakemake.params.autotag,
    snakemake.output.png,
    snakemake.params.dpi,
    snakemake.params.style,
)
