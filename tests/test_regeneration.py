"""Regeneration you can trust: on a finished own-data study whose images sit in date
sub-folders, each change makes Snakemake plan exactly the jobs in CHANGES (`snakemake -n`),
no more (nothing is redone needlessly) and no fewer (nothing goes stale). Two of the changes
are also run, and their outputs checked. The README's section "Regenerate figures after your
data change" shows this table; a test checks that it does.

A study here: 48 images in `data/raw/<date>/` (one date folder has a sub-folder), an
annotation sheet for 40 of them, three tasks (binary `protest`, emotion `fear`, `leaders`
from class folders), one epoch, no autotagger. Changes are made on copies of the finished run.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from PIL import Image

from .conftest import REPO, WORKFLOW_TIMEOUT_S, WorkflowRun, copy_workflow, run_snakemake

pytestmark = pytest.mark.slow

DAYS = ["2020-06-01", "2020-06-02", "2020-06-03/evening"]
N_IMAGES, N_ANNOTATED = 48, 40
STUDY_CONFIG = {
    "seed": 11,
    "demo": {"generate": False},
    "data": {"images": "data/raw", "annotations": "data/labels.csv", "metadata": None},
    "labels": {"emotions": ["fear", "joy"]},
    "working": {"short_side": 40},
    "tasks": {
        "protest": {"type": "binary", "column": "protest"},
        "fear": {"type": "emotion"},
        "leaders": {"type": "folders", "path": "data/leaders"},
    },
    "figures": {"dpi": 60},
    "finetune": {
        "weights": "none", "store_size": 32, "crop_size": 24, "epochs": 1, "seeds": [1],
        "grid": {"lr": [0.01], "momentum": [0.9], "batch": [8]}, "study": {"task": None},
        "device": "cpu", "threads": 1, "store_threads": 1, "mem_mb": 1000,
    },
    "predict": {"device": "cpu", "threads": 1, "mem_mb": 1000},
    "replication": {"toy_epochs": 50, "toy_restarts": 1},
    "autotag": {"enabled": False},
}  # fmt: skip


def picture(rng: np.random.Generator, path: Path, colour: tuple[int, int, int]) -> None:
    """A noisy 64 x 48 picture with a coloured block: distinct, and over inventory.min_bytes."""
    pixels = rng.integers(0, 256, size=(48, 64, 3), dtype=np.uint8)
    pixels[8:40, 16:48] = colour
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)


def image_id(index: int) -> str:
    return f"{DAYS[index % len(DAYS)]}/img_{index:03d}.png"


def write_study(root: Path) -> None:
    rng = np.random.default_rng(5)
    for index in range(N_IMAGES):
        picture(rng, root / "data" / "raw" / image_id(index), (200, 30, 30) if index % 2 else (30, 30, 200))
    rows = []
    for index in range(N_ANNOTATED):
        fear, joy = [(7, 0), (0, 0), (2, 6), (0, 0)][index % 4]
        rows.append({"image_id": image_id(index), "annotator": "ann1", "protest": "yes" if index % 2 else "no",
                     "night": "yes" if index % 3 == 0 else "no", "fear": fear, "joy": joy})  # fmt: skip
    pd.DataFrame(rows).to_csv(root / "data" / "labels.csv", index=False)
    for leader, colour in (("merkel", (250, 250, 0)), ("obama", (0, 250, 250))):
        for index in range(10):
            picture(rng, root / "data" / "leaders" / leader / f"set_{index % 2}" / f"{index:02d}.png", colour)
    (root / "study.yaml").write_text(yaml.safe_dump(STUDY_CONFIG, sort_keys=False))


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> WorkflowRun:
    """The study run to the end (`all`), then checked to plan nothing more."""
    workdir = copy_workflow(tmp_path_factory.mktemp("study") / "project")
    write_study(workdir)
    started = time.monotonic()
    done = run_snakemake(workdir, workdir / "study.yaml", "--cores", "2", timeout=WORKFLOW_TIMEOUT_S)
    seconds = time.monotonic() - started
    assert done.returncode == 0, done.stderr[-6000:]
    print(f"\nown-data study run: {seconds:.0f} s")
    return WorkflowRun(workdir, workdir / "study.yaml", done.stderr, seconds, "")


# --- what Snakemake plans --------------------------------------------------------------------

JOB = re.compile(r"^(?:local)?rule (\w+):$")
WILDCARDS = re.compile(r"^\s+wildcards: (.*)$")
# The wildcard that names a job in the table (the others, setting and seed, are one per task here).
NAMING_WILDCARDS = ("task", "consumer", "table")


def planned_jobs(run: WorkflowRun) -> tuple[set[str], float]:
    """`snakemake -n`: the jobs it would run as `rule` or `rule[name]`, and the seconds it took."""
    started = time.monotonic()
    done = run.snakemake("-n")
    seconds = time.monotonic() - started
    assert done.returncode == 0, done.stderr[-4000:]
    jobs, rule = set(), None
    for line in (done.stdout + done.stderr).splitlines():
        if match := JOB.match(line):
            rule = match[1]
            jobs.add(rule)
        elif rule and (match := WILDCARDS.match(line)):
            values = dict(pair.split("=", 1) for pair in match[1].split(", "))
            name = next((values[key] for key in NAMING_WILDCARDS if key in values), None)
            if name:
                jobs.discard(rule)
                jobs.add(f"{rule}[{name}]")
        elif not line.strip():
            rule = None
    jobs.discard("all")
    return jobs, seconds


def expand(table: str) -> set[str]:
    """'a, b[x, y], c' -> {'a', 'b[x]', 'b[y]', 'c'} (the README table's notation)."""
    jobs = set()
    for rule, names in re.findall(r"(\w+)(?:\[([^\]]*)\])?", table.replace("`", "")):
        if rule == "provenance" and names == "all":
            names = TABLES
        jobs.update({f"{rule}[{name.strip()}]" for name in names.split(",")} if names else {rule})
    return jobs - {"nothing"}


def compact(jobs: set[str]) -> str:
    """The inverse of expand, in the order of RULE_ORDER."""
    by_rule: dict[str, list[str]] = {}
    for job in jobs:
        rule, _, name = job.partition("[")
        by_rule.setdefault(rule, [])
        if name:
            by_rule[rule].append(name.rstrip("]"))
    order = {rule: i for i, rule in enumerate(RULE_ORDER)}
    parts = []
    for rule in sorted(by_rule, key=lambda r: (order.get(r, len(order)), r)):
        names = sorted(by_rule[rule])
        if rule == "provenance" and names == sorted(TABLES.split(", ")):
            names = ["all"]
        parts.append(f"{rule}[{', '.join(names)}]" if names else rule)
    return ", ".join(parts) or "nothing"


RULE_ORDER = """inventory_shard inventory dedupe dedupe_audit working_images_shard working_images figures_4_2_4_3
aggregate_annotations aggregate_annotations_for task_labels splits table_7_1 figure_7_1 figure_7_2 finetune_store
finetune_run finetune_task_runs finetune_grid_runs
finetune_table_7_2 finetune_confusion finetune_errors finetune_baseline predict_list_images predict_store predict_new_images
toy_networks table_4_1 replication_report provenance""".split()

# provenance[all]: the sidecar of every table.
TABLES = "grid_runs, per_class_fear, per_class_leaders, per_class_protest, table_7_1, table_7_2"
TABLES += ", figure_3_1_linear_model, figure_3_2_network, figure_3_4_conv_network, table_3_1, table_4_1"
ALL_SIDECARS = "provenance[all]"

# What follows a change of the corpus images: everything that reads them, for the two tasks
# built on the corpus; the leaders task keeps its labels, split and model (its predictions
# label the new corpus images, so they are redone).
IMAGES_CHANGED = (
    "inventory_shard, inventory, dedupe, dedupe_audit, working_images_shard, working_images, figures_4_2_4_3, aggregate_annotations, "
    "aggregate_annotations_for[annotated, emotions, labels_fear, labels_protest], task_labels[fear, protest], "
    "splits[fear, protest], table_7_1, figure_7_1, figure_7_2, finetune_store[fear, protest], finetune_run[fear, protest], "
    "finetune_task_runs[fear, protest], finetune_grid_runs, finetune_table_7_2, finetune_confusion[fear, protest], "
    "finetune_errors[fear, protest], finetune_baseline, predict_list_images, predict_store, "
    "predict_new_images[fear, leaders, protest], "
    f"replication_report, {ALL_SIDECARS}"
)
# A dedupe setting that only changes how the analyses are compared: the inventory (which
# decodes every file) is not redone, everything after it is.
DEDUPE_CHANGED = IMAGES_CHANGED.replace("inventory_shard, inventory, ", "")
# A dedupe setting that changes the analysis of each image: the inventory too.
ANALYSIS_CHANGED = IMAGES_CHANGED
# The working images alone: everything that reads them; the config is the same, so only the
# sidecars of the tables made from the corpus are redone.
WORKING_CHANGED = DEDUPE_CHANGED.replace("dedupe, dedupe_audit, ", "").replace(
    ALL_SIDECARS, "provenance[grid_runs, per_class_fear, per_class_protest, table_7_1, table_7_2]"
)
# The decoding of files into stores: every task's store and what reads it, the images to
# label included; labels, splits and working images stay.
STORES_CHANGED = (
    "finetune_store[fear, leaders, protest], finetune_run[fear, leaders, protest], finetune_task_runs[fear, leaders, protest], "
    "finetune_grid_runs, finetune_table_7_2, finetune_confusion[fear, leaders, protest], finetune_errors[fear, leaders, protest], "
    "finetune_baseline, predict_store, predict_new_images[fear, leaders, protest], replication_report, "
    "provenance[grid_runs, per_class_fear, per_class_leaders, per_class_protest, table_7_2]"
)
# One task's labels changed: that task's chain, the tables over all tasks, the report and the
# sidecars (each records the annotation sheet's or the config's hash).
PROTEST_CHANGED = (
    "aggregate_annotations, aggregate_annotations_for[labels_protest], task_labels[protest], splits[protest], table_7_1, "
    "finetune_store[protest], finetune_run[protest], finetune_task_runs[protest], finetune_grid_runs, finetune_table_7_2, "
    "finetune_confusion[protest], finetune_errors[protest], finetune_baseline, predict_new_images[protest], "
    f"replication_report, {ALL_SIDECARS}"
)
# The emotion thresholds are read by the emotion tasks' labels (and Figure 7.2, which draws them).
FEAR_CHANGED = (
    "task_labels[fear], splits[fear], table_7_1, figure_7_2, finetune_store[fear], finetune_run[fear], "
    "finetune_task_runs[fear], finetune_grid_runs, finetune_table_7_2, finetune_confusion[fear], finetune_errors[fear], "
    f"finetune_baseline, predict_new_images[fear], replication_report, {ALL_SIDECARS}"
)
FIGURES = (
    "dedupe_audit, figures_4_2_4_3, figure_7_1, figure_7_2, finetune_confusion[fear, leaders, protest], finetune_errors[fear, leaders, protest], "
    f"finetune_baseline, toy_networks, replication_report, {ALL_SIDECARS}"
)


def add_image(project: Path) -> None:
    picture(np.random.default_rng(99), project / "data/raw/2020-06-03/evening/img_new.png", (9, 9, 9))


def delete_image(project: Path) -> None:
    (project / "data/raw" / image_id(N_ANNOTATED + 1)).unlink()  # not annotated (else the sheet names a missing file)


def replace_image(project: Path) -> None:
    target = project / "data/raw" / image_id(5)
    target.unlink()  # a new file, not an edit of the (hard-linked) original
    picture(np.random.default_rng(98), target, (9, 200, 9))


def edit_annotation_row(project: Path) -> None:
    sheet = project / "data/labels.csv"
    rows = pd.read_csv(sheet, dtype=str, keep_default_na=False)
    rows.loc[rows["image_id"] == image_id(4), "protest"] = "yes"  # was no
    sheet.unlink()
    rows.to_csv(sheet, index=False)


def change_config(update: dict):
    def apply(project: Path) -> None:
        config = yaml.safe_load((project / "study.yaml").read_text())
        for section, values in update.items():
            for key, value in values.items():
                config.setdefault(section, {})[key] = value
        (project / "study.yaml").unlink()
        (project / "study.yaml").write_text(yaml.safe_dump(config, sort_keys=False))

    return apply


def edit_plotting_module(project: Path) -> None:
    module = project / "images_as_data/finetune/figures.py"
    text = module.read_text()
    module.unlink()
    module.write_text(text + "\n# an edit to the plotting code\n")


def save_plotting_module_unchanged(project: Path) -> None:
    module = project / "images_as_data/labels/figures.py"
    text = module.read_text()
    module.unlink()
    module.write_text(text)  # a newer time stamp, the same content


def edit_report_section(project: Path) -> None:
    module = project / "images_as_data/replication/report/sections/table_7_2.py"
    text = module.read_text()
    module.unlink()
    module.write_text(text + "\n# an edit to one section of the report\n")


def new_method_version(name: str, module: str = "images_as_data/prepare/__init__.py"):
    """A new version of a per-image method (``name`` in ``module``), as an update of the
    workflow brings."""

    def apply(project: Path) -> None:
        module_path = project / module
        text = module_path.read_text()
        version = re.search(rf"^{name} = (\d+)$", text, flags=re.MULTILINE)
        assert version, f"{name} not found in {module_path}"
        module_path.unlink()
        module_path.write_text(text.replace(version[0], f"{name} = {int(version[1]) + 1}"))

    return apply


def nothing(project: Path) -> None:
    pass


# change -> (how it is made, the jobs `snakemake -n` plans). Kept equal to the README's table.
CHANGES = {
    "change nothing": (nothing, ""),
    "move the project folder": (nothing, ""),  # the copy itself is the move (see test below)
    "add an image to `2020-06-03/evening/`": (add_image, IMAGES_CHANGED),
    "delete an image from `2020-06-03/evening/`": (delete_image, IMAGES_CHANGED),
    "replace `2020-06-03/evening/img_005.png` by another picture": (replace_image, IMAGES_CHANGED),
    "edit one annotation row (`protest` of one image, no to yes)": (edit_annotation_row, PROTEST_CHANGED),
    "change one task (`tasks.protest.column: night`)": (change_config({"tasks": {"protest": {"type": "binary", "column": "night"}}}),
                                                        PROTEST_CHANGED),
    "change `figures.dpi`": (change_config({"figures": {"dpi": 70}}), FIGURES),
    "change `dedupe.max_distance`": (change_config({"dedupe": {"max_distance": 8}}), DEDUPE_CHANGED),
    "change `dedupe.crops`": (change_config({"dedupe": {"crops": False}}), ANALYSIS_CHANGED),
    "a new version of dedupe's analysis (`ANALYSIS_VERSION`)": (new_method_version("ANALYSIS_VERSION"), ANALYSIS_CHANGED),
    "a new version of the working images (`WORKING_IMAGES_VERSION`)": (new_method_version("WORKING_IMAGES_VERSION"), WORKING_CHANGED),
    "a new version of the tensor stores (`STORE_VERSION`)": (new_method_version("STORE_VERSION", "images_as_data/finetune/__init__.py"),
                                                             STORES_CHANGED),
    "change `labels.emotion_min_score`": (change_config({"labels": {"emotion_min_score": 4}}), FEAR_CHANGED),
    "edit a plotting module (`images_as_data/finetune/figures.py`)": (
        edit_plotting_module,
        "finetune_confusion[fear, leaders, protest], finetune_errors[fear, leaders, protest], finetune_baseline, "
        "provenance[per_class_fear, per_class_leaders, per_class_protest]",
    ),
    "save a plotting module unchanged (`images_as_data/labels/figures.py`)": (save_plotting_module_unchanged, ""),
    "edit a section of the report (`replication/report/sections/table_7_2.py`)": (edit_report_section, "replication_report"),
}  # fmt: skip


def clone(run: WorkflowRun, destination: Path) -> WorkflowRun:
    """A copy of the finished study in another folder (files as hard links: time stamps kept).
    The study config lives in the project, so it moves with it."""
    copied = run.clone(destination)
    return WorkflowRun(copied.workdir, destination / "study.yaml", "", 0.0, "")


@pytest.mark.parametrize("change", list(CHANGES))
def test_each_change_plans_exactly_its_jobs(study, tmp_path, change):
    make, expected = CHANGES[change]
    project = clone(study, tmp_path / "moved" / "project")
    make(project.workdir)
    jobs, seconds = planned_jobs(project)
    print(f"\n{change}: {len(jobs)} jobs planned, snakemake -n {seconds:.1f} s")
    assert compact(jobs) == compact(expand(expected)), f"{change}:\n  planned  {compact(jobs)}\n  expected {compact(expand(expected))}"


def test_the_readme_shows_this_table():
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Regenerate figures after your data change", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0] in CHANGES:
            rows[cells[0]] = cells[1]
    assert set(rows) == set(CHANGES), "the README's table lists other changes"
    for change, (_, expected) in CHANGES.items():
        assert compact(expand(rows[change])) == compact(expand(expected)), change


def real_copy(run: WorkflowRun, destination: Path) -> WorkflowRun:
    """A full copy (time stamps kept) to run jobs in: Snakemake touches and rewrites files in
    place, which must not reach the hard-linked original."""
    shutil.copytree(run.workdir, destination, symlinks=True)
    return WorkflowRun(destination, destination / "study.yaml", "", 0.0, "")


def mtimes(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


def test_replacing_an_image_reruns_and_updates_what_depends_on_it(study, tmp_path):
    project = real_copy(study, tmp_path / "project")
    before = pd.read_csv(project.results / "inventory/inventory.csv", dtype=str).set_index("image_id")
    replace_image(project.workdir)
    done = project.snakemake("--cores", "2", timeout=WORKFLOW_TIMEOUT_S)
    assert done.returncode == 0, done.stderr[-4000:]
    after = pd.read_csv(project.results / "inventory/inventory.csv", dtype=str).set_index("image_id")
    replaced = image_id(5)
    assert after.loc[replaced, "sha256"] != before.loc[replaced, "sha256"]
    assert after.drop(index=replaced).equals(before.drop(index=replaced))
    log = (project.results / "logs/prepare/inventory_1-of-1.log").read_text()
    assert f"{N_IMAGES - 1} files unchanged since the last inventory (rows reused)" in log  # only one file hashed
    working = Image.open(project.results / "working/images" / f"{replaced}.png").convert("RGB")
    assert np.asarray(working)[working.height // 2, working.width // 2].tolist()[1] > 150  # the new green block
    assert planned_jobs(project)[0] == set()


def test_editing_one_annotation_row_retrains_only_that_task(study, tmp_path):
    project = real_copy(study, tmp_path / "project")
    finetune, labels = project.results / "finetune", project.results / "labels"
    untouched_before = {task: mtimes(finetune / task) for task in ("fear", "leaders")}
    predictions_before = {task: (project.results / f"predictions/{task}.csv").stat().st_mtime_ns for task in ("fear", "leaders")}
    protest_before = pd.read_csv(labels / "protest.csv", dtype=str).set_index("image_id")
    edit_annotation_row(project.workdir)
    done = project.snakemake("--cores", "2", timeout=WORKFLOW_TIMEOUT_S)
    assert done.returncode == 0, done.stderr[-4000:]
    protest_after = pd.read_csv(labels / "protest.csv", dtype=str).set_index("image_id")
    assert protest_before.loc[image_id(4), "label"] == "negative" and protest_after.loc[image_id(4), "label"] == "positive"
    assert (finetune / "protest/lr0.01_m0.9_b8/seed1/model.pt").stat().st_mtime_ns > max(untouched_before["fear"].values())
    for task in ("fear", "leaders"):
        assert mtimes(finetune / task) == untouched_before[task], f"{task} was retrained"
        assert (project.results / f"predictions/{task}.csv").stat().st_mtime_ns == predictions_before[task]
    assert planned_jobs(project)[0] == set()


def test_moving_the_project_folder_plans_nothing(study, tmp_path):
    project = clone(study, tmp_path / "a" / "project")
    os.rename(project.workdir, tmp_path / "b")
    moved = WorkflowRun(tmp_path / "b", tmp_path / "b" / "study.yaml", "", 0.0, "")
    assert planned_jobs(moved)[0] == set()


def test_the_generated_demo_folder_is_watched_too(tiny_run, tmp_path):
    """The demo's raw folder is an output of demo_corpus (with Snakemake's marker file in it):
    an image added to one of its date folders is still seen, and an annotation edit still
    reruns one task only."""
    demo = tiny_run.clone(tmp_path / "added")
    day = sorted(p for p in (demo.results / "demo" / "raw").iterdir() if p.is_dir())[0]
    picture(np.random.default_rng(3), day / "added_later.png", (9, 9, 9))
    jobs, _ = planned_jobs(demo)
    assert {"inventory", "dedupe", "working_images", "task_labels[protest]"} <= jobs
    assert "task_labels[world_leaders]" not in jobs and "demo_corpus" not in jobs
    demo = tiny_run.clone(tmp_path / "edited")
    sheet = demo.results / "demo" / "annotations.csv"
    rows = pd.read_csv(sheet, dtype=str, keep_default_na=False)
    single = rows.groupby("image_id").filter(lambda group: len(group) == 1 and group["protest"].iloc[0] == "0")
    rows.loc[rows["image_id"] == single["image_id"].iloc[0], "protest"] = "1"
    sheet.unlink()
    rows.to_csv(sheet, index=False)
    jobs, _ = planned_jobs(demo)
    per_task = {job for job in jobs if job.startswith(("task_labels[", "finetune_run[", "predict_new_images[", "finetune_confusion["))}
    assert per_task == {"task_labels[protest]", "finetune_run[protest]", "predict_new_images[protest]", "finetune_confusion[protest]"}
