"""Figure 7.1: how many emotions images evoke and how they co-occur (rule figure_7_1)."""

from pathlib import Path

from images_as_data.label_figures import write_figure_7_1
from images_as_data.runlog import setup_rule_logging

setup_rule_logging(snakemake)  # noqa: F821
write_figure_7_1(
    aggregated_path=snakemake.input.aggregated,  # noqa: F821
    out_stem=Path(snakemake.output.png).with_suffix(""),  # noqa: F821
    emotions=snakemake.params.emotions,  # noqa: F821
    dpi=snakemake.params.dpi,  # noqa: F821
    style=snakemake.params.style,  # noqa: F821
)
