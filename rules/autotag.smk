# Autotagger comparison (book Section 6): Amazon Rekognition, Google Cloud Vision, Azure AI
# Vision and a local zero-shot CLIP tagger. Sample, fetch through the response cache, tidy,
# Tables 6.1 (per service) and 6.2, threshold sweep, Figures 6.3 and 6.4, fine-tuned side by side.

AUTOTAG = config["autotag"]
AUTOTAG_DIR = f"{RESULTS}/autotag"

if AUTOTAG["enabled"]:
    check_autotag_config(config)


# The fetch rules talk to the network: they run on the machine that runs Snakemake, never
# on a cluster node. The Rekognition estimate reads the response cache kept there. (CLIP
# runs locally without a network, so it may go to a GPU node; its weights are fetched by a
# localrule.)
localrules:
    autotag_estimate,
    autotag_fetch,
    autotag_fetch_service,


rule autotag_sample:
    input:
        inventory=rules.inventory.output.inventory,
        clusters=rules.dedupe.output.clusters,
        aggregated=rules.aggregate_annotations.output.aggregated,
        metadata=metadata_csv(),
    output:
        sample=f"{AUTOTAG_DIR}/sample.csv",
    log:
        f"{LOGS}/autotag/sample.log",
    conda:
        "../envs/aws.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        mode=AUTOTAG["sample"],
        n_most_shared=AUTOTAG["n_most_shared"],
    script:
        "../scripts/autotag_sample.py"


# Its own rule, so that the estimate survives a fetch stopped by autotag.max_calls
# (Snakemake deletes a failed job's outputs).
rule autotag_estimate:
    input:
        sample=rules.autotag_sample.output.sample,
    output:
        estimate=f"{AUTOTAG_DIR}/estimate.csv",
    log:
        f"{LOGS}/autotag/estimate.log",
    conda:
        "../envs/aws.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        config=fetch_config(config),
    script:
        "../scripts/autotag_estimate.py"


rule autotag_fetch:
    input:
        sample=rules.autotag_sample.output.sample,
        estimate=rules.autotag_estimate.output.estimate,
    output:
        responses=f"{AUTOTAG_DIR}/responses.jsonl",
    log:
        f"{LOGS}/autotag/fetch.log",
    benchmark:
        f"{BENCH}/autotag/fetch.tsv"
    conda:
        "../envs/aws.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=240,
    params:
        config=fetch_config(config),
    script:
        "../scripts/autotag_fetch.py"


rule autotag_fetch_service:
    input:
        sample=rules.autotag_sample.output.sample,
    output:
        estimate=f"{AUTOTAG_DIR}/{{cloud}}/estimate.csv",
        responses=f"{AUTOTAG_DIR}/{{cloud}}/responses.jsonl",
    log:
        f"{LOGS}/autotag/{{cloud}}/fetch.log",
    benchmark:
        f"{BENCH}/autotag/{{cloud}}/fetch.tsv"
    conda:
        "../envs/taggers.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=240,
    params:
        config=lambda wildcards: fetch_config(config, wildcards.cloud),
    script:
        "../scripts/autotag_fetch_service.py"


if autotag_clip_fetches_weights():

    rule autotag_clip_weights:
        output:
            autotag_clip_checkpoint()[0],
        log:
            f"{LOGS}/autotag/clip/weights.log",
        localrule: True
        conda:
            "../envs/taggers.yaml"
        threads: 1
        resources:
            mem_mb=2000,
            runtime=60,
        params:
            clip=AUTOTAG["clip"],
        script:
            "../scripts/autotag_clip_weights.py"


rule autotag_clip:
    input:
        sample=rules.autotag_sample.output.sample,
        weights=autotag_clip_checkpoint(),
    output:
        estimate=f"{AUTOTAG_DIR}/clip/estimate.csv",
        responses=f"{AUTOTAG_DIR}/clip/responses.jsonl",
    log:
        f"{LOGS}/autotag/clip/score.log",
    benchmark:
        f"{BENCH}/autotag/clip/score.tsv"
    conda:
        "../envs/taggers.yaml"
    threads: AUTOTAG["clip"]["threads"]
    resources:
        **autotag_clip_gpu_resources(),
        mem_mb=6000,
        runtime=240,
    params:
        config=fetch_config(config, "clip"),
    script:
        "../scripts/autotag_clip.py"


rule autotag_tidy:
    input:
        responses=autotag_responses(),
    output:
        labels=f"{AUTOTAG_DIR}/labels.csv",
        celebrities=f"{AUTOTAG_DIR}/celebrities.csv",
        requests=f"{AUTOTAG_DIR}/requests.csv",
    log:
        f"{LOGS}/autotag/tidy.log",
    conda:
        "../envs/aws.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    script:
        "../scripts/autotag_tidy.py"


