# Labels, splits, Table 7.1 and Figures 7.1, 7.2 (book Sections 5, 7.3, 7.4).


rule aggregate_annotations:
    input:
        annotations=annotations_csv(),
        # The sheet's content hash: a copy of an older sheet (older time stamp) still counts.
        sheet_snapshot=sheet_snapshot("sheet"),
        inventory=rules.inventory.output.inventory,
        clusters=rules.dedupe.output.clusters,
        manifest=rules.working_images.output.manifest,
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
        binary_columns=list(annotation_binary_columns()),
        column_keys=annotation_binary_columns(),
        emotions=config["labels"]["emotions"],
        score_range=config["labels"]["score_range"],
    script:
        "../scripts/aggregate_annotations.py"


# What one consumer of the sheet reads (a task's label column, the emotion scores, which images
# are annotated), aggregated as aggregate_annotations does, redone only when that part of the
# sheet changes (its snapshot) or the images do: editing one task's column reruns one task.
rule aggregate_annotations_for:
    input:
        # Ancient: the sheet's time changes with every edit; the snapshot says what changed.
        annotations=ancient(annotations_csv()),
        sheet_snapshot=sheet_snapshot("{consumer}"),
        inventory=rules.inventory.output.inventory,
        clusters=rules.dedupe.output.clusters,
        manifest=rules.working_images.output.manifest,
    output:
        aggregated=aggregated_for("{consumer}"),
    log:
        f"{LOGS}/labels/aggregate_annotations_{{consumer}}.log",
    conda:
        "../envs/imaging.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        reads=lambda wildcards: sheet_reads(wildcards.consumer),
        score_range=config["labels"]["score_range"],
    script:
        "../scripts/aggregate_annotations_for.py"


rule task_labels:
    input:
        unpack(task_label_inputs),
        unpack(task_folder_inputs),
    output:
        labels=f"{RESULTS}/labels/{{task}}.csv",
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
        labels=rules.task_labels.output.labels,
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
    params:
        presplit_folders=presplit_split_folders(),
    script:
        "../scripts/table_7_1.py"


rule figure_7_1:
    input:
        aggregated=aggregated_for("emotions"),
        code=package_code("labels/figures.py"),
    output:
        **figure_outputs("figure_7_1", "Labels"),
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
        aggregated=aggregated_for("emotions"),
        code=package_code("labels/figures.py"),
    output:
        **figure_outputs("figure_7_2", "Labels"),
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
