# The replication report (every number of the book beside this run's), the Section 3 toy
# networks (Table 3.1, Figures 3.1-3.4) and Table 4.1 (torchvision's ImageNet errors).

from images_as_data.replication import FIGURES as REPLICATION_FIGURES
from images_as_data.replication import SOURCES as REPLICATION_SOURCES


def replication_report_inputs(wildcards):
    """Tables and figures the report compares and links, limited to those the current config
    produces (anything left out is listed as missing in the report). Adjust here when a
    stage's outputs or switches change; the stages' own target functions decide."""
    names = ["table_3_1", "linear_model", "table_4_1", "figure_3_1", "figure_3_3"]
    names += ["inventory", "clusters", "aggregated", "table_7_1", "figure_7_1", "figure_7_2"]
    names += ["table_7_2", "grid_runs"]
    if config["autotag"]["enabled"]:
        names += autotag_tables()
        if "table_6_1" in autotag_tables():
            names.append("figure_6_3")
    inputs = {"reference": config["replication"]["reference"]}
    if finetune_study_task():
        names += ["figure_7_4", "figure_7_5"]
        inputs["study_epochs"] = finetune_study_epochs()
    for name in names:
        inputs[name] = REPLICATION_SOURCES.get(name) or REPLICATION_FIGURES[name]
    return inputs


def replication_targets():
    return [
        f"{RESULTS}/report/replication_report.md",
        f"{RESULTS}/report/replication_report.csv",
    ] + toy_network_outputs() + [f"{RESULTS}/tables/table_4_1.csv", f"{RESULTS}/tables/table_4_1.md"]


def toy_network_outputs():
    tables = ["table_3_1.csv", "table_3_1.md", "figure_3_1_linear_model.csv", "figure_3_1_linear_model.md"]
    tables += ["figure_3_2_network.csv", "figure_3_4_conv_network.csv"]
    figures = [f"{fig}.{ext}" for fig in ("figure_3_1", "figure_3_3") for ext in ("png", "pdf")]
    return [f"{RESULTS}/tables/{t}" for t in tables] + [f"{RESULTS}/figures/{f}" for f in figures]


rule toy_networks:
    input:
        reference=config["replication"]["reference"],
    output:
        table_3_1_csv=f"{RESULTS}/tables/table_3_1.csv",
        table_3_1_md=f"{RESULTS}/tables/table_3_1.md",
        linear_csv=report(
            f"{RESULTS}/tables/figure_3_1_linear_model.csv",
            caption="../report/figure_3_1_linear_model.rst",
            category="Section 3: toy networks",
        ),
        linear_md=f"{RESULTS}/tables/figure_3_1_linear_model.md",
        network_csv=f"{RESULTS}/tables/figure_3_2_network.csv",
        conv_csv=f"{RESULTS}/tables/figure_3_4_conv_network.csv",
        figure_3_1_png=report(
            f"{RESULTS}/figures/figure_3_1.png",
            caption="../report/figure_3_1.rst",
            category="Section 3: toy networks",
        ),
        figure_3_1_pdf=f"{RESULTS}/figures/figure_3_1.pdf",
        figure_3_3_png=report(
            f"{RESULTS}/figures/figure_3_3.png",
            caption="../report/figure_3_3.rst",
            category="Section 3: toy networks",
        ),
        figure_3_3_pdf=f"{RESULTS}/figures/figure_3_3.pdf",
    params:
        seed=config["seed"],
        epochs=config["replication"]["toy_epochs"],
        learning_rate=config["replication"]["toy_learning_rate"],
        restarts=config["replication"]["toy_restarts"],
        dpi=config["figures"]["dpi"],
        style=config["figures"]["style"],
    log:
        f"{LOGS}/replication/toy_networks.log",
    benchmark:
        f"{BENCH}/replication/toy_networks.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
    conda:
        "../envs/plotting.yaml"
    script:
        "../scripts/toy_networks.py"


rule table_4_1:
    input:
        reference=config["replication"]["reference"],
    output:
        csv=report(
            f"{RESULTS}/tables/table_4_1.csv",
            caption="../report/table_4_1.rst",
            category="Table 4.1: backbones",
        ),
        md=f"{RESULTS}/tables/table_4_1.md",
    log:
        f"{LOGS}/replication/table_4_1.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../envs/plotting.yaml"
    script:
        "../scripts/table_4_1.py"


rule replication_report:
    input:
        unpack(replication_report_inputs),
    output:
        md=report(
            f"{RESULTS}/report/replication_report.md",
            caption="../report/replication_report.rst",
            category="Replication",
        ),
        csv=f"{RESULTS}/report/replication_report.csv",
    params:
        demo=config["demo"]["generate"],
        emotions=config["labels"]["emotions"],
        study_task=lambda wildcards: finetune_study_task(),
    log:
        f"{LOGS}/replication/replication_report.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../envs/plotting.yaml"
    script:
        "../scripts/replication_report.py"
