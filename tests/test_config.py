"""The default config validates against the schema; bad configs fail naming the key."""

from __future__ import annotations

import copy

import pytest
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from images_as_data.common.config import ConfigError, validate_tasks

from .conftest import REPO

SCHEMA = str(REPO / "config" / "schema.yaml")


def load_default() -> dict:
    return yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def test_default_config_is_valid_and_defaults_fill_in():
    config = load_default()
    del config["inventory"]["min_bytes"]
    validate(config, SCHEMA, set_default=True)
    assert config["inventory"]["min_bytes"] == 5000
    assert "protest" in validate_tasks(config)


def test_unknown_key_is_named():
    config = load_default()
    config["dedupe"]["max_distnce"] = 4
    with pytest.raises(WorkflowError, match="max_distnce"):
        validate(config, SCHEMA, set_default=True)


def test_binary_task_without_column_is_rejected():
    config = load_default()
    config["tasks"]["protest"] = {"type": "binary"}
    with pytest.raises(WorkflowError, match="column"):
        validate(config, SCHEMA, set_default=True)


def test_emotion_task_must_name_a_known_emotion():
    config = load_default()
    validate(config, SCHEMA, set_default=True)
    config["tasks"]["joy"] = {"type": "emotion"}
    with pytest.raises(ConfigError, match="tasks.joy"):
        validate_tasks(config)


def test_split_fractions_must_add_up():
    config = load_default()
    validate(config, SCHEMA, set_default=True)
    broken = copy.deepcopy(config)
    broken["splits"].update(scheme="train_val_test", train_fraction=0.8, val_fraction=0.1, test_fraction=0.2)
    with pytest.raises(ConfigError, match="add up"):
        validate_tasks(broken)
