"""Figures 4.2 (resizing options) and 4.3 (augmentation) from one working image (rule figures_4_2_4_3)."""

import logging
from pathlib import Path

from images_as_data.common.runlog import setup_rule_logging
from images_as_data.prepare.figures import write_figures_4_2_4_3

setup_rule_logging(snakemake)
source = write_figures_4_2_4_3(
    manifest_path=snakemake.input.manifest,
    stem_4_2=Path(snakemake.output.fig_4_2_png).with_suffix(""),
    stem_4_3=Path(snakemake.output.fig_4_3_png).with_suffix(""),
    seed=snakemake.params.seed,
    dpi=snakemake.params.dpi,
    style=snakemake.params.style,
)
logging.getLogger(snakemake.rule).info("drew Figures 4.2 and 4.3 from %s", source)
