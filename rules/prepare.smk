# Preparing the corpus (book Sections 5, 6.1, 7): inventory of the raw files, duplicate
# clusters, and one upright RGB working image per cluster root.


rule inventory:
    input:
        images=raw_images(),
    output:
        inventory=f"{RESULTS}/inventory/inventory.csv",
    log:
        f"{LOGS}/prepare/inventory.log",
    benchmark:
        f"{BENCH}/prepare/inventory.tsv"
    conda:
        "../envs/imaging.yaml"
    threads: workflow.cores
    resources:
        mem_mb=parallel_mem_mb,
        runtime=60,
    params:
        rules=config["inventory"],
        progress_every=500,
    script:
        "../scripts/inventory.py"


rule dedupe:
    input:
        images=raw_images(),
        inventory=f"{RESULTS}/inventory/inventory.csv",
        metadata=metadata_csv(),
    output:
        clusters=f"{RESULTS}/dedupe/clusters.csv",
        hashes=f"{RESULTS}/dedupe/hashes.csv",
    log:
        f"{LOGS}/prepare/dedupe.log",
    benchmark:
        f"{BENCH}/prepare/dedupe.tsv"
    conda:
        "../envs/imaging.yaml"
    threads: workflow.cores
    resources:
        mem_mb=parallel_mem_mb,
        runtime=60,
    params:
        settings=config["dedupe"],
    script:
        "../scripts/dedupe.py"


rule working_images:
    input:
        images=raw_images(),
        inventory=f"{RESULTS}/inventory/inventory.csv",
        clusters=f"{RESULTS}/dedupe/clusters.csv",
    output:
        images=directory(f"{RESULTS}/working/images"),
        manifest=f"{RESULTS}/working/manifest.csv",
    log:
        f"{LOGS}/prepare/working_images.log",
    benchmark:
        f"{BENCH}/prepare/working_images.tsv"
    conda:
        "../envs/imaging.yaml"
    threads: workflow.cores
    resources:
        mem_mb=parallel_mem_mb,
        runtime=60,
    params:
        settings=config["working"],
    script:
        "../scripts/working_images.py"
