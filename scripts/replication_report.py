"""Rule replication_report: every number of the book beside this run's, with a verdict."""

from images_as_data.common.runlog import setup_rule_logging
from images_as_data.replication.report import write_replication_report

setup_rule_logging(snakemake)
# Named inputs are the tables and figures this config produces; the rest are reported missing.
produced = {name: paths for name, paths in snakemake.input.items() if name != "reference"}
write_replication_report(
    reference_path=snakemake.input.reference,
    paths=produced,
    demo=snakemake.params.demo,
    emotions=snakemake.params.emotions,
    markdown_path=snakemake.output.md,
    csv_path=snakemake.output.csv,
    study_task=snakemake.params.study_task,
)
