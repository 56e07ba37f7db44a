# Shared names, wildcard constraints and every input/target function of the stages, grouped
# by stage (snakemake --lint wants functions apart from rules). The stage files hold rules.

import os
from pathlib import Path

from images_as_data.autotag.settings import (
    check_autotag_config,
    clip_checkpoint_path,
    enabled_services,
    fetch_config,
)
from images_as_data.common.atomic import write_if_changed
from images_as_data.common.config import validate_tasks
from images_as_data.common.listing import list_tree, listing_csv, listing_csv_of_folders
from images_as_data.common.resources import (
    store_build_mem_mb,
    store_reader_mem_mb,
    table_rows,
)
from images_as_data.finetune import STORE_VERSION
from images_as_data.finetune.grid import (
    SETTING_PATTERN,
    check_finetune_config,
    finetune_tasks,
    grid_settings,
    study_task,
    task_setting_ids,
)
from images_as_data.labels.annotations import sheet_snapshots, snapshot_kind
from images_as_data.labels.tasks import presplit_folders
from images_as_data.prepare import (
    ANALYSIS_VERSION,
    DEDUPE_ANALYSIS_KEYS,
    WORKING_IMAGES_VERSION,
)
from images_as_data.replication.report import REPORT_FILES, report_modules

TASKS = validate_tasks(config)
RESULTS = "results"
LOGS = f"{RESULTS}/logs"
BENCH = f"{RESULTS}/benchmarks"
SNAPSHOTS = f"{RESULTS}/snapshots"
# This file's folder is rules/ of the repository, also when another Snakefile includes it.
PACKAGE_DIR = Path(str(workflow.current_basedir)).parent / "images_as_data"


# Every wildcard of the workflow, constrained in one place.
wildcard_constraints:
    task="|".join(TASKS) if TASKS else "[A-Za-z][A-Za-z0-9_]*",
    setting=SETTING_PATTERN,
    seed=r"\d+",
    autotag_table="table_6_1|table_6_2",
    cloud="google|azure",
    tagger="google|azure|clip",
    table="[A-Za-z0-9_]+",
    snapshot="sheet|annotated|emotions|labels_[A-Za-z][A-Za-z0-9_]*",
    consumer="annotated|emotions|labels_[A-Za-z][A-Za-z0-9_]*",
    scatteritem=r"\d+-of-\d+",


def package_code(*modules):
    """Modules of images_as_data/ that draw a figure or write a table, listed as inputs so
    that editing one (its content, not only its time stamp) reruns the rules that list it and
    no others. Paths are relative to the working directory, which need not be the workflow's.
    """
    return [os.path.relpath(PACKAGE_DIR / module) for module in modules]


def figure_outputs(stem, category, caption=None, key="", subcategory=None):
    """Output entries of one figure: `<stem>.png`, shown with its caption in the HTML report
    (`snakemake --report`), and `<stem>.pdf`. The caption is report/<caption or stem>.rst. Keys
    are `png`/`pdf`, or `<key>_png`/`<key>_pdf` for rules that draw several figures."""
    prefix = f"{key}_" if key else ""
    png = report(
        f"{RESULTS}/figures/{stem}.png",
        caption=f"../report/{caption or stem}.rst",
        category=category,
        **({"subcategory": subcategory} if subcategory else {}),
    )
    return {f"{prefix}png": png, f"{prefix}pdf": f"{RESULTS}/figures/{stem}.pdf"}


def figure_settings():
    """Figure styling; figure rules take it as params, so changing it reruns only them."""
    return {"dpi": config["figures"]["dpi"], "style": config["figures"]["style"]}


# --- demo ----------------------------------------------------------------------------------


def demo_outputs():
    return {
        "raw": f"{RESULTS}/demo/raw",
        "annotations": f"{RESULTS}/demo/annotations.csv",
        "metadata": f"{RESULTS}/demo/metadata.csv",
        "planted": f"{RESULTS}/demo/planted.csv",
        "leaders": f"{RESULTS}/demo/world_leaders",
        "legend_positive": f"{RESULTS}/demo/legend_external/positive",
        "legend_negative": f"{RESULTS}/demo/legend_external/negative",
    }


DEMO = demo_outputs()


def generated_sources():
    """Data folders and files that this workflow makes itself (the demo corpus), if any."""
    return list(DEMO.values()) if config["demo"]["generate"] else []


