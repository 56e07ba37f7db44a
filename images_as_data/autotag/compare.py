"""Autotagger output against the manual labels: Tables 6.1 (per service) and 6.2, threshold sweep, fine-tuned model."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_score, recall_score

from images_as_data.autotag import LABEL_API, SERVICE_SHORT, SERVICE_TITLES, SERVICES
from images_as_data.autotag.sample import as_yes
from images_as_data.common.atomic import write_csv, write_text

log = logging.getLogger(__name__)

METRICS = ["accuracy", "precision", "recall", "f1"]
COUNTS = ["tn", "fp", "fn", "tp"]
SIMULATED_NOTE = (
    "Simulated responses: the demo corpus was tagged by a seeded simulation in Rekognition's "
    "response shape, not by Amazon Rekognition."
)
RANDOM_WEIGHTS_NOTE = (
    "Random weights: the CLIP model was randomly initialised (demo and CI, where no weights can be "
    "downloaded), so its scores carry no meaning."
)
TITLES = {
    "table_6_1": 'Table 6.1: Rekognition label "{target}" (confidence >= {threshold:g}) against manual {manual} labels',
    "table_6_2": 'Table 6.2: Rekognition celebrity "{target}" (match confidence >= {threshold:g}) against manual {manual} labels',
}
SERVICE_TITLE = 'Table 6.1 ({service}): label "{target}" (confidence >= {threshold:g}) against manual {manual} labels'
FINETUNED_COLUMNS = ["task", "comparison", "method", "n_images", *COUNTS, *METRICS, "simulated", "note", "service"]


def simulated_note(service: str) -> str:
    """What a simulated (or randomly initialised) service's outputs say about themselves."""
    if service == "rekognition":
        return SIMULATED_NOTE
    if service == "clip":
        return RANDOM_WEIGHTS_NOTE
    return (f"Simulated responses: the demo corpus was tagged by a seeded simulation in {SERVICE_TITLES[service]}'s "
            f"response format, not by {SERVICE_TITLES[service]}.")


@dataclass(frozen=True)
class AutotagOutput:
    """The sample and the tidy tables of its responses."""

    sample: pd.DataFrame
    labels: pd.DataFrame
    celebrities: pd.DataFrame
    requests: pd.DataFrame  # one row per call, so it knows about empty responses too

    def simulated(self, api: str) -> bool:
        """Whether the responses of `api` came from the simulated backend."""
        rows = self.requests[self.requests["api"] == api]
        return bool(as_yes(rows["simulated"], "requests.csv column simulated").any()) if len(rows) else False

    def model_versions(self, api: str) -> str:
        """The model versions the service reported for `api`, `;`-joined."""
        rows = self.requests[self.requests["api"] == api]
        return ";".join(sorted({str(value) for value in rows["model_version"].dropna()}))

    def restricted_to(self, image_ids: pd.Series) -> "AutotagOutput":
        return AutotagOutput(self.sample[self.sample["image_id"].isin(set(image_ids))], self.labels,
                             self.celebrities, self.requests)


@dataclass(frozen=True)
class Comparison:
    """One autotagger output (a label or a celebrity) against one manual label column."""

    kind: str  # "label" (DetectLabels) or "celebrity" (RecognizeCelebrities)
    target: str  # label name, e.g. Crowd, or celebrity name
    threshold: float  # confidence at or above which the autotagger says yes
    manual_column: str
    task: str | None = None  # fine-tuned task with the same meaning, if any
    service: str = "rekognition"

    @property
    def api(self) -> str:
        return LABEL_API[self.service] if self.kind == "label" else "recognize_celebrities"

    @property
    def name(self) -> str:
        """Rekognition's comparisons keep their names; the other services' say whose label it is."""
        prefix = "" if self.service == "rekognition" else f"{SERVICE_SHORT[self.service]} "
        return f"{prefix}{self.target} vs manual {self.manual_column}"

    def scores(self, output: AutotagOutput) -> pd.Series:
        """Highest confidence of the target per sample image (NaN where the service did not return it)."""
        if self.kind == "label":
            labels = output.labels
            if "service" in labels.columns:
                labels = labels[labels["service"].fillna("rekognition") == self.service]
            found = labels.loc[labels["label"] == self.target].groupby("image_id")["confidence"].max()
        else:
            faces = output.celebrities
            found = faces.loc[faces["name"] == self.target].groupby("image_id")["match_confidence"].max()
        image_ids = output.sample["image_id"]
        return pd.Series(image_ids.map(found).to_numpy(dtype=float), index=image_ids.to_numpy(), name="score")


