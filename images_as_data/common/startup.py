"""Checks on the configuration, run when the workflow starts (Snakefile), before any image is read.

- :func:`check_schema`: the JSON schema (config/schema.yaml), with messages that name the
  key's path (``tasks.protest.colum: unknown key; a binary task takes column, external, type``);
- :func:`images_as_data.common.config.validate_tasks`: what a schema cannot express;
- :func:`check_no_effect`: options set to something other than their default where the
  chosen setting ignores them (``splits.test_fraction`` with ``scheme: train_val``);
- :func:`check_sources`: the data folders and the annotation sheet exist, and the sheet has
  every column the tasks read.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Collection, Mapping
from pathlib import Path

import jsonschema
import yaml

from .config import ConfigError
from .tables import decode_sheet


def _load_schema(path: str | os.PathLike) -> dict:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


def key_path(parts) -> str:
    return ".".join(str(part) for part in parts) or "(top level)"


def _message(error) -> str:
    where = key_path(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed))
        kind = error.schema.get("title", where if error.absolute_path else "the configuration")
        keys = ", ".join(f"{where}.{key}" if where != "(top level)" else key for key in unknown)
        return f"{keys}: unknown key; {kind} takes {', '.join(allowed)} (see config/schema.yaml)"
    if error.validator == "required":
        return f"{where}: {error.message}"
    return f"{where}: {error.message}"


def check_schema(config: Mapping, schema_path: str | os.PathLike) -> None:
    """Check ``config`` against the schema; raise ConfigError naming every bad key's path."""
    schema = _load_schema(schema_path)
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    if not errors:
        return
    # An error inside allOf/if-then (the per-type task schemas) is reported for its own key.
    leaves = [leaf for error in errors for leaf in (error.context or [error]) if not leaf.context] or errors
    messages = sorted({_message(leaf) for leaf in leaves})
    raise ConfigError("the configuration does not match config/schema.yaml:\n  " + "\n  ".join(messages))


def _get(config: Mapping, path: str):
    value = config
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _default(schema: Mapping, path: str):
    node = schema
    for part in path.split("."):
        node = node.get("properties", {}).get(part, {})
    return node.get("default")


# (option, when it has no effect, why, what to do instead). Checked on the config with defaults
# filled in; an option still at its default is never reported (config/config.yaml lists them all).
NO_EFFECT: list[tuple[str, Callable[[Mapping], bool], str]] = [
    ("splits.test_fraction", lambda c: _get(c, "splits.scheme") != "train_val_test",
     "splits.scheme is train_val (no test set); set splits.scheme: train_val_test or remove the key"),
    ("finetune.runs_per_gpu", lambda c: not _get(c, "finetune.gpu"),
     "finetune.gpu is false; set finetune.gpu: true or remove the key"),
    ("autotag.n_most_shared", lambda c: _get(c, "autotag.sample") != "most_shared",
     "autotag.sample is not most_shared; set autotag.sample: most_shared or remove the key"),
    *[(f"finetune.study.{key}", lambda c: _get(c, "finetune.study.task") is None,
       "finetune.study.task is null (no study); name a task or remove the key") for key in ("lr", "momentum", "batch")],
]  # fmt: skip


def check_no_effect(config: Mapping, schema_path: str | os.PathLike) -> None:
    """Stop on options set away from their default where the chosen setting ignores them."""
    schema = _load_schema(schema_path)
    problems = [
        f"{option} is set ({_get(config, option)!r}) but has no effect: {why}"
        for option, ignored, why in NO_EFFECT
        if _get(config, option) is not None and _get(config, option) != _default(schema, option) and ignored(config)
    ]
    if problems:
        raise ConfigError("options that would be ignored:\n  " + "\n  ".join(problems))


def sheet_header(path: str | os.PathLike) -> list[str]:
    """Column names of a CSV sheet (any encoding decode_sheet reads), stripped."""
    text = decode_sheet(Path(path).read_bytes(), path)
    first = next(csv.reader(io.StringIO(text)), [])
    return [name.strip() for name in first]


def check_sources(config: Mapping, generated: Collection[str]) -> None:
    """The folders and the annotation sheet the config names exist (unless this workflow
    generates them: ``generated``), and the sheet has every column a task reads."""

    def made_here(path: str) -> bool:
        return os.path.normpath(path) in {os.path.normpath(p) for p in generated}

    folders = [("data.images", config["data"]["images"])]
    for name, spec in config.get("tasks", {}).items():
        if spec.get("path"):
            folders.append((f"tasks.{name}.path", spec["path"]))
        for role, folder in (spec.get("external") or {}).items():
            folders.append((f"tasks.{name}.external.{role}", folder))
    problems = [
        f"{key}: the folder '{folder}' does not exist (paths are relative to the working directory, {os.getcwd()})"
        for key, folder in folders
        if not made_here(folder) and not Path(folder).is_dir()
    ]
    sheet = config["data"]["annotations"]
    files = [("data.annotations", sheet), ("data.metadata", config["data"].get("metadata"))]
    files.append(("predict.images", (config.get("predict") or {}).get("images")))
    for key, path in files:
        if path and not made_here(path) and not Path(path).exists():
            problems.append(f"{key}: '{path}' does not exist")
    if problems:
        raise ConfigError("data the configuration names is missing:\n  " + "\n  ".join(problems))
    if not Path(sheet).is_file():
        return  # generated later in this run (the demo)
    header = set(sheet_header(sheet))
    needed = [("image_id", "every sheet"), ("annotator", "every sheet")]
    needed += [(spec["column"], f"tasks.{name}.column") for name, spec in config.get("tasks", {}).items() if spec["type"] == "binary"]
    needed += [(emotion, "labels.emotions") for emotion in config["labels"]["emotions"]]
    missing = [f"{key}: column '{column}' is not in the header of data.annotations ({sheet})" for column, key in needed if column not in header]
    if missing:
        raise ConfigError(
            "the annotation sheet lacks columns the configuration reads:\n  " + "\n  ".join(missing)
            + f"\n  (columns found: {', '.join(sorted(header))}; fix the key or the sheet's row 1)"
        )
