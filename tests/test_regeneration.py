"""Regeneration after a change: on the finished tiny run, Snakemake plans to redo only what the
change affects. Figure styling and plotting code rerun figures only; one task's label
definition reruns that task's labels, splits, store and training but no other task's.

Checks read `snakemake --summary` (one row per output file with the rule and its plan), so
nothing is run; changed files live in a hard-linked clone of the run (see WorkflowRun.clone).
"""

from __future__ import annotations

import copy
import io
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

pytestmark = pytest.mark.slow

FIGURE_RULES = {
    "figure_7_1",
    "figure_7_2",
    "figures_4_2_4_3",
    "finetune_curves",
    "finetune_confusion",
    "finetune_errors",
    "finetune_baseline",
    "autotag_pr_curve",
    "autotag_figure_6_3",
    "autotag_figure_6_4",
    "toy_networks",
}
# Downstream of any table or figure: sidecars record the config and the table's hash; the
# replication report reads tables and links figures.
REPORTING_RULES = {"provenance", "replication_report"}
CORPUS_RULES = {"demo_corpus", "inventory", "dedupe", "working_images", "aggregate_annotations"}
# Rules with one job (or several) per task, and where their outputs name the task.
PER_TASK_RULES = {"task_labels", "splits", "finetune_store", "finetune_run"}
TASK_IN_PATH = re.compile(r"^results/(?:labels|splits|finetune)/([^/.]+)")


def pending_updates(run, configfile: Path | None = None) -> pd.DataFrame:
    """output_file, rule, status, plan of every output Snakemake would (re)make."""
    done = run.snakemake("--summary", configfile=configfile)
    assert done.returncode == 0, done.stderr[-4000:]
    lines = done.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("output_file\t"))
    table = pd.read_csv(io.StringIO("\n".join(lines[header:])), sep="\t", dtype=str, keep_default_na=False)
    return table[table["plan"] != "no update"]


def changed_config(tmp_path: Path, base: Path, change: dict) -> Path:
    """tests/configs/tiny.yaml with `change` merged in, written to tmp_path."""

    def merge(into: dict, update: dict) -> dict:
        for key, value in update.items():
            into[key] = merge(into.get(key, {}), value) if isinstance(value, dict) else value
        return into

    config = merge(copy.deepcopy(yaml.safe_load(base.read_text())), change)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def replace_file(path: Path, text: str) -> None:
    """Write a new file in place of a hard link (the original keeps its content and time)."""
    path.unlink()
    path.write_text(text)


def sidecars_follow_their_tables(pending: pd.DataFrame) -> None:
    tables = {Path(f).stem for f in pending["output_file"] if f.startswith("results/tables/") and f.endswith(".csv")}
    sidecars = {Path(f).name.removesuffix(".provenance.json") for f in pending.query("rule == 'provenance'")["output_file"]}
    assert sidecars <= tables, f"sidecars redone without their table: {sorted(sidecars - tables)}"


def test_a_clone_of_the_finished_run_plans_nothing(tiny_run, tmp_path):
    clone = tiny_run.clone(tmp_path / "clone")
    pending = pending_updates(clone)
    assert pending.empty, pending.to_string()


@pytest.mark.parametrize("figures", [{"dpi": 100}, {"style": "ggplot"}], ids=["dpi", "style"])
def test_figure_styling_reruns_only_figures(tiny_run, tmp_path, figures):
    pending = pending_updates(tiny_run, changed_config(tmp_path, tiny_run.configfile, {"figures": figures}))
    assert set(pending["rule"]) == FIGURE_RULES | REPORTING_RULES
    figures_made = {str(p.relative_to(tiny_run.workdir)) for p in (tiny_run.results / "figures").glob("*.png")}
    assert figures_made <= set(pending["output_file"]), "a figure would keep its old style"
    # Every sidecar records the config (figures included), so all of them are redone.
    assert set(pending.query("rule == 'provenance'")["status"]) == {"params changed"}


@pytest.mark.parametrize(
    "module, rules",
    [
        ("labels/figures.py", {"table_7_1", "figure_7_1", "figure_7_2"}),
        ("finetune/figures.py", {"finetune_curves", "finetune_confusion", "finetune_errors", "finetune_baseline"}),
    ],
)
def test_editing_a_plotting_module_reruns_only_its_figures(tiny_run, tmp_path, module, rules):
    clone = tiny_run.clone(tmp_path / "clone")
    source = clone.workdir / "images_as_data" / module
    replace_file(source, source.read_text() + "\n# an edit to the plotting code\n")
    pending = pending_updates(clone)
    assert set(pending["rule"]) - REPORTING_RULES == rules
    sidecars_follow_their_tables(pending)


def test_editing_a_report_section_reruns_only_the_report(tiny_run, tmp_path):
    clone = tiny_run.clone(tmp_path / "clone")
    source = clone.workdir / "images_as_data" / "replication" / "report" / "sections" / "table_7_2.py"
    replace_file(source, source.read_text() + "\n# an edit to one section of the report\n")
    pending = pending_updates(clone)
    assert set(pending["rule"]) == {"replication_report"}, pending.to_string()


def test_touching_a_plotting_module_without_editing_it_reruns_nothing(tiny_run, tmp_path):
    clone = tiny_run.clone(tmp_path / "clone")
    source = clone.workdir / "images_as_data" / "labels" / "figures.py"
    replace_file(source, source.read_text())  # newer time stamp, same content
    pending = pending_updates(clone)
    assert pending.empty, pending.to_string()


@pytest.mark.parametrize(
    "change",
    [
        {"tasks": {"sadness": {"type": "emotion", "emotion": "fear"}}},
        {"labels": {"emotion_min_score": 4}},  # sadness is the tiny config's only emotion task
    ],
    ids=["task_definition", "emotion_threshold"],
)
def test_one_tasks_label_definition_reruns_that_task_only(tiny_run, tmp_path, change):
    pending = pending_updates(tiny_run, changed_config(tmp_path, tiny_run.configfile, change))
    rules = set(pending["rule"])
    assert not rules & CORPUS_RULES
    per_task = pending[pending["rule"].isin(PER_TASK_RULES)]
    assert set(per_task["rule"]) == PER_TASK_RULES
    tasks = {TASK_IN_PATH.match(path)[1] for path in per_task["output_file"]}
    assert tasks == {"sadness"}, "other tasks' labels, splits, stores or training runs would be redone"
    outputs = set(pending["output_file"])
    for output in (
        "results/figures/confusion_sadness.png",
        "results/figures/errors_sadness.png",
        "results/predictions/sadness.csv",
        "results/tables/table_7_1.csv",
        "results/tables/table_7_2.csv",
    ):
        assert output in outputs, output
