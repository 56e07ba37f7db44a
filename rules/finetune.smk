# Fine-tuning (book Sections 4, 7.5-7.8): tensor stores, one job per (task, setting, seed),
# grid_runs.csv, Table 7.2, Figures 7.4/7.5, confusion matrices, error contact sheets.

from images_as_data.finetune.grid import (
    SETTING_PATTERN,
    check_finetune_config,
    finetune_tasks,
    grid_settings,
    study_task,
    task_setting_ids,
)

FINETUNE = config["finetune"]
FINETUNE_DIR = f"{RESULTS}/finetune"
FINETUNE_RUN = f"{FINETUNE_DIR}/{{task}}/{{setting}}/seed{{seed}}"
check_finetune_config(config, TASKS)


wildcard_constraints:
    setting=SETTING_PATTERN,
    seed=r"\d+",


def finetune_task_list():
    return finetune_tasks(config, TASKS)


def finetune_study_task():
    return study_task(config, TASKS)


def finetune_grid_ids():
    """The settings Table 7.2 chooses from (the main grid), the same for every task."""
    return [setting.id for setting in grid_settings(FINETUNE["grid"])]


def finetune_run_files(task, name, settings=None):
    """One file (epochs.csv, summary.json, ...) of every run of a task, over settings and seeds."""
    return expand(
        f"{FINETUNE_DIR}/{task}/{{setting}}/seed{{seed}}/{name}",
        setting=settings or task_setting_ids(config, TASKS, task),
        seed=FINETUNE["seeds"],
    )


def finetune_all_summaries():
    return [path for task in finetune_task_list() for path in finetune_run_files(task, "summary.json")]


def finetune_task_predictions(wildcards):
    """The held-out predictions of a task's main-grid runs (the chosen one is read)."""
    return finetune_run_files(wildcards.task, "predictions.csv", finetune_grid_ids())


def finetune_study_epochs():
    study = finetune_study_task()
    ids = [setting.id for setting in grid_settings(FINETUNE["study"])]
    return finetune_run_files(study, "epochs.csv", ids)


def finetune_uses_imagenet():
    return FINETUNE["weights"] == "imagenet" or FINETUNE["weights"].startswith("imagenet:")


def finetune_weights_file():
    """The file a run starts from: the cached ImageNet weights, a user's file, or nothing."""
    if finetune_uses_imagenet():
        from images_as_data.finetune.model import cached_weights_path

        return [str(cached_weights_path(FINETUNE["backbone"], FINETUNE["weights_cache"], FINETUNE["weights"]))]
    if FINETUNE["weights"] == "none":
        return []
    return [FINETUNE["weights"]]


def finetune_train_options():
    """The finetune keys that change a run's result (resources and grids are not among them)."""
    keys = ["backbone", "weights", "weights_cache", "crop_size", "epochs", "step_size", "gamma"]
    keys += ["eval_batch", "device", "amp", "channels_last", "deterministic"]
    return {key: FINETUNE[key] for key in keys}


