# Images as Data for Social Science Research: a reproducible replication workflow.
# Run: snakemake --cores all   (see README.md)

from snakemake.utils import min_version, validate

from images_as_data.common.startup import check_no_effect, check_schema, check_sources

min_version("9.0")


# The demo configuration, unless the user gives their own with --configfile (which then
# replaces it instead of being merged into it, so the demo's tasks never leak in).
if not workflow.config_settings.configfiles:

    configfile: "config/config.yaml"


# Before any image is read: every key against config/schema.yaml (messages name the key's
# path), then defaults filled in, then options that the chosen settings would ignore.
check_schema(config, f"{workflow.basedir}/config/schema.yaml")
validate(config, "config/schema.yaml", set_default=True)
check_no_effect(config, f"{workflow.basedir}/config/schema.yaml")


include: "rules/common.smk"


# The data folders and the sheet exist and the sheet has every column a task reads.
check_sources(config, generated_sources())


include: "rules/demo.smk"
include: "rules/prepare.smk"
include: "rules/labels.smk"
include: "rules/finetune.smk"
include: "rules/predict.smk"
include: "rules/autotag.smk"
include: "rules/replication.smk"
include: "rules/provenance.smk"


rule all:
    default_target: True
    input:
        all_targets(),
