"""Figure 7.1: how many emotions images evoke and how they co-occur (rule figure_7_1)."""

from pathlib import Path

from images_as_data.common.runlog import setup_rule_logging
from images_as_data.labels.figures import write_figure_7_1

setup_rule_logging(snakemake)
write_figure_7_1(
    aggregated_path=snakemake.input.aggregated,
    out_stem=Path(snakemake.output.png).with_suffix(""),
    emotions=snakemake.params.emotions,
    dpi=snakemake.params.dpi,
    style=snakemake.params.style,
)
