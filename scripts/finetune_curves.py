"""Rule finetune_curves: Figures 7.4 (loss) and 7.5 (accuracy) of the hyperparameter study."""

from images_as_data.finetune.reporting import write_learning_curves
from images_as_data.runlog import setup_rule_logging

setup_rule_logging(snakemake)  # noqa: F821
write_learning_curves(
    list(snakemake.input.epochs),  # noqa: F821
    snakemake.params.loss_stem,  # noqa: F821
    snakemake.params.accuracy_stem,  # noqa: F821
    task=snakemake.params.task,  # noqa: F821
    dpi=snakemake.params.dpi,  # noqa: F821
    style=snakemake.params.style,  # noqa: F821
)
