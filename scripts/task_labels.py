"""Build one task's labels from annotations and/or image folders (rule task_labels)."""

from images_as_data.common.runlog import setup_rule_logging
from images_as_data.labels.tasks import write_task_labels

setup_rule_logging(snakemake)
inputs = snakemake.input
write_task_labels(
    task=snakemake.wildcards.task,
    spec=snakemake.params.spec,
    labels_config=snakemake.params.labels,
    out=snakemake.output[0],
    aggregated_path=inputs.get("aggregated"),
    manifest_path=inputs.get("manifest"),
    inventory_path=inputs.get("inventory"),
    clusters_path=inputs.get("clusters"),
)
