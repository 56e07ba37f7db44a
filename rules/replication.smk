# The replication report (every number of the book beside this run's), the Section 3 toy
# networks (Table 3.1, Figures 3.1-3.4) and Table 4.1 (torchvision's ImageNet errors).


rule toy_networks:
    input:
        reference=config["replication"]["reference"],
        code=package_code("replication/toy_networks.py"),
    output:
        **figure_outputs("figure_3_1", "Section 3: toy networks", key="figure_3_1"),
        **figure_outputs("figure_3_3", "Section 3: toy networks", key="figure_3_3"),
        table_3_1_csv=report(
            f"{RESULTS}/tables/table_3_1.csv",
            caption="../report/table_3_1.rst",
            category="Section 3: toy networks",
        ),
        table_3_1_md=f"{RESULTS}/tables/table_3_1.md",
        linear_csv=report(
            f"{RESULTS}/tables/figure_3_1_linear_model.csv",
            caption="../report/figure_3_1_linear_model.rst",
            category="Section 3: toy networks",
        ),
        linear_md=f"{RESULTS}/tables/figure_3_1_linear_model.md",
        network_csv=f"{RESULTS}/tables/figure_3_2_network.csv",
        conv_csv=f"{RESULTS}/tables/figure_3_4_conv_network.csv",
    log:
        f"{LOGS}/replication/toy_networks.log",
    benchmark:
        f"{BENCH}/replication/toy_networks.tsv"
    conda:
        "../envs/plotting.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
    params:
        **figure_settings(),
        seed=config["seed"],
        epochs=config["replication"]["toy_epochs"],
        learning_rate=config["replication"]["toy_learning_rate"],
        restarts=config["replication"]["toy_restarts"],
    script:
        "../scripts/toy_networks.py"


rule table_4_1:
    input:
        reference=config["replication"]["reference"],
        code=package_code("replication/table_4_1.py"),
    output:
        csv=report(
            f"{RESULTS}/tables/table_4_1.csv",
            caption="../report/table_4_1.rst",
            category="Table 4.1: backbones",
        ),
        md=f"{RESULTS}/tables/table_4_1.md",
    log:
        f"{LOGS}/replication/table_4_1.log",
    conda:
        "../envs/plotting.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    script:
        "../scripts/table_4_1.py"


rule replication_report:
    input:
        unpack(replication_report_inputs),
        code=replication_report_code(),
    output:
        md=report(
            f"{RESULTS}/report/replication_report.md",
            caption="../report/replication_report.rst",
            category="Replication",
        ),
        csv=f"{RESULTS}/report/replication_report.csv",
    log:
        f"{LOGS}/replication/replication_report.log",
    conda:
        "../envs/plotting.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        demo=config["demo"]["generate"],
        emotions=config["labels"]["emotions"],
        study_task=lambda wildcards: finetune_study_task(),
    script:
        "../scripts/replication_report.py"