# --- snapshots: the data sources as files whose time stamp moves only when they change ------
# Snakemake sees a folder's own time stamp only (not what changes in sub-folders) and reruns
# everything downstream of a changed file. So the workflow keeps, under results/snapshots/,
# a listing of every image folder (path, size, modification time) and, for each consumer of
# the annotation sheet, a digest of what it reads. They are refreshed when Snakemake starts
# (also for -n), rewritten only when their content changes; rules take them as inputs.


def images_snapshot():
    return f"{SNAPSHOTS}/images.csv"


def task_folder_roles(task):
    """The folders a task reads besides the corpus, by role: path, positive, negative."""
    spec = config["tasks"][task]
    folders = dict(spec.get("external") or {})
    if spec.get("path"):
        folders["path"] = spec["path"]
    return folders


def folder_snapshot(task):
    return f"{SNAPSHOTS}/folders/{task}.csv"


def sheet_snapshot(name):
    return f"{SNAPSHOTS}/annotations/{name}.txt"


def sheet_snapshot_names():
    annotated_tasks = [
        task for task in TASKS if config["tasks"][task]["type"] in ("binary", "emotion")
    ]
    return ["sheet", "annotated", "emotions"] + [f"labels_{t}" for t in annotated_tasks]


def sheet_snapshot_reads(wildcards):
    """What a sheet snapshot reads (its kind and columns): its job reruns when that changes."""
    return snapshot_reads(wildcards.snapshot)


def snapshot_reads(name):
    return snapshot_kind(name, config["tasks"], config["labels"]["emotions"])


def refresh_snapshots():
    """Rewrite every snapshot whose source exists and changed. Sources made by this workflow
    (the demo) that do not exist yet get theirs from the snapshot rules once made. Only the
    process that plans the jobs does this, not each job of a cluster run."""
    if not workflow.is_main_process:
        return
    if Path(raw_images()).is_dir():
        write_if_changed(listing_csv(list_tree(raw_images())), images_snapshot())
    for task in TASKS:
        folders = task_folder_roles(task)
        if folders and all(Path(folder).is_dir() for folder in folders.values()):
            write_if_changed(listing_csv_of_folders(folders), folder_snapshot(task))
    if predict_folder() and Path(predict_folder()).is_dir():
        listing = list_tree(predict_folder(), outside="follow")
        write_if_changed(listing_csv(listing), predict_snapshot())
    if Path(annotations_csv()).is_file():
        reads = {name: snapshot_reads(name) for name in sheet_snapshot_names()}
        snapshots = sheet_snapshots(annotations_csv(), reads)
        for name, text in snapshots.items():
            write_if_changed(text.encode("utf-8"), sheet_snapshot(name))


def aggregated_for(snapshot):
    """The aggregated annotations one consumer reads (see rule aggregate_annotations_for)."""
    return f"{RESULTS}/labels/aggregated/{snapshot}.csv"


def sheet_reads(consumer):
    """The columns a consumer's aggregation reads, as binary columns and emotions."""
    kind, columns = snapshot_reads(consumer)
    return {
        "binary_columns": columns if kind == "binary" else [],
        "emotions": columns if kind == "scores" else [],
    }


# --- prepare: inventory, dedupe, working images --------------------------------------------


def raw_images():
    return config["data"]["images"]


def annotations_csv():
    return config["data"]["annotations"]


def metadata_csv():
    """The metadata CSV as a list (empty when the config has none), for use in `input:`."""
    path = config["data"].get("metadata")
    return [path] if path else []


def decode_mb_per_thread():
    """A decoding worker holds at most one image of inventory.max_pixels (RGB) and its copy."""
    return 2 * 3 * config["inventory"]["max_pixels"] // 1_000_000 + 100


def parallel_mem_mb(wildcards, threads):
    return 1000 + decode_mb_per_thread() * threads


def dedupe_mem_mb(wildcards, input, threads):
    """The decoding workers, plus every image's analysis and candidate pairs in memory:
    24x views.csv at 20,000 images (bench/scale_bench.py), 32x its inputs here."""
    return parallel_mem_mb(wildcards, threads) + 32 * int(input.size_mb)


def without_shards(section):
    """A config section without its shard count, for a stage's params: how the stage is
    split into jobs does not change what each job makes."""
    return {key: value for key, value in config[section].items() if key != "shards"}


