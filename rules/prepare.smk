# Preparing the corpus (book Sections 4.2, 5, 6.1, 7): snapshots of the data sources, inventory
# of the raw files, duplicate clusters, one upright RGB working image per cluster root
# ("resize"), and Figures 4.2/4.3.

# Every time Snakemake starts: rewrite the snapshots whose source changed (rules/common.smk).
refresh_snapshots()


# The snapshot rules run only when a snapshot is missing: when its source is made by this
# workflow (the demo) and did not exist when Snakemake started. Their inputs are `ancient`:
# the snapshot, refreshed at start-up, is what says whether the source changed.
rule snapshot_images:
    input:
        images=ancient(raw_images()),
    output:
        listing=images_snapshot(),
    log:
        f"{LOGS}/snapshots/images.log",
    localrule: True
    conda:
        "../envs/imaging.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    params:
        outside="exclude",
    script:
        "../scripts/snapshot_images.py"


rule snapshot_task_folders:
    input:
        unpack(task_folder_inputs),
    output:
        listing=folder_snapshot("{task}"),
    log:
        f"{LOGS}/snapshots/folders_{{task}}.log",
    localrule: True
    conda:
        "../envs/imaging.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    script:
        "../scripts/snapshot_task_folders.py"


rule snapshot_annotations:
    input:
        sheet=ancient(annotations_csv()),
    output:
        snapshot=sheet_snapshot("{snapshot}"),
    log:
        f"{LOGS}/snapshots/annotations_{{snapshot}}.log",
    localrule: True
    conda:
        "../envs/imaging.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        reads=sheet_snapshot_reads,
    script:
        "../scripts/snapshot_annotations.py"


# The inventory in shards (inventory.shards; on a cluster each runs as its own job): every
# file of a shard is read, hashed and decoded once, for the inventory's checks and for
# dedupe's analysis together. The files of a shard are chosen by a hash of their path.
scattergather:
    inventory=config["inventory"]["shards"],


rule inventory_shard:
    input:
        listing=rules.snapshot_images.output.listing,
        # Only so that a folder this workflow makes is made first (see snapshot_images).
        images=ancient(raw_images()),
    output:
        shard=f"{RESULTS}/inventory/shards/{{scatteritem}}.csv",
    log:
        f"{LOGS}/prepare/inventory_{{scatteritem}}.log",
    benchmark:
        f"{BENCH}/prepare/inventory_{{scatteritem}}.tsv"
    conda:
        "../envs/imaging.yaml"
    threads: workflow.cores
    resources:
        mem_mb=parallel_mem_mb,
        runtime=60,
    params:
        # Not an output (Snakemake deletes those before a rerun): rows of unchanged files.
        cache=lambda wildcards: f"{RESULTS}/inventory/.cache/{wildcards.scatteritem}.csv",
        rules=without_shards("inventory"),
        analysis=dedupe_analysis_settings(),
        # a new version of the analysis reruns the inventory, as a settings change does
        analysis_version=ANALYSIS_VERSION,
        progress_every=500,
    script:
        "../scripts/inventory_shard.py"


rule inventory:
    input:
        shards=gather.inventory(f"{RESULTS}/inventory/shards/{{scatteritem}}.csv"),
    output:
        inventory=f"{RESULTS}/inventory/inventory.csv",
        views=f"{RESULTS}/inventory/views.csv",
    log:
        f"{LOGS}/prepare/inventory.log",
    conda:
        "../envs/imaging.yaml"
    threads: 1
    resources:
        mem_mb=gather_mem_mb,
        runtime=30,
    script:
        "../scripts/inventory.py"


rule dedupe:
    input:
        inventory=rules.inventory.output.inventory,
        views=rules.inventory.output.views,
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
        mem_mb=dedupe_mem_mb,
        runtime=60,
    params:
        settings=config["dedupe"],
    script:
        "../scripts/dedupe.py"


rule dedupe_audit:
    input:
        # The raw images are reached through the inventory's paths; a folder input would
        # rerun this rule whenever the folder's own time stamp moves (see snapshot_images).
        inventory=rules.inventory.output.inventory,
        pairs=rules.dedupe.output.pairs,
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


# Working images in shards (working.shards), each its own job on a cluster; the gather job
# links them into one folder.
scattergather:
    working_images=config["working"]["shards"],


rule working_images_shard:
    input:
        inventory=rules.inventory.output.inventory,
        clusters=rules.dedupe.output.clusters,
    output:
        images=temp(directory(f"{RESULTS}/working/shards/{{scatteritem}}")),
        manifest=temp(f"{RESULTS}/working/shards/{{scatteritem}}.csv"),
    log:
        f"{LOGS}/prepare/working_images_{{scatteritem}}.log",
    benchmark:
        f"{BENCH}/prepare/working_images_{{scatteritem}}.tsv"
    conda:
        "../envs/imaging.yaml"
    threads: workflow.cores
    resources:
        mem_mb=parallel_mem_mb,
        runtime=60,
    params:
        settings=without_shards("working"),
        # a new version of the method remakes the working images, as a settings change does
        method_version=WORKING_IMAGES_VERSION,
    script:
        "../scripts/working_images_shard.py"


rule working_images:
    input:
        images=gather.working_images(f"{RESULTS}/working/shards/{{scatteritem}}"),
        manifests=gather.working_images(f"{RESULTS}/working/shards/{{scatteritem}}.csv"),
    output:
        images=directory(f"{RESULTS}/working/images"),
        manifest=f"{RESULTS}/working/manifest.csv",
    log:
        f"{LOGS}/prepare/working_images.log",
    conda:
        "../envs/imaging.yaml"
    threads: 1
    resources:
        mem_mb=gather_mem_mb,
        runtime=30,
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
