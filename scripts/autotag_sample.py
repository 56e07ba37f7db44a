"""The images sent to the autotagger: labelled cluster roots (rule autotag_sample)."""

from images_as_data.autotag.sample import run_sample
from images_as_data.common.runlog import setup_rule_logging

setup_rule_logging(snakemake)
metadata = list(snakemake.input.metadata)
run_sample(
    snakemake.input.inventory,
    snakemake.input.clusters,
    snakemake.input.aggregated,
    metadata[0] if metadata else None,
    snakemake.params.mode,
    snakemake.params.n_most_shared,
    snakemake.output.sample,
)