def dedupe_analysis_settings():
    """The dedupe settings that change the analysis the inventory makes of each image: a
    change of the others (max_distance, verify, ...) reruns dedupe, not the inventory.
    """
    return {key: config["dedupe"][key] for key in DEDUPE_ANALYSIS_KEYS}


def gather_mem_mb(wildcards, input):
    """Concatenating shard tables: a few times their size on disk."""
    return 500 + 4 * int(input.size_mb)


def prepare_targets():
    return [
        f"{RESULTS}/inventory/inventory.csv",
        f"{RESULTS}/dedupe/clusters.csv",
        f"{RESULTS}/figures/dedupe_audit.png",
        f"{RESULTS}/working/manifest.csv",
    ]


# --- labels, splits, Table 7.1, Figures 4.2, 4.3, 7.1, 7.2 ---------------------------------


def task_folder_inputs(wildcards):
    """The task's folders, only so that a folder this workflow makes is made first (the
    snapshot, not the folder's own time stamp, says whether it changed)."""
    return {
        role: ancient(folder)
        for role, folder in task_folder_roles(wildcards.task).items()
    }


def split_csvs():
    return expand(rules.splits.output.csv, task=TASKS)


def annotation_binary_columns():
    """Yes/no annotation columns aggregated with any-annotator-yes, each with the config keys
    that ask for it: binary tasks' columns and, with the autotagger on, the manual labels it
    is compared with (the book's Rekognition sample is labelled in the sheet whatever the
    fine-tuning tasks are, e.g. all presplit folders)."""
    keys = {}
    for name, spec in config["tasks"].items():
        if spec["type"] == "binary":
            keys.setdefault(spec["column"], []).append(f"tasks.{name}.column")
    autotag = config["autotag"]
    if not autotag["enabled"]:
        return dict(sorted(keys.items()))
    services = enabled_services(config)
    if "rekognition" in services:
        for comparison, api in (
            ("label_comparison", "detect_labels"),
            ("celebrity_comparison", "recognize_celebrities"),
        ):
            if api in autotag["apis"]:
                column = autotag[comparison]["manual_column"]
                keys.setdefault(column, []).append(
                    f"autotag.{comparison}.manual_column"
                )
    for service in services:
        if service != "rekognition":
            column = autotag[service]["label_comparison"]["manual_column"]
            key = f"autotag.{service}.label_comparison.manual_column"
            keys.setdefault(column, []).append(key)
    return dict(sorted(keys.items()))


def task_label_inputs(wildcards):
    """What a task's labels are made from: for binary and emotion tasks the aggregation of its
    column(s) of the sheet (rule aggregate_annotations_for), with the sha256 tables when
    external images are added; the snapshot of the task's folders, if it has any."""
    task = wildcards.task
    spec = config["tasks"][task]
    inputs = {}
    if spec["type"] in ("binary", "emotion"):
        inputs["aggregated"] = aggregated_for(f"labels_{task}")
        inputs["manifest"] = rules.working_images.output.manifest
    if spec.get("external"):
        inputs["inventory"] = rules.inventory.output.inventory
        inputs["clusters"] = rules.dedupe.output.clusters
    if task_folder_roles(task):
        inputs["folders"] = folder_snapshot(task)
    return inputs


def task_label_settings(wildcards):
    """The label thresholds, only for emotion tasks (so changing them reruns only those)."""
    if config["tasks"][wildcards.task]["type"] == "emotion":
        return config["labels"]
    return {}


def presplit_split_folders():
    """Per presplit task, the folder each split is read from (Table 7.1 records it)."""
    return {
        task: {
            split: folder
            for folder, split in presplit_folders(spec.get("val_folder", "val")).items()
        }
        for task, spec in config["tasks"].items()
        if spec["type"] == "presplit"
    }


def split_folder_outputs():
    """The authors' <task>/<split>/<class>/ symlink tree, when splits.materialise_folders is on."""
    if config["splits"]["materialise_folders"]:
        return {"folders": directory(f"{RESULTS}/splits/{{task}}")}
    return {}


def emotion_figures():
    """Figures 7.1 and 7.2 (evoked emotions), when the sheet has emotion columns."""
    return ["figure_7_1", "figure_7_2"] if config["labels"]["emotions"] else []


