# Labels, splits, Table 7.1 and Figures 4.2, 4.3, 7.1, 7.2 (book Sections 4.2, 5, 7.3, 7.4).


rule aggregate_annotations:
    input:
        annotations=annotations_csv(),
        inventory=f"{RESULTS}/inventory/inventory.csv",
        clusters=f"{RESULTS}/dedupe/clusters.csv",
        manifest=f"{RESULTS}/working/manifest.csv",
    output:
        aggregated=f"{RESULTS}/labels/aggregated.csv",
        excluded=f"{RESULTS}/labels/excluded.csv",
    log:
        f"{LOGS}/labels/aggregate_annotations.log",
    benchmark:
        f"{BENCH}/labels/aggregate_annotations.tsv"
    conda:
        "../envs/imaging.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        binary_columns=annotation_binary_columns(),
        emotions=config["labels"]["emotions"],
        score_range=config["labels"]["score_range"],
    script:
        "../scripts/aggregate_annotations.py"


rule task_labels:
    input:
        unpack(task_corpus_inputs),
        folders=task_folders,
    output:
        f"{RESULTS}/labels/{{task}}.csv",
    log:
        f"{LOGS}/labels/task_labels_{{task}}.log",
    benchmark:
        f"{BENCH}/labels/task_labels_{{task}}.tsv"
    conda:
        "../envs/imaging.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
    params:
        spec=lambda wildcards: config["tasks"][wildcards.task],
        labels=task_label_settings,
    script:
        "../scripts/task_labels.py"


rule splits:
    input:
        labels=f"{RESULTS}/labels/{{task}}.csv",
    output:
        **split_folder_outputs(),
        csv=f"{RESULTS}/splits/{{task}}.csv",
    log:
        f"{LOGS}/splits/{{task}}.log",
    conda:
        "../envs/imaging.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        task_type=lambda wildcards: config["tasks"][wildcards.task]["type"],
        splits=config["splits"],
        seed=config["seed"],
    script:
        "../scripts/splits.py"


rule table_7_1:
    input:
        splits=split_csvs(),
        code=package_code("labels/figures.py"),
    output:
        csv=report(
            f"{RESULTS}/tables/table_7_1.csv",
            caption="../report/table_7_1.rst",
            category="Labels",
        ),
        md=f"{RESULTS}/tables/table_7_1.md",
    log:
        f"{LOGS}/tables/table_7_1.log",
    conda:
        "../envs/plotting.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    script:
        "../scripts/table_7_1.py"


rule figure_7_1:
    input:
        aggregated=f"{RESULTS}/labels/aggregated.csv",
        code=package_code("labels/figures.py"),
    output:
        png=report(
            f"{RESULTS}/figures/figure_7_1.png",
            caption="../report/figure_7_1.rst",
            category="Labels",
        ),
        pdf=f"{RESULTS}/figures/figure_7_1.pdf",
    log:
        f"{LOGS}/figures/figure_7_1.log",
    conda:
        "../envs/plotting.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        **figure_settings(),
        emotions=config["labels"]["emotions"],
    script:
        "../scripts/figure_7_1.py"


rule figure_7_2:
    input:
        aggregated=f"{RESULTS}/labels/aggregated.csv",
        code=package_code("labels/figures.py"),
    output:
        png=report(
            f"{RESULTS}/figures/figure_7_2.png",
            caption="../report/figure_7_2.rst",
            category="Labels",
        ),
        pdf=f"{RESULTS}/figures/figure_7_2.pdf",
    log:
        f"{LOGS}/figures/figure_7_2.log",
    conda:
        "../envs/plotting.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        **figure_settings(),
        emotions=config["labels"]["emotions"],
        min_score=config["labels"]["emotion_min_score"],
        min_gap=config["labels"]["emotion_min_gap"],
        score_range=config["labels"]["score_range"],
    script:
        "../scripts/figure_7_2.py"


rule figures_4_2_4_3:
    input:
        manifest=f"{RESULTS}/working/manifest.csv",
        code=package_code("prepare/figures.py"),
    output:
        fig_4_2_png=report(
            f"{RESULTS}/figures/figure_4_2.png",
            caption="../report/figure_4_2.rst",
            category="Data",
        ),
        fig_4_2_pdf=f"{RESULTS}/figures/figure_4_2.pdf",
        fig_4_3_png=report(
            f"{RESULTS}/figures/figure_4_3.png",
            caption="../report/figure_4_3.rst",
            category="Data",
        ),
        fig_4_3_pdf=f"{RESULTS}/figures/figure_4_3.pdf",
    log:
        f"{LOGS}/figures/figures_4_2_4_3.log",
    benchmark:
        f"{BENCH}/figures/figures_4_2_4_3.tsv"
    conda:
        "../envs/plotting.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        **figure_settings(),
        seed=config["seed"],
    script:
        "../scripts/figures_4_2_4_3.py"