def comparisons_from_config(section: Mapping[str, Any]) -> dict[str, Comparison]:
    """The label comparison (Table 6.1) and celebrity comparison (Table 6.2) of the `autotag:` config."""
    label = section.get("label_comparison", {})
    celebrity = section.get("celebrity_comparison", {})
    return {
        "table_6_1": Comparison("label", label.get("label", "Crowd"), float(label.get("min_confidence", 50)),
                                label.get("manual_column", "protest"), label.get("task")),
        "table_6_2": Comparison("celebrity", celebrity.get("name", ""), float(celebrity.get("min_match_confidence", 0)),
                                celebrity.get("manual_column", "legend"), celebrity.get("task")),
    }


def label_services(section: Mapping[str, Any]) -> list[str]:
    """The compared services that return labels (Rekognition only when DetectLabels is called)."""
    chosen = section.get("services", ["rekognition"])
    apis = section.get("apis", ["detect_labels", "recognize_celebrities"])
    return [service for service in SERVICES if service in chosen and (service != "rekognition" or "detect_labels" in apis)]


def service_comparisons(section: Mapping[str, Any]) -> dict[str, Comparison]:
    """Table 6.1 of each other compared service: its proxy label against a manual label."""
    comparisons = {}
    for service in SERVICES[1:]:
        if service not in section.get("services", ["rekognition"]):
            continue
        label = section.get(service, {}).get("label_comparison", {})
        comparisons[service] = Comparison("label", label.get("label", ""), float(label.get("min_confidence", 50)),
                                          label.get("manual_column", "protest"), label.get("task"), service)
    return comparisons