def label_targets():
    figures = ["figure_4_2", "figure_4_3"] + emotion_figures()
    return (
        split_csvs()
        + expand(f"{RESULTS}/tables/table_7_1.{{ext}}", ext=["csv", "md"])
        + expand(f"{RESULTS}/figures/{{fig}}.{{ext}}", fig=figures, ext=["png", "pdf"])
    )


# --- finetune: stores, runs, grid_runs.csv, Table 7.2, Figures 7.4/7.5 ---------------------
# (FINETUNE and FINETUNE_DIR are set in rules/finetune.smk, which needs config["finetune"].)


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


def finetune_task_summaries(wildcards):
    """Every run of the task: main grid and, for the study task, the study's settings."""
    return finetune_run_files(wildcards.task, "summary.json")


def finetune_task_run_tables():
    return expand(rules.finetune_task_runs.output.csv, task=finetune_task_list())


def finetune_task_predictions(wildcards):
    """The held-out predictions of a task's main-grid runs (the chosen one is read)."""
    return finetune_run_files(wildcards.task, "predictions.csv", finetune_grid_ids())


def finetune_study_epochs():
    study = finetune_study_task()
    ids = [setting.id for setting in grid_settings(FINETUNE["study"])]
    return finetune_run_files(study, "epochs.csv", ids)


def finetune_uses_imagenet():
    return FINETUNE["weights"] == "imagenet" or FINETUNE["weights"].startswith(
        "imagenet:"
    )


def finetune_weights_file():
    """The file a run starts from: the cached ImageNet weights, a user's file, or nothing."""
    if finetune_uses_imagenet():
        from images_as_data.finetune.model import cached_weights_path

        return [
            str(
                cached_weights_path(
                    FINETUNE["backbone"], FINETUNE["weights_cache"], FINETUNE["weights"]
                )
            )
        ]
    if FINETUNE["weights"] == "none":
        return []
    return [FINETUNE["weights"]]


def weights_cache_folder(wildcards, output):
    """The TORCH_HOME-style cache folder of the weights file: <cache>/hub/checkpoints/<file>."""
    return str(Path(output[0]).parents[2])


def store_settings():
    """How images are decoded into tensor stores (finetune_store and predict_store)."""
    return {
        "size": FINETUNE["store_size"],
        "crop_source": FINETUNE["crop_source"],
        "max_aspect": FINETUNE["max_aspect"],
    }


def store_mem_mb(wildcards, input, threads):
    """Memory of a job that decodes the images of its input table (a split CSV, or the
    images to label) into a store: one row per image, filled in place."""
    return store_build_mem_mb(
        table_rows(input[0]),
        threads=threads,
        per_thread_mb=decode_mb_per_thread(),
        **store_settings(),
    )


def finetune_run_mem_mb(wildcards, input):
    """Memory of a training job: finetune.mem_mb (model, batches) plus its task's store."""
    return store_reader_mem_mb(input.store, FINETUNE["mem_mb"])


def predict_mem_mb(wildcards, input):
    """Memory of a task's prediction job: predict.mem_mb plus the images decoded once."""
    return store_reader_mem_mb(input.store, config["predict"]["mem_mb"])


def finetune_train_options():
    """The finetune keys that change a run's result (resources and grids are not among them)."""
    keys = [
        "backbone",
        "weights",
        "weights_cache",
        "crop_size",
        "epochs",
        "step_size",
        "gamma",
    ]
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


def finetune_targets():
    """Every final output of fine-tuning and labelling, for `rule all`."""
    tasks = finetune_task_list()
    figures = [f"{RESULTS}/figures/tasks_vs_baseline"]
    figures += expand(
        f"{RESULTS}/figures/{{kind}}_{{task}}", kind=["confusion", "errors"], task=tasks
    )
    if finetune_study_task():
        figures += [f"{RESULTS}/figures/figure_7_4", f"{RESULTS}/figures/figure_7_5"]
    return (
        [f"{RESULTS}/tables/grid_runs.csv"]
        + expand(f"{RESULTS}/tables/table_7_2.{{ext}}", ext=["csv", "md"])
        + expand(f"{RESULTS}/tables/per_class_{{task}}.csv", task=tasks)
        + expand("{stem}.{ext}", stem=figures, ext=["png", "pdf"])
        + predict_targets()
    )


