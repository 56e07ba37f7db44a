"""The images sent to the autotagger: labelled cluster roots (rule autotag_sample)."""

from images_as_data.autotag.sample import run_sample
from images_as_data.runlog import setup_rule_logging

setup_rule_logging(snakemake)  # noqa: F821
metadata = list(snakemake.input.metadata)  # noqa: F821  (zero or one path: the metadata CSV is optional)
run_sample(
    snakemake.input.inventory,  # noqa: F821
    snakemake.input.clusters,  # noqa: F821
    snakemake.input.aggregated,  # noqa: F821
    metadata[0] if metadata else None,
    snakemake.params.mode,  # noqa: F821
    snakemake.params.n_most_shared,  # noqa: F821
    snakemake.output.sample,  # noqa: F821
)