def binary_metrics(manual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """Confusion counts and accuracy/precision/recall/F1 of the positive class (scikit-learn).

    Precision (and F1) is NaN when nothing is predicted positive, recall when nothing is.
    """
    manual = np.asarray(manual, dtype=bool)
    predicted = np.asarray(predicted, dtype=bool)
    tn, fp, fn, tp = confusion_matrix(manual, predicted, labels=[False, True]).ravel()
    return {
        "n_images": int(len(manual)),
        "tn": int(tn), "fp": int(fp), "fn": int(fn), "tp": int(tp),
        "accuracy": accuracy_score(manual, predicted) if len(manual) else np.nan,
        "precision": precision_score(manual, predicted, zero_division=np.nan),
        "recall": recall_score(manual, predicted, zero_division=np.nan),
        "f1": f1_score(manual, predicted, zero_division=np.nan),
    }


def manual_labels(sample: pd.DataFrame, column: str) -> pd.Series:
    if column not in sample.columns:
        raise ValueError(
            f"the autotag sample has no manual label column '{column}' (it has {', '.join(sample.columns)}); "
            "check autotag.label_comparison.manual_column / autotag.celebrity_comparison.manual_column"
        )
    values = as_yes(sample[column], f"the autotag sample column {column}")
    return pd.Series(values.to_numpy(), index=sample["image_id"].to_numpy())


def compare(comparison: Comparison, output: AutotagOutput, threshold: float | None = None) -> dict[str, Any]:
    """One comparison row: what, at which threshold, counts and metrics, and whether simulated."""
    threshold = comparison.threshold if threshold is None else threshold
    says_yes = (comparison.scores(output) >= threshold).to_numpy()
    return {
        "comparison": comparison.name,
        "api": comparison.api,
        "autotag_target": comparison.target,
        "threshold": threshold,
        "manual_column": comparison.manual_column,
        **binary_metrics(manual_labels(output.sample, comparison.manual_column).to_numpy(), says_yes),
        "simulated": output.simulated(comparison.api),
        "service": comparison.service,
    }


def comparison_table(comparison: Comparison, output: AutotagOutput) -> pd.DataFrame:
    """Table 6.1 / 6.2 as one tidy row, with the model version the service reported."""
    row = compare(comparison, output)
    service = row.pop("service")
    return pd.DataFrame([{**row, "model_version": output.model_versions(comparison.api), "service": service}])


def _percent(value: float) -> str:
    return "n/a" if pd.isna(value) else f"{100 * value:.1f} %"


def comparison_markdown(table: pd.DataFrame, title: str) -> str:
    """The book's layout: rows autotagger no/yes, columns manual no/yes, then the metrics."""
    row = table.iloc[0]
    target, manual, simulated = row["autotag_target"], row["manual_column"], bool(row["simulated"])
    service = row.get("service", "rekognition")
    if simulated:
        tagger = f"{SERVICE_SHORT[service]}, random weights" if service == "clip" else f"simulated {SERVICE_SHORT[service]}"
    else:
        tagger = SERVICE_SHORT[service]
    matrix = pd.DataFrame(
        {f"no {manual} (manual)": [row["tn"], row["fp"]], f"{manual} (manual)": [row["fn"], row["tp"]]},
        index=[f"no {target} ({tagger})", f"{target} ({tagger})"],
    )
    lines = [f"# {title}", ""]
    if simulated:
        lines += [f"> **{simulated_note(service)}**", ""]
    lines += [
        matrix.to_markdown(),
        "",
        f"{row['n_images']} images; the autotagger says yes when it returns {target} with confidence "
        f">= {row['threshold']:g}.",
        "",
        f"accuracy {_percent(row['accuracy'])}, precision {_percent(row['precision'])}, "
        f"recall {_percent(row['recall'])}, F1 {_percent(row['f1'])}",
        "",
    ]
    return "\n".join(lines)


def threshold_sweep(comparisons: list[Comparison], output: AutotagOutput, thresholds: np.ndarray) -> pd.DataFrame:
    """Counts and metrics of each comparison at each confidence threshold."""
    return pd.DataFrame([
        compare(comparison, output, float(threshold)) for comparison in comparisons for threshold in thresholds
    ])


def sweep_thresholds(step: float) -> np.ndarray:
    return np.round(np.arange(0, 100 + step / 2, step), 6)


def read_finetuned_predictions(predictions_csv: str | Path, splits_csv: str | Path | None) -> pd.DataFrame:
    """A fine-tuned model's predictions on images it did not train on: image_id, predicted, split.

    Training images are dropped (a model is not judged on what it learned from); where the
    predictions have no split column it comes from the task's split CSV, and images absent
    from it (never used by the task) count as unseen. Failed predictions (empty) are dropped.
    """
    predictions = pd.read_csv(predictions_csv, dtype={"image_id": str})
    for column in ("image_id", "predicted"):
        if column not in predictions.columns:
            raise ValueError(f"{predictions_csv} lacks the column {column}; expected image_id, predicted(, split)")
    if "split" not in predictions.columns:
        if splits_csv is None or not Path(splits_csv).is_file():
            raise ValueError(f"{predictions_csv} has no split column and no split CSV was found to tell train from held-out")
        splits = pd.read_csv(splits_csv, dtype={"image_id": str})[["image_id", "split"]]
        predictions = predictions.merge(splits, on="image_id", how="left")
    usable = predictions["predicted"].notna() & (predictions["split"] != "train")
    return predictions.loc[usable, ["image_id", "predicted", "split"]]


def _autotag_row(comparison: Comparison, output: AutotagOutput, note: str) -> dict[str, Any]:
    row = compare(comparison, output)
    return {"task": comparison.task, "comparison": comparison.name, "method": "autotagger",
            **{key: row[key] for key in ["n_images", *COUNTS, *METRICS, "simulated"]}, "note": note,
            "service": comparison.service}


def compare_with_finetuned(comparison: Comparison, output: AutotagOutput, predictions: pd.DataFrame | None) -> pd.DataFrame:
    """The autotagger and the fine-tuned model on the same unseen images (two rows).

    Without usable predictions the autotagger row covers the whole sample and the
    fine-tuned row says why it is empty.
    """
    base = {"task": comparison.task, "comparison": comparison.name, "method": "fine-tuned"}
    common = output.restricted_to(predictions["image_id"] if predictions is not None else pd.Series(dtype=str))
    if common.sample.empty:
        why = (f"no fine-tuned predictions for task {comparison.task}" if predictions is None
               else "no autotag sample image is among the fine-tuned model's held-out images (its task images "
                    "are other files, e.g. presplit folders, or it trained on them)")
        return pd.DataFrame([_autotag_row(comparison, output, "whole autotag sample"),
                             {**base, "n_images": 0, "simulated": False, "note": why}])
    manual = manual_labels(common.sample, comparison.manual_column).to_numpy()
    predicted = predictions.drop_duplicates("image_id").set_index("image_id").loc[common.sample["image_id"], "predicted"]
    note = "autotag sample images the fine-tuned model did not train on"
    return pd.DataFrame([
        _autotag_row(comparison, common, note),
        {**base, **binary_metrics(manual, (predicted == "positive").to_numpy()), "simulated": False, "note": note},
    ])


def read_autotag_output(inputs: Mapping[str, str]) -> AutotagOutput:
    """The sample and the tidy label, celebrity and request tables named by `inputs`."""
    text = {"image_id": str, "cluster_id": str, "path": str, "sha256": str, "label": str, "name": str,
            "celebrity_id": str, "model_version": str}
    tables = {name: pd.read_csv(inputs[name], dtype=text) for name in ("sample", "labels", "celebrities", "requests")}
    return AutotagOutput(**tables)


def run_comparison_table(table: str, section: Mapping[str, Any], inputs: Mapping[str, str], output_csv, output_md) -> pd.DataFrame:
    """The Table 6.1 / 6.2 rule: tidy CSV row and the book-layout markdown.

    `inputs` names the sample, labels, celebrities and requests CSVs.
    """
    output = read_autotag_output(inputs)
    if table not in TITLES:
        raise ValueError(f"unknown autotag table '{table}'; expected one of {', '.join(TITLES)}")
    comparison = comparisons_from_config(section)[table]
    if comparison.kind == "celebrity" and not comparison.target:
        raise ValueError("autotag.celebrity_comparison.name is empty; set the celebrity to look for")
    result = comparison_table(comparison, output)
    title = TITLES[table].format(target=comparison.target, threshold=comparison.threshold, manual=comparison.manual_column)
    _log_table(title, result.iloc[0])
    write_csv(result.assign(table=table)[["table", *result.columns]], output_csv)
    write_text(comparison_markdown(result, title), output_md)
    return result


def fetched_comparisons(section: Mapping[str, Any]) -> list[Comparison]:
    """The configured comparisons whose service and API were called: Rekognition's two, then one per other service."""
    comparisons = []
    if "rekognition" in section.get("services", ["rekognition"]):
        apis = section.get("apis", ["detect_labels", "recognize_celebrities"])
        comparisons += [c for c in comparisons_from_config(section).values() if c.api in apis and c.target]
    return comparisons + [c for c in service_comparisons(section).values() if c.target]


def run_service_table(service: str, section: Mapping[str, Any], inputs: Mapping[str, str], output_csv, output_md) -> pd.DataFrame:
    """Table 6.1 of a service other than Rekognition: its proxy label against the manual label."""
    comparisons = service_comparisons(section)
    if service not in comparisons:
        raise ValueError(f"autotag.services does not include {service}")
    comparison = comparisons[service]
    if not comparison.target:
        raise ValueError(f"autotag.{service}.label_comparison.label is empty; set the label to use as a proxy")
    output = read_autotag_output(inputs)
    result = comparison_table(comparison, output)
    title = SERVICE_TITLE.format(service=SERVICE_TITLES[service], target=comparison.target,
                                 threshold=comparison.threshold, manual=comparison.manual_column)
    _log_table(title, result.iloc[0])
    write_csv(result.assign(table=f"table_6_1_{service}")[["table", *result.columns]], output_csv)
    write_text(comparison_markdown(result, title), output_md)
    return result


def _log_table(title: str, row: pd.Series) -> None:
    log.info("%s (%s responses): tn %d, fp %d, fn %d, tp %d; accuracy %s, precision %s, recall %s",
             title, "simulated" if row["simulated"] else "real", row["tn"], row["fp"], row["fn"], row["tp"],
             _percent(row["accuracy"]), _percent(row["precision"]), _percent(row["recall"]))


def run_threshold_sweep(section: Mapping[str, Any], inputs: Mapping[str, str], output_csv) -> pd.DataFrame:
    """The sweep rule: every fetched comparison at thresholds 0..100."""
    output = read_autotag_output(inputs)
    sweep = threshold_sweep(fetched_comparisons(section), output, sweep_thresholds(float(section.get("sweep_step", 1))))
    write_csv(sweep, output_csv)
    return sweep


def chosen_run_predictions(table_7_2_csv: str | Path | None) -> dict[str, Path]:
    """Per task, the held-out (validation/test) predictions of the run Table 7.2 chose."""
    if table_7_2_csv is None:
        return {}
    table = pd.read_csv(table_7_2_csv)
    return {row.task: Path(row.model_run) / "predictions.csv" for row in table.itertuples()}


def run_vs_finetuned(section: Mapping[str, Any], inputs: Mapping[str, str], output_csv) -> pd.DataFrame:
    """The side-by-side rule; tasks without a fine-tuned model get a row saying so."""
    output = read_autotag_output(inputs)
    predictions = chosen_run_predictions(inputs.get("table_7_2"))
    parts = []
    for comparison in fetched_comparisons(section):
        if not comparison.task:
            continue
        task_predictions = None
        if comparison.task in predictions:
            task_predictions = read_finetuned_predictions(predictions[comparison.task], None)
        parts.append(compare_with_finetuned(comparison, output, task_predictions))
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=FINETUNED_COLUMNS)
    # Every service is scored on the same images, so the fine-tuned model's row appears once per task.
    finetuned = table["method"] == "fine-tuned"
    table = table[~finetuned | ~table.duplicated(["task", "method"])]
    # Per task (in config order): every service's autotagger row, then the fine-tuned model's.
    task_order = {task: index for index, task in enumerate(dict.fromkeys(table["task"]))}
    order = table["task"].map(task_order) * 2 + (table["method"] == "fine-tuned")
    table = table.iloc[order.argsort(kind="stable")].reset_index(drop=True)
    table = table.reindex(columns=FINETUNED_COLUMNS).astype({column: "Int64" for column in ["n_images", *COUNTS]})
    write_csv(table, output_csv)
    return table
