# Labelling new images with the chosen model of each task (book Section 7.7).

PREDICT = config["predict"]


if predict_folder():

    # Written when missing; refreshed at start-up (see snapshot_images).
    rule snapshot_predict_images:
        input:
            images=ancient(predict_folder()),
        output:
            listing=predict_snapshot(),
        log:
            f"{LOGS}/snapshots/predict_images.log",
        localrule: True
        conda:
            "../envs/imaging.yaml"
        threads: 1
        resources:
            mem_mb=1000,
            runtime=30,
        params:
            outside="follow",
        script:
            "../scripts/snapshot_predict_images.py"


rule predict_list_images:
    input:
        **predict_image_sources(),
    output:
        csv=f"{RESULTS}/predictions/new_images.csv",
    log:
        f"{LOGS}/predict/list_images.log",
    conda:
        "../envs/training.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        source=PREDICT["images"],
    script:
        "../scripts/predict_list_images.py"


# The images to label, decoded once for every task's model (as the tasks' stores are).
rule predict_store:
    input:
        images=rules.predict_list_images.output.csv,
    output:
        store=f"{RESULTS}/predictions/new_images.pt",
    log:
        f"{LOGS}/predict/store.log",
    benchmark:
        f"{BENCH}/predict/store.tsv"
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
        "../scripts/predict_store.py"


rule predict_new_images:
    input:
        store=rules.predict_store.output.store,
        runs=rules.finetune_task_runs.output.csv,
        models=predict_models,
    output:
        csv=f"{RESULTS}/predictions/{{task}}.csv",
    log:
        f"{LOGS}/predict/{{task}}.log",
    benchmark:
        f"{BENCH}/predict/{{task}}.tsv"
    conda:
        "../envs/training.yaml"
    threads: PREDICT["threads"]
    resources:
        **({"gpu": 1} if PREDICT["device"].startswith("cuda") else {}),
        mem_mb=predict_mem_mb,
        runtime=30,
    params:
        settings=finetune_grid_ids(),
        batch=PREDICT["batch"],
        device=PREDICT["device"],
    script:
        "../scripts/predict_new_images.py"
