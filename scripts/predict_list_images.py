"""Rule predict_list_images: the images to label (unannotated corpus clusters, a folder or a list)."""

from images_as_data.common.runlog import setup_rule_logging
from images_as_data.finetune.pipeline import write_new_image_list

setup_rule_logging(snakemake)
write_new_image_list(
    snakemake.params.source,
    snakemake.output.csv,
    manifest_csv=snakemake.input.get("manifest"),
    aggregated_csv=snakemake.input.get("aggregated"),
)
