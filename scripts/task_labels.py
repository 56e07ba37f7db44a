"""Build one task's labels from annotations and/or image folders (rule task_labels)."""

from images_as_data.labels import write_task_labels
from images_as_data.runlog import setup_rule_logging

setup_rule_logging(snakemake)  # noqa: F821
inputs = snakemake.input  # noqa: F821
write_task_labels(
    task=snakemake.wildcards.task,  # noqa: F821
    spec=snakemake.params.spec,  # noqa: F821
    labels_config=snakemake.params.labels,  # noqa: F821
    out=snakemake.output[0],  # noqa: F821
    aggregated_path=inputs.get("aggregated"),
    manifest_path=inputs.get("manifest"),
    inventory_path=inputs.get("inventory"),
    clusters_path=inputs.get("clusters"),
)
