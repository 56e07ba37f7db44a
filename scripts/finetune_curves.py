"""Rule finetune_curves: Figures 7.4 (loss) and 7.5 (accuracy) of the hyperparameter study."""

from images_as_data.common.runlog import setup_rule_logging
from images_as_data.finetune.reporting import write_learning_curves

setup_rule_logging(snakemake)
write_learning_curves(
    list(snakemake.input.epochs),
    snakemake.params.loss_stem,
    snakemake.params.accuracy_stem,
    task=snakemake.params.task,
    dpi=snakemake.params.dpi,
    style=snakemake.params.style,
)
