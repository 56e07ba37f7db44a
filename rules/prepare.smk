# Preparing the corpus (book Sections 4.2, 5, 6.1, 7): inventory of the raw files, duplicate
# clusters, one upright RGB working image per cluster root ("resize"), and Figures 4.2/4.3.


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
        inventory=rules.inventory.output.inventory,
        metadata=metadata_csv(),
    output:
        clusters=f"{RESULTS}/dedupe/clusters.csv",
        hashes=f"{RESULTS}/dedupe/hashes.csv",
        pairs=f"{RESULTS}/dedupe/pairs.csv",
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


rule dedupe_audit:
    input:
        images=raw_images(),
        inventory=f"{RESULTS}/inventory/inventory.csv",
        pairs=f"{RESULTS}/dedupe/pairs.csv",
        code=package_code("prepare/dedupe_figure.py"),
    output:
        png=report(
            f"{RESULTS}/figures/dedupe_audit.png",
            caption="../report/dedupe_audit.rst",
            category="Data",
        ),
        pdf=f"{RESULTS}/figures/dedupe_audit.pdf",
    log:
        f"{LOGS}/figures/dedupe_audit.log",
    conda:
        "../envs/plotting.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        **figure_settings(),
        seed=config["seed"],
    script:
        "../scripts/dedupe_audit.py"


rule working_images:
    input:
        images=raw_images(),
        inventory=rules.inventory.output.inventory,
        clusters=rules.dedupe.output.clusters,
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


rule figures_4_2_4_3:
    input:
        manifest=rules.working_images.output.manifest,
        code=package_code("prepare/figures.py"),
    output:
        **figure_outputs("figure_4_2", "Data", key="fig_4_2"),
        **figure_outputs("figure_4_3", "Data", key="fig_4_3"),
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
