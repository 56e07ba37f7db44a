# Labelling new images with the chosen model of each task (book Section 7.7).

PREDICT = config["predict"]


def predict_task_list():
    return PREDICT.get("tasks") or finetune_task_list()


def predict_targets():
    return expand(f"{RESULTS}/predictions/{{task}}.csv", task=predict_task_list())


def predict_image_sources():
    """Default: the working manifest and the annotated clusters; else the configured folder or list."""
    if PREDICT["images"] is None:
        return {
            "manifest": f"{RESULTS}/working/manifest.csv",
            "aggregated": f"{RESULTS}/labels/aggregated.csv",
        }
    return {"source": PREDICT["images"]}


def predict_models(wildcards):
    """Weights and summaries of the task's main-grid runs (predict_new_images uses the chosen one)."""
    ids = finetune_grid_ids()
    return finetune_run_files(wildcards.task, "model.pt", ids) + finetune_run_files(
        wildcards.task, "summary.json", ids
    )


rule predict_list_images:
    input:
        **predict_image_sources(),
    output:
        csv=f"{RESULTS}/predictions/new_images.csv",
    params:
        source=PREDICT["images"],
    log:
        f"{LOGS}/predict/list_images.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/training.yaml"
    script:
        "../scripts/predict_list.py"


rule predict_new_images:
    input:
        images=f"{RESULTS}/predictions/new_images.csv",
        runs=f"{RESULTS}/tables/grid_runs.csv",
        models=predict_models,
    output:
        csv=f"{RESULTS}/predictions/{{task}}.csv",
    params:
        settings=finetune_grid_ids(),
        batch=PREDICT["batch"],
        device=PREDICT["device"],
    log:
        f"{LOGS}/predict/{{task}}.log",
    benchmark:
        f"{BENCH}/predict/{{task}}.tsv"
    threads: PREDICT["threads"]
    resources:
        mem_mb=PREDICT["mem_mb"],
        runtime=30,
        **({"gpu": 1} if PREDICT["device"].startswith("cuda") else {}),
    conda:
        "../envs/training.yaml"
    script:
        "../scripts/predict.py"
