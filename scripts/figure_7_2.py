"""Figure 7.2: distribution of mean emotion scores and the selection threshold (rule figure_7_2)."""

from pathlib import Path

from images_as_data.common.runlog import setup_rule_logging
from images_as_data.labels.figures import write_figure_7_2

setup_rule_logging(snakemake)
write_figure_7_2(
    aggregated_path=snakemake.input.aggregated,
    out_stem=Path(snakemake.output.png).with_suffix(""),
    emotions=snakemake.params.emotions,
    min_score=snakemake.params.min_score,
    min_gap=snakemake.params.min_gap,
    score_range=snakemake.params.score_range,
    dpi=snakemake.params.dpi,
    style=snakemake.params.style,
)
