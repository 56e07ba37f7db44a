"""What one consumer of the annotation sheet reads from it, as a digest (rule snapshot_annotations)."""

from images_as_data.common.runlog import setup_rule_logging
from images_as_data.labels.annotations import write_sheet_snapshot

setup_rule_logging(snakemake)
write_sheet_snapshot(snakemake.input.sheet, snakemake.wildcards.snapshot, snakemake.params.reads, snakemake.output.snapshot)