def finetune_gpu_resources():
    """When the config asks for CUDA: gpu=1 and cpus_per_gpu (SLURM gives each job a GPU), and
    gpu_share, a percentage of one GPU, so that a local run with `--resources gpu_share=100`
    (per GPU) packs finetune.runs_per_gpu jobs onto each GPU."""
    if not FINETUNE["gpu"]:
        return {}
    share = -(-100 // FINETUNE["runs_per_gpu"])
    return {"gpu": 1, "cpus_per_gpu": FINETUNE["threads"], "gpu_share": share}


def finetune_figure_params():
    return {"dpi": config["figures"]["dpi"], "style": config["figures"]["style"]}


def finetune_targets():
    """Every final output of fine-tuning and labelling, for `rule all`."""
    tasks = finetune_task_list()
    figures = [f"{RESULTS}/figures/tasks_vs_baseline"]
    figures += expand(f"{RESULTS}/figures/{{kind}}_{{task}}", kind=["confusion", "errors"], task=tasks)
    if finetune_study_task():
        figures += [f"{RESULTS}/figures/figure_7_4", f"{RESULTS}/figures/figure_7_5"]
    return (
        [f"{RESULTS}/tables/grid_runs.csv"]
        + expand(f"{RESULTS}/tables/table_7_2.{{ext}}", ext=["csv", "md"])
        + expand(f"{RESULTS}/tables/per_class_{{task}}.csv", task=tasks)
        + expand("{stem}.{ext}", stem=figures, ext=["png", "pdf"])
        + predict_targets()
    )


if finetune_uses_imagenet():

    rule fetch_weights:
        localrule: True
        output:
            finetune_weights_file()[0],
        params:
            backbone=FINETUNE["backbone"],
            weights=FINETUNE["weights"],
            cache=FINETUNE["weights_cache"],
        log:
            f"{LOGS}/finetune/fetch_weights.log",
        threads: 1
        resources:
            mem_mb=2000,
            runtime=30,
        conda:
            "../envs/training.yaml"
        script:
            "../scripts/fetch_weights.py"


rule finetune_store:
    input:
        split=f"{RESULTS}/splits/{{task}}.csv",
    output:
        store=f"{FINETUNE_DIR}/{{task}}/store.pt",
    params:
        size=FINETUNE["store_size"],
    log:
        f"{LOGS}/finetune/{{task}}/store.log",
    benchmark:
        f"{BENCH}/finetune/{{task}}/store.tsv"
    threads: FINETUNE["store_threads"]
    resources:
        mem_mb=FINETUNE["mem_mb"],
        runtime=30,
    conda:
        "../envs/training.yaml"
    script:
        "../scripts/finetune_store.py"


rule finetune_run:
    input:
        store=f"{FINETUNE_DIR}/{{task}}/store.pt",
        weights=finetune_weights_file(),
    output:
        epochs=f"{FINETUNE_RUN}/epochs.csv",
        model=f"{FINETUNE_RUN}/model.pt",
        predictions=f"{FINETUNE_RUN}/predictions.csv",
        summary=f"{FINETUNE_RUN}/summary.json",
    params:
        options=finetune_train_options(),
    log:
        f"{LOGS}/finetune/{{task}}/{{setting}}/seed{{seed}}.log",
    benchmark:
        f"{BENCH}/finetune/{{task}}/{{setting}}/seed{{seed}}.tsv"
    threads: FINETUNE["threads"]
    resources:
        mem_mb=FINETUNE["mem_mb"],
        runtime=FINETUNE["runtime"],
        **finetune_gpu_resources(),
    conda:
        "../envs/training.yaml"
    script:
        "../scripts/finetune_run.py"


rule finetune_grid_runs:
    input:
        summaries=finetune_all_summaries(),
    output:
        csv=f"{RESULTS}/tables/grid_runs.csv",
    log:
        f"{LOGS}/finetune/grid_runs.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/plotting.yaml"
    script:
        "../scripts/finetune_grid_runs.py"


rule finetune_table_7_2:
    input:
        runs=f"{RESULTS}/tables/grid_runs.csv",
    output:
        csv=report(
            f"{RESULTS}/tables/table_7_2.csv",
            caption="../report/table_7_2.rst",
            category="Fine-tuning",
        ),
        md=f"{RESULTS}/tables/table_7_2.md",
    params:
        settings_by_task={task: finetune_grid_ids() for task in finetune_task_list()},
    log:
        f"{LOGS}/finetune/table_7_2.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/plotting.yaml"
    script:
        "../scripts/finetune_table.py"


if finetune_study_task():

    rule finetune_curves:
        input:
            epochs=finetune_study_epochs(),
        output:
            loss=report(
                f"{RESULTS}/figures/figure_7_4.png",
                caption="../report/figure_7_4.rst",
                category="Fine-tuning",
            ),
            loss_pdf=f"{RESULTS}/figures/figure_7_4.pdf",
            accuracy=report(
                f"{RESULTS}/figures/figure_7_5.png",
                caption="../report/figure_7_5.rst",
                category="Fine-tuning",
            ),
            accuracy_pdf=f"{RESULTS}/figures/figure_7_5.pdf",
        params:
            task=finetune_study_task(),
            loss_stem=f"{RESULTS}/figures/figure_7_4",
            accuracy_stem=f"{RESULTS}/figures/figure_7_5",
            **finetune_figure_params(),
        log:
            f"{LOGS}/finetune/figures_7_4_7_5.log",
        threads: 1
        resources:
            mem_mb=2000,
            runtime=10,
        conda:
            "../envs/plotting.yaml"
        script:
            "../scripts/finetune_curves.py"


rule finetune_confusion:
    input:
        runs=f"{RESULTS}/tables/grid_runs.csv",
        predictions=finetune_task_predictions,
    output:
        png=report(
            f"{RESULTS}/figures/confusion_{{task}}.png",
            caption="../report/confusion.rst",
            category="Fine-tuning",
            subcategory="{task}",
        ),
        pdf=f"{RESULTS}/figures/confusion_{{task}}.pdf",
        per_class=report(
            f"{RESULTS}/tables/per_class_{{task}}.csv",
            caption="../report/per_class.rst",
            category="Fine-tuning",
            subcategory="{task}",
        ),
    params:
        settings=finetune_grid_ids(),
        stem=f"{RESULTS}/figures/confusion_{{task}}",
        **finetune_figure_params(),
    log:
        f"{LOGS}/finetune/{{task}}/confusion.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../envs/plotting.yaml"
    script:
        "../scripts/finetune_confusion.py"


rule finetune_errors:
    input:
        runs=f"{RESULTS}/tables/grid_runs.csv",
        predictions=finetune_task_predictions,
    output:
        png=report(
            f"{RESULTS}/figures/errors_{{task}}.png",
            caption="../report/errors.rst",
            category="Fine-tuning",
            subcategory="{task}",
        ),
        pdf=f"{RESULTS}/figures/errors_{{task}}.pdf",
    params:
        settings=finetune_grid_ids(),
        stem=f"{RESULTS}/figures/errors_{{task}}",
        **finetune_figure_params(),
    log:
        f"{LOGS}/finetune/{{task}}/errors.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../envs/plotting.yaml"
    script:
        "../scripts/finetune_errors.py"


rule finetune_baseline:
    input:
        table=f"{RESULTS}/tables/table_7_2.csv",
    output:
        png=report(
            f"{RESULTS}/figures/tasks_vs_baseline.png",
            caption="../report/tasks_vs_baseline.rst",
            category="Fine-tuning",
        ),
        pdf=f"{RESULTS}/figures/tasks_vs_baseline.pdf",
    params:
        stem=f"{RESULTS}/figures/tasks_vs_baseline",
        **finetune_figure_params(),
    log:
        f"{LOGS}/finetune/tasks_vs_baseline.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/plotting.yaml"
    script:
        "../scripts/finetune_baseline.py"
