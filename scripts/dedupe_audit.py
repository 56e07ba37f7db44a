"""Audit contact sheet of dedupe's accepted and closest rejected pairs (rule dedupe_audit)."""

import logging
from pathlib import Path

from images_as_data.common.runlog import setup_rule_logging
from images_as_data.prepare.dedupe_figure import write_dedupe_audit

setup_rule_logging(snakemake)
drawn = write_dedupe_audit(
    pairs_csv=snakemake.input.pairs,
    inventory_csv=snakemake.input.inventory,
    stem=Path(snakemake.output.png).with_suffix(""),
    seed=snakemake.params.seed,
    dpi=snakemake.params.dpi,
    style=snakemake.params.style,
)
logging.getLogger(snakemake.rule).info("drew %d pairs: %s", len(drawn), drawn["group"].value_counts().to_dict())
