"""Rule finetune_run: train one (task, setting, seed) and save its epochs, best weights and summary."""

from images_as_data.finetune.pipeline import train_and_save
from images_as_data.runlog import setup_rule_logging

setup_rule_logging(snakemake)  # noqa: F821
train_and_save(
    snakemake.input.store,  # noqa: F821
    dict(snakemake.output.items()),  # noqa: F821
    task=snakemake.wildcards.task,  # noqa: F821
    setting_id=snakemake.wildcards.setting,  # noqa: F821
    seed=int(snakemake.wildcards.seed),  # noqa: F821
    options=snakemake.params.options,  # noqa: F821
    threads=snakemake.threads,  # noqa: F821
)
