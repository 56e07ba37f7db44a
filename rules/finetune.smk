# Fine-tuning (book Sections 4, 7.5-7.8): tensor stores, one job per (task, setting, seed),
# grid_runs.csv, Table 7.2, Figures 7.4/7.5, confusion matrices, error contact sheets.

FINETUNE = config["finetune"]
FINETUNE_DIR = f"{RESULTS}/finetune"
FINETUNE_RUN = f"{FINETUNE_DIR}/{{task}}/{{setting}}/seed{{seed}}"
check_finetune_config(config, TASKS)


if finetune_uses_imagenet():

    rule fetch_weights:
        output:
            finetune_weights_file()[0],
        log:
            f"{LOGS}/finetune/fetch_weights.log",
        localrule: True
        conda:
            "../envs/training.yaml"
        threads: 1
        resources:
            mem_mb=2000,
            runtime=30,
        params:
            backbone=FINETUNE["backbone"],
            weights=FINETUNE["weights"],
            cache=weights_cache_folder,
        script:
            "../scripts/fetch_weights.py"


rule finetune_store:
    input:
        split=rules.splits.output.csv,
    output:
        store=f"{FINETUNE_DIR}/{{task}}/store.pt",
    log:
        f"{LOGS}/finetune/{{task}}/store.log",
    benchmark:
        f"{BENCH}/finetune/{{task}}/store.tsv"
    conda:
        "../envs/training.yaml"
    threads: FINETUNE["store_threads"]
    resources:
        mem_mb=store_mem_mb,
        runtime=30,
    params:
        **store_settings(),
        method_version=STORE_VERSION,
    script:
        "../scripts/finetune_store.py"


rule finetune_run:
    input:
        store=rules.finetune_store.output.store,
        weights=finetune_weights_file(),
    output:
        epochs=f"{FINETUNE_RUN}/epochs.csv",
        model=f"{FINETUNE_RUN}/model.pt",
        predictions=f"{FINETUNE_RUN}/predictions.csv",
        summary=f"{FINETUNE_RUN}/summary.json",
    log:
        f"{LOGS}/finetune/{{task}}/{{setting}}/seed{{seed}}.log",
    benchmark:
        f"{BENCH}/finetune/{{task}}/{{setting}}/seed{{seed}}.tsv"
    conda:
        "../envs/training.yaml"
    threads: FINETUNE["threads"]
    resources:
        **finetune_gpu_resources(),
        mem_mb=finetune_run_mem_mb,
        runtime=FINETUNE["runtime"],
    params:
        options=finetune_train_options(),
    script:
        "../scripts/finetune_run.py"


# One table of runs per task, so that what reads a task's runs (its predictions, confusion
# matrix, error sheets) reruns only when that task's runs change; grid_runs.csv joins them.
rule finetune_task_runs:
    input:
        summaries=finetune_task_summaries,
        code=package_code("finetune/reporting.py", "finetune/tables.py"),
    output:
        csv=f"{FINETUNE_DIR}/{{task}}/runs.csv",
    log:
        f"{LOGS}/finetune/{{task}}/runs.log",
    conda:
        "../envs/plotting.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../scripts/finetune_task_runs.py"


rule finetune_grid_runs:
    input:
        tasks=finetune_task_run_tables(),
        code=package_code("finetune/reporting.py", "finetune/tables.py"),
    output:
        csv=f"{RESULTS}/tables/grid_runs.csv",
    log:
        f"{LOGS}/finetune/grid_runs.log",
    conda:
        "../envs/plotting.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../scripts/finetune_grid_runs.py"


rule finetune_table_7_2:
    input:
        runs=rules.finetune_grid_runs.output.csv,
        code=package_code("finetune/reporting.py", "finetune/tables.py"),
    output:
        csv=report(
            f"{RESULTS}/tables/table_7_2.csv",
            caption="../report/table_7_2.rst",
            category="Fine-tuning",
        ),
        md=f"{RESULTS}/tables/table_7_2.md",
    log:
        f"{LOGS}/finetune/table_7_2.log",
    conda:
        "../envs/plotting.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        settings_by_task={task: finetune_grid_ids() for task in finetune_task_list()},
    script:
        "../scripts/finetune_table_7_2.py"


if finetune_study_task():

    rule finetune_curves:
        input:
            epochs=finetune_study_epochs(),
            code=package_code("finetune/reporting.py", "finetune/figures.py"),
        output:
            **figure_outputs("figure_7_4", "Fine-tuning", key="loss"),
            **figure_outputs("figure_7_5", "Fine-tuning", key="accuracy"),
        log:
            f"{LOGS}/finetune/figures_7_4_7_5.log",
        conda:
            "../envs/plotting.yaml"
        threads: 1
        resources:
            mem_mb=2000,
            runtime=10,
        params:
            **figure_settings(),
            task=finetune_study_task(),
            loss_stem=output_stem("loss_png"),
            accuracy_stem=output_stem("accuracy_png"),
        script:
            "../scripts/finetune_curves.py"


rule finetune_confusion:
    input:
        runs=rules.finetune_task_runs.output.csv,
        predictions=finetune_task_predictions,
        code=package_code(
            "finetune/reporting.py", "finetune/figures.py", "finetune/tables.py"
        ),
    output:
        **figure_outputs(
            "confusion_{task}",
            "Fine-tuning",
            caption="confusion",
            subcategory="{task}",
        ),
        per_class=report(
            f"{RESULTS}/tables/per_class_{{task}}.csv",
            caption="../report/per_class.rst",
            category="Fine-tuning",
            subcategory="{task}",
        ),
    log:
        f"{LOGS}/finetune/{{task}}/confusion.log",
    conda:
        "../envs/plotting.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        **figure_settings(),
        settings=finetune_grid_ids(),
        stem=output_stem("png"),
    script:
        "../scripts/finetune_confusion.py"


rule finetune_errors:
    input:
        runs=rules.finetune_task_runs.output.csv,
        predictions=finetune_task_predictions,
        code=package_code(
            "finetune/reporting.py", "finetune/figures.py", "finetune/tables.py"
        ),
    output:
        **figure_outputs(
            "errors_{task}", "Fine-tuning", caption="errors", subcategory="{task}"
        ),
    log:
        f"{LOGS}/finetune/{{task}}/errors.log",
    conda:
        "../envs/plotting.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        **figure_settings(),
        settings=finetune_grid_ids(),
        stem=output_stem("png"),
    script:
        "../scripts/finetune_errors.py"


rule finetune_baseline:
    input:
        table=rules.finetune_table_7_2.output.csv,
        code=package_code("finetune/reporting.py", "finetune/figures.py"),
    output:
        **figure_outputs("tasks_vs_baseline", "Fine-tuning"),
    log:
        f"{LOGS}/finetune/tasks_vs_baseline.log",
    conda:
        "../envs/plotting.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        **figure_settings(),
        stem=output_stem("png"),
    script:
        "../scripts/finetune_baseline.py"
