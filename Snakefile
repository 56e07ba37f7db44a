# Images as Data for Social Science Research: a reproducible replication workflow.
# Run: snakemake --cores all   (see README.md)

from snakemake.utils import min_version, validate

min_version("9.0")


# The demo configuration, unless the user gives their own with --configfile (which then
# replaces it instead of being merged into it, so the demo's tasks never leak in).
if not workflow.config_settings.configfiles:

    configfile: "config/config.yaml"


validate(config, "config/schema.yaml", set_default=True)


include: "rules/common.smk"
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
