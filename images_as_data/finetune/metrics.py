"""Classification metrics (scikit-learn): positive class for binary tasks, macro for the rest."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, precision_recall_fscore_support

BINARY_CLASSES = ["negative", "positive"]
METRICS = ("accuracy", "precision", "recall", "f1")


def is_binary(classes: list[str]) -> bool:
    return list(classes) == BINARY_CLASSES


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray, classes: list[str]) -> dict[str, float]:
    """Accuracy, precision, recall and F1 (of `positive` for binary tasks, macro otherwise)."""
    if is_binary(classes):
        average, pos_label = "binary", BINARY_CLASSES.index("positive")
    else:
        average, pos_label = "macro", 1
    precision, recall, f1, _ = precision_recall_fscore_support(
        y_true,
        y_pred,
        labels=list(range(len(classes))),
        average=average,
        pos_label=pos_label,
        zero_division=0,
    )
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
    }


def per_class_metrics(y_true: np.ndarray, y_pred: np.ndarray, classes: list[str]) -> pd.DataFrame:
    """One row per class: precision, recall, F1 and support."""
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=list(range(len(classes))), average=None, zero_division=0
    )
    return pd.DataFrame({"class": classes, "precision": precision, "recall": recall, "f1": f1, "support": support})