def output_stem(name):
    """A params function: the output file `name` without its extension (the figure writers
    add .png and .pdf themselves)."""
    return lambda wildcards, output: os.path.splitext(output[name])[0]


# --- predict: labelling new images (book Section 7.7) --------------------------------------
# (PREDICT is set in rules/predict.smk.)


def predict_task_list():
    return PREDICT.get("tasks") or finetune_task_list()


def predict_targets():
    return expand(f"{RESULTS}/predictions/{{task}}.csv", task=predict_task_list())


def predict_image_sources():
    """Default: the working manifest and the annotated clusters; else the configured list, or
    the configured folder with its snapshot (which says when images there change)."""
    if PREDICT["images"] is None:
        return {
            "manifest": rules.working_images.output.manifest,
            "aggregated": aggregated_for("annotated"),
        }
    if predict_folder():
        return {"source": ancient(PREDICT["images"]), "listing": predict_snapshot()}
    return {"source": PREDICT["images"]}


def predict_folder():
    """predict.images when it names a folder (not a CSV list), else None."""
    images = config["predict"]["images"]
    return images if images and not images.lower().endswith(".csv") else None


def predict_snapshot():
    return f"{SNAPSHOTS}/predict_images.csv"


def predict_models(wildcards):
    """Weights and summaries of the task's main-grid runs (predict_new_images uses the chosen one)."""
    ids = finetune_grid_ids()
    return finetune_run_files(wildcards.task, "model.pt", ids) + finetune_run_files(
        wildcards.task, "summary.json", ids
    )


# --- autotag: Rekognition, Google, Azure and CLIP comparison (book Section 6) --------------
# (AUTOTAG and AUTOTAG_DIR are set in rules/autotag.smk.)


def autotag_services():
    return enabled_services(config)


def autotag_tables():
    """Tables 6.1 / 6.2 whose API is fetched (Rekognition's)."""
    if "rekognition" not in autotag_services():
        return []
    needs = {"table_6_1": "detect_labels", "table_6_2": "recognize_celebrities"}
    return [table for table, api in needs.items() if api in AUTOTAG["apis"]]


def autotag_service_tables():
    """Table 6.1 of every other compared service."""
    return [
        f"table_6_1_{service}"
        for service in autotag_services()
        if service != "rekognition"
    ]


def autotag_responses():
    """Every compared service's fetched records, the input of the tidy step."""
    paths = {
        "rekognition": f"{AUTOTAG_DIR}/responses.jsonl",
        "google": f"{AUTOTAG_DIR}/google/responses.jsonl",
        "azure": f"{AUTOTAG_DIR}/azure/responses.jsonl",
        "clip": f"{AUTOTAG_DIR}/clip/responses.jsonl",
    }
    return [paths[service] for service in autotag_services()]


def autotag_clip_checkpoint():
    """The CLIP checkpoint file the tagger loads, as a list (empty with random weights)."""
    path = clip_checkpoint_path(AUTOTAG["clip"])
    return [str(path)] if path else []


def autotag_clip_fetches_weights():
    return "clip" in autotag_services() and AUTOTAG["clip"]["weights"] == "pretrained"


def autotag_clip_gpu_resources():
    """A GPU for the CLIP rule when autotag.clip.device asks for CUDA (auto uses one if the node has it)."""
    return {"gpu": 1} if AUTOTAG["clip"]["device"].startswith("cuda") else {}


def autotag_compare_settings():
    """The keys the tables and figures read, so that fetch-only changes do not rerun them."""
    keys = [
        "services",
        "apis",
        "label_comparison",
        "celebrity_comparison",
        "sweep_step",
        "top_labels",
        "top_labels_min_confidence",
    ]
    settings = {key: AUTOTAG[key] for key in keys}
    for service in autotag_services():
        if service != "rekognition":
            settings[service] = {
                key: AUTOTAG[service][key]
                for key in ("label_comparison", "top_labels_min_confidence")
            }
    return settings


def fine_tunes_in_this_workflow():
    """Whether the fine-tuning rules are part of this workflow (test workflows may leave them out)."""
    return any(rule.name == "finetune_table_7_2" for rule in workflow.rules)


