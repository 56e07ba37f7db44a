"""Checks on the configuration that a JSON schema cannot express, and the error they raise.

The start-up checks of the whole workflow (schema, options without effect, data sources) are
in :mod:`images_as_data.common.startup`.
"""

from __future__ import annotations


class ConfigError(ValueError):
    """A configuration problem, with a message that names the key to fix."""


def validate_tasks(config: dict) -> list[str]:
    """Return the task names after checking each task against the rest of the config."""
    emotions = config.get("labels", {}).get("emotions", [])
    tasks = config.get("tasks", {})
    for name, spec in tasks.items():
        if spec["type"] == "emotion":
            emotion = spec.get("emotion", name)
            if emotion not in emotions:
                raise ConfigError(
                    f"tasks.{name}: emotion '{emotion}' is not one of labels.emotions {emotions}; "
                    f"set tasks.{name}.emotion or add it to labels.emotions"
                )
        if spec["type"] != "binary" and spec.get("external"):
            raise ConfigError(f"tasks.{name}.external: only binary tasks take external images")
    splits = config.get("splits", {})
    if splits.get("scheme") == "train_val_test":
        total = splits["train_fraction"] + splits["val_fraction"] + splits["test_fraction"]
        if splits["test_fraction"] <= 0:
            raise ConfigError("splits.test_fraction must be above 0 when splits.scheme is train_val_test")
    elif splits:
        total = splits["train_fraction"] + splits["val_fraction"]
    else:
        total = 1.0
    if abs(total - 1.0) > 1e-9:
        raise ConfigError(f"splits: the fractions of scheme '{splits.get('scheme')}' add up to {total}, not 1")
    return list(tasks)
