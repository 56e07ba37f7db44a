"""Classification metrics: positive class for binary tasks, macro for the rest.

Computed from the confusion counts with numpy, with scikit-learn's definitions
(`precision_recall_fscore_support(..., zero_division=0)`; tests/test_finetune_tables.py
checks they agree): importing sklearn.metrics costs a training job about 0.5 s of CPU
(scipy.stats), a fifth of its start-up, for a handful of divisions per epoch.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BINARY_CLASSES = ["negative", "positive"]
METRICS = ("accuracy", "precision", "recall", "f1")


def is_binary(classes: list[str]) -> bool:
    return list(classes) == BINARY_CLASSES


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, 0 where the denominator is 0 (scikit-learn's zero_division=0)."""
    return np.divide(numerator, denominator, out=np.zeros(len(numerator)), where=denominator > 0)


def _per_class(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> tuple[np.ndarray, ...]:
    """Precision, recall, F1 and support of each class index 0..n_classes-1."""
    y_true, y_pred = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    if len(y_true) != len(y_pred):
        raise ValueError(f"{len(y_true)} true labels but {len(y_pred)} predictions")
    true_positive = np.bincount(y_true[y_true == y_pred], minlength=n_classes).astype(float)
    predicted = np.bincount(y_pred, minlength=n_classes).astype(float)
    support = np.bincount(y_true, minlength=n_classes)
    precision = _ratio(true_positive, predicted)
    recall = _ratio(true_positive, support.astype(float))
    f1 = _ratio(2 * true_positive, predicted + support)  # = 2PR / (P + R), 0 when nothing to score
    return precision, recall, f1, support


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray, classes: list[str]) -> dict[str, float]:
    """Accuracy, precision, recall and F1 (of `positive` for binary tasks, macro otherwise)."""
    precision, recall, f1, _ = _per_class(y_true, y_pred, len(classes))
    if is_binary(classes):
        pick = BINARY_CLASSES.index("positive")
        precision, recall, f1 = precision[pick], recall[pick], f1[pick]
    else:
        precision, recall, f1 = precision.mean(), recall.mean(), f1.mean()
    if not len(y_true):
        raise ValueError("no images to score")
    accuracy = float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))
    return {"accuracy": accuracy, "precision": float(precision), "recall": float(recall), "f1": float(f1)}


def per_class_metrics(y_true: np.ndarray, y_pred: np.ndarray, classes: list[str]) -> pd.DataFrame:
    """One row per class: precision, recall, F1 and support."""
    precision, recall, f1, support = _per_class(y_true, y_pred, len(classes))
    return pd.DataFrame({"class": classes, "precision": precision, "recall": recall, "f1": f1, "support": support})