def autotag_finetuned_inputs(wildcards):
    """Table 7.2, whose chosen run per task holds the held-out predictions to compare with.

    Only when this workflow fine-tunes a compared task; the comparison runs without it.
    """
    compared = {
        AUTOTAG[c].get("task") for c in ("label_comparison", "celebrity_comparison")
    }
    compared |= {
        AUTOTAG[service]["label_comparison"].get("task")
        for service in autotag_services()
        if service != "rekognition"
    }
    if fine_tunes_in_this_workflow() and compared & set(finetune_task_list()):
        return {"table_7_2": rules.finetune_table_7_2.output.csv}
    return {}


def autotag_targets():
    """Final outputs of the autotagger comparison, for `rule all` (none when autotag.enabled is false)."""
    if not AUTOTAG["enabled"]:
        return []
    targets = [
        f"{AUTOTAG_DIR}/estimate.csv",
        f"{AUTOTAG_DIR}/labels.csv",
        f"{AUTOTAG_DIR}/celebrities.csv",
        f"{AUTOTAG_DIR}/requests.csv",
        f"{RESULTS}/tables/autotag_threshold_sweep.csv",
        f"{RESULTS}/tables/autotag_vs_finetuned.csv",
    ]
    targets += expand(
        f"{RESULTS}/tables/{{table}}.{{ext}}", table=autotag_tables(), ext=["csv", "md"]
    )
    targets += expand(
        f"{RESULTS}/tables/{{table}}.{{ext}}",
        table=autotag_service_tables(),
        ext=["csv", "md"],
    )
    targets += expand(f"{RESULTS}/figures/autotag_pr_curve.{{ext}}", ext=["png", "pdf"])
    if "table_6_1" in autotag_tables():
        targets += expand(f"{RESULTS}/figures/figure_6_3.{{ext}}", ext=["png", "pdf"])
    if "table_6_1" in autotag_tables() or autotag_service_tables():
        targets += expand(f"{RESULTS}/figures/figure_6_4.{{ext}}", ext=["png", "pdf"])
        targets.append(f"{RESULTS}/tables/figure_6_4.csv")
    return targets


# --- replication report, Section 3 toy networks, Table 4.1 ---------------------------------


def replication_report_inputs(wildcards):
    """The files the report's sections read and link (REPORT_FILES, declared in
    images_as_data/replication/report/sections/), those this config writes: what `rule all`
    asks for, the aggregated annotations and the study's per-run curves. The report lists
    the others as not produced."""
    written = all_targets() + [rules.aggregate_annotations.output.aggregated]
    if finetune_study_task():
        written += finetune_study_epochs()
    inputs = {"reference": config["replication"]["reference"]}
    for name, file in REPORT_FILES.items():
        paths = [path for path in written if file.matches(path)]
        if paths:
            inputs[name] = paths if file.many else paths[0]
    return inputs


def replication_report_code():
    """The report's modules (engine and sections): editing one reruns the report."""
    return package_code(*report_modules())


def replication_targets():
    return (
        [
            f"{RESULTS}/report/replication_report.md",
            f"{RESULTS}/report/replication_report.csv",
        ]
        + toy_network_outputs()
        + [f"{RESULTS}/tables/table_4_1.csv", f"{RESULTS}/tables/table_4_1.md"]
    )


def toy_network_outputs():
    tables = [
        "table_3_1.csv",
        "table_3_1.md",
        "figure_3_1_linear_model.csv",
        "figure_3_1_linear_model.md",
    ]
    tables += ["figure_3_2_network.csv", "figure_3_4_conv_network.csv"]
    figures = [
        f"{fig}.{ext}" for fig in ("figure_3_1", "figure_3_3") for ext in ("png", "pdf")
    ]
    return [f"{RESULTS}/tables/{t}" for t in tables] + [
        f"{RESULTS}/figures/{f}" for f in figures
    ]


# --- provenance sidecars and the default target --------------------------------------------


def provenance_targets(tables):
    """Sidecar paths for the given table names (results/tables/<name>.csv)."""
    return expand(f"{RESULTS}/tables/{{table}}.provenance.json", table=tables)


def result_tables(targets):
    """Names of the CSV tables under results/tables/ among targets (each gets a provenance sidecar)."""
    return sorted(
        {
            Path(t).stem
            for t in targets
            if t.startswith(f"{RESULTS}/tables/") and t.endswith(".csv")
        }
    )


def all_targets():
    targets = (
        prepare_targets()
        + label_targets()
        + finetune_targets()
        + autotag_targets()
        + replication_targets()
    )
    return targets + provenance_targets(result_tables(targets))
