"""Write the provenance sidecar of one results table (rule `provenance`)."""

from images_as_data.provenance import write_provenance
from images_as_data.runlog import setup_rule_logging

logger = setup_rule_logging(snakemake)  # noqa: F821 (injected by Snakemake)
data_files = {role: path for role, path in snakemake.input.items() if role != "table"}  # noqa: F821
record = write_provenance(
    table=snakemake.input.table,  # noqa: F821
    output=snakemake.output[0],  # noqa: F821
    config=snakemake.params.config,  # noqa: F821
    data_files=data_files,
    repo=snakemake.params.repo,  # noqa: F821
)
logger.info("config %s, git %s", record["config_sha256"], record["git"])
