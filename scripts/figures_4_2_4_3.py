"""Figures 4.2 (resizing options) and 4.3 (augmentation) from one working image (rule figures_4_2_4_3)."""

import logging
from pathlib import Path

from images_as_data.preprocess_figures import write_figures_4_2_4_3
from images_as_data.runlog import setup_rule_logging

setup_rule_logging(snakemake)  # noqa: F821
source = write_figures_4_2_4_3(
    manifest_path=snakemake.input.manifest,  # noqa: F821
    stem_4_2=Path(snakemake.output.fig_4_2_png).with_suffix(""),  # noqa: F821
    stem_4_3=Path(snakemake.output.fig_4_3_png).with_suffix(""),  # noqa: F821
    seed=snakemake.params.seed,  # noqa: F821
    dpi=snakemake.params.dpi,  # noqa: F821
    style=snakemake.params.style,  # noqa: F821
)
logging.getLogger(snakemake.rule).info("drew Figures 4.2 and 4.3 from %s", source)  # noqa: F821
