"""Figure 6.3: the most frequent labels returned with > 50 % confidence (rule autotag_figure_6_3)."""

from images_as_data.autotag.figures import run_figure_6_3
from images_as_data.runlog import setup_rule_logging

setup_rule_logging(snakemake)  # noqa: F821
run_figure_6_3(
    dict(snakemake.input.items()),  # noqa: F821
    snakemake.params.autotag,  # noqa: F821
    snakemake.output.png,  # noqa: F821
    snakemake.params.dpi,  # noqa: F821
    snakemake.params.style,  # noqa: F821
)