rule autotag_table:
    input:
        sample=rules.autotag_sample.output.sample,
        labels=rules.autotag_tidy.output.labels,
        celebrities=rules.autotag_tidy.output.celebrities,
        requests=rules.autotag_tidy.output.requests,
        code=package_code("autotag/compare.py"),
    output:
        csv=report(
            f"{RESULTS}/tables/{{autotag_table}}.csv",
            caption="../report/autotag_table.rst",
            category="Autotagger",
        ),
        md=f"{RESULTS}/tables/{{autotag_table}}.md",
    log:
        f"{LOGS}/autotag/{{autotag_table}}.log",
    conda:
        "../envs/plotting.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        autotag=autotag_compare_settings(),
    script:
        "../scripts/autotag_table.py"


rule autotag_service_table:
    input:
        sample=rules.autotag_sample.output.sample,
        labels=rules.autotag_tidy.output.labels,
        celebrities=rules.autotag_tidy.output.celebrities,
        requests=rules.autotag_tidy.output.requests,
        code=package_code("autotag/compare.py"),
    output:
        csv=report(
            f"{RESULTS}/tables/table_6_1_{{tagger}}.csv",
            caption="../report/autotag_service_table.rst",
            category="Autotagger",
        ),
        md=f"{RESULTS}/tables/table_6_1_{{tagger}}.md",
    log:
        f"{LOGS}/autotag/table_6_1_{{tagger}}.log",
    conda:
        "../envs/plotting.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        autotag=autotag_compare_settings(),
    script:
        "../scripts/autotag_service_table.py"


rule autotag_threshold_sweep:
    input:
        sample=rules.autotag_sample.output.sample,
        labels=rules.autotag_tidy.output.labels,
        celebrities=rules.autotag_tidy.output.celebrities,
        requests=rules.autotag_tidy.output.requests,
        code=package_code("autotag/compare.py"),
    output:
        csv=report(
            f"{RESULTS}/tables/autotag_threshold_sweep.csv",
            caption="../report/autotag_threshold_sweep.rst",
            category="Autotagger",
        ),
    log:
        f"{LOGS}/autotag/threshold_sweep.log",
    conda:
        "../envs/plotting.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        autotag=autotag_compare_settings(),
    script:
        "../scripts/autotag_threshold_sweep.py"


rule autotag_pr_curve:
    input:
        sweep=rules.autotag_threshold_sweep.output.csv,
        code=package_code("autotag/figures.py"),
    output:
        **figure_outputs("autotag_pr_curve", "Autotagger"),
    log:
        f"{LOGS}/autotag/pr_curve.log",
    conda:
        "../envs/plotting.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        **figure_settings(),
        autotag=autotag_compare_settings(),
    script:
        "../scripts/autotag_pr_curve.py"


rule autotag_figure_6_3:
    input:
        labels=rules.autotag_tidy.output.labels,
        requests=rules.autotag_tidy.output.requests,
        sample=rules.autotag_sample.output.sample,
        code=package_code("autotag/figures.py"),
    output:
        **figure_outputs("figure_6_3", "Autotagger"),
    log:
        f"{LOGS}/autotag/figure_6_3.log",
    conda:
        "../envs/plotting.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        **figure_settings(),
        autotag=autotag_compare_settings(),
    script:
        "../scripts/autotag_figure_6_3.py"


rule autotag_figure_6_4:
    input:
        labels=rules.autotag_tidy.output.labels,
        requests=rules.autotag_tidy.output.requests,
        sample=rules.autotag_sample.output.sample,
        code=package_code("autotag/figures.py"),
    output:
        **figure_outputs("figure_6_4", "Autotagger"),
        csv=f"{RESULTS}/tables/figure_6_4.csv",
    log:
        f"{LOGS}/autotag/figure_6_4.log",
    conda:
        "../envs/plotting.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        **figure_settings(),
        autotag=autotag_compare_settings(),
    script:
        "../scripts/autotag_figure_6_4.py"


rule autotag_vs_finetuned:
    input:
        unpack(autotag_finetuned_inputs),
        sample=rules.autotag_sample.output.sample,
        labels=rules.autotag_tidy.output.labels,
        celebrities=rules.autotag_tidy.output.celebrities,
        requests=rules.autotag_tidy.output.requests,
        code=package_code("autotag/compare.py"),
    output:
        csv=report(
            f"{RESULTS}/tables/autotag_vs_finetuned.csv",
            caption="../report/autotag_vs_finetuned.rst",
            category="Autotagger",
        ),
    log:
        f"{LOGS}/autotag/vs_finetuned.log",
    conda:
        "../envs/plotting.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        autotag=autotag_compare_settings(),
    script:
        "../scripts/autotag_vs_finetuned.py"
