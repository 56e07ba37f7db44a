"""The autotagger and the fine-tuned models on the same unseen images (rule autotag_vs_finetuned)."""

from images_as_data.autotag.compare import run_vs_finetuned
from images_as_data.runlog import setup_rule_logging

setup_rule_logging(snakemake)  # noqa: F821
inputs = dict(snakemake.input.items())  # noqa: F821


def by_task(prefix: str) -> dict[str, str]:
    """Optional inputs are named <prefix><task>; only those that existed when the DAG was built."""
    return {name[len(prefix):]: path for name, path in inputs.items() if name.startswith(prefix)}


run_vs_finetuned(
    snakemake.params.autotag,  # noqa: F821
    inputs,
    by_task("predictions_"),
    by_task("splits_"),
    snakemake.output.csv,  # noqa: F821
)
