"""Rule predict_list_images: the images to label (unannotated corpus clusters, a folder or a list)."""

from images_as_data.finetune.pipeline import write_new_image_list
from images_as_data.runlog import setup_rule_logging

setup_rule_logging(snakemake)  # noqa: F821
write_new_image_list(
    snakemake.params.source,  # noqa: F821
    snakemake.output.csv,  # noqa: F821
    manifest_csv=snakemake.input.get("manifest"),  # noqa: F821
    aggregated_csv=snakemake.input.get("aggregated"),  # noqa: F821
)
