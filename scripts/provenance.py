"""Write the provenance sidecar of one results table (rule `provenance`)."""

from images_as_data.common.provenance import write_provenance
from images_as_data.common.runlog import setup_rule_logging

logger = setup_rule_logging(snakemake)
data_files = {role: path for role, path in snakemake.input.items() if role != "table"}
record = write_provenance(
    table=snakemake.input.table,
    output=snakemake.output[0],
    config=snakemake.params.config,
    data_files=data_files,
    repo=snakemake.params.repo,
)
logger.info("config %s, git %s", record["config_sha256"], record["git"])
