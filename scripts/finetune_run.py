"""Rule finetune_run: train one (task, setting, seed) and save its epochs, best weights and summary."""

from images_as_data.common.runlog import setup_rule_logging
from images_as_data.finetune.pipeline import train_and_save

setup_rule_logging(snakemake)
train_and_save(
    snakemake.input.store,
    dict(snakemake.output.items()),
    task=snakemake.wildcards.task,
    setting_id=snakemake.wildcards.setting,
    seed=int(snakemake.wildcards.seed),
    options=snakemake.params.options,
    threads=snakemake.threads,
)
