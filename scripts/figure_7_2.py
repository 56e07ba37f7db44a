"""Figure 7.2: distribution of mean emotion scores and the selection threshold (rule figure_7_2)."""

from pathlib import Path

from images_as_data.label_figures import write_figure_7_2
from images_as_data.runlog import setup_rule_logging

setup_rule_logging(snakemake)  # noqa: F821
write_figure_7_2(
    aggregated_path=snakemake.input.aggregated,  # noqa: F821
    out_stem=Path(snakemake.output.png).with_suffix(""),  # noqa: F821
    emotions=snakemake.params.emotions,  # noqa: F821
    min_score=snakemake.params.min_score,  # noqa: F821
    min_gap=snakemake.params.min_gap,  # noqa: F821
    score_range=snakemake.params.score_range,  # noqa: F821
    dpi=snakemake.params.dpi,  # noqa: F821
    style=snakemake.params.style,  # noqa: F821
)
