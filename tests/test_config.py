"""The default config validates against the schema; bad configs fail naming the key."""

from __future__ import annotations

import copy
import re
import subprocess

import pytest
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from images_as_data.common.config import ConfigError, validate_tasks
from images_as_data.common.startup import check_no_effect, check_schema, check_sources, sheet_header

from .conftest import REPO, SNAKEMAKE

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


SCHEMA_PATH = REPO / "config" / "schema.yaml"


@pytest.mark.parametrize(
    "task, key",
    [
        ("protest", "colum"),
        ("legend", "extrnal"),
        ("sadness", "emoton"),
        ("world_leaders", "column"),  # a binary key in a presplit task
        ("protest", "path"),  # a folder key in a binary task
    ],
)
def test_unknown_key_inside_a_task_stops_naming_its_path(task, key):
    config = load_default()
    config["tasks"][task][key] = "fear"
    with pytest.raises(ConfigError, match=rf"tasks\.{task}\.{key}: unknown key; an? \w+ task takes"):
        check_schema(config, SCHEMA_PATH)


def test_unknown_class_of_external_images_stops():
    config = load_default()
    config["tasks"]["legend"]["external"]["postive"] = "x"
    with pytest.raises(ConfigError, match=r"tasks\.legend\.external\.postive: unknown key"):
        check_schema(config, SCHEMA_PATH)


def test_the_repositorys_configs_pass_every_start_up_check():
    for name in ("config/config.yaml", "config/book.yaml", "tests/configs/tiny.yaml"):
        config = yaml.safe_load((REPO / name).read_text())
        check_schema(config, SCHEMA_PATH)
        validate(config, str(SCHEMA_PATH), set_default=True)
        check_no_effect(config, SCHEMA_PATH)


@pytest.mark.parametrize(
    "change, key",
    [
        ({"splits": {"scheme": "train_val", "test_fraction": 0.1}}, "splits.test_fraction"),
        ({"finetune": {"gpu": False, "runs_per_gpu": 4}}, "finetune.runs_per_gpu"),
        ({"autotag": {"sample": "all_labelled", "n_most_shared": 100}}, "autotag.n_most_shared"),
        ({"finetune": {"study": {"task": None, "lr": [0.1]}}}, "finetune.study.lr"),
    ],
)
def test_an_option_without_effect_in_the_chosen_setting_stops(change, key):
    config = load_default()
    for section, values in change.items():
        for name, value in values.items():
            if isinstance(value, dict):
                config[section][name].update(value)
            else:
                config[section][name] = value
    validate(config, str(SCHEMA_PATH), set_default=True)
    with pytest.raises(ConfigError, match=rf"{key} is set .* but has no effect"):
        check_no_effect(config, SCHEMA_PATH)


@pytest.fixture
def own_data(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data" / "raw").mkdir(parents=True)
    (tmp_path / "data" / "labels.csv").write_text("image_id,annotator,protest,fear\n")
    config = {
        "demo": {"generate": False},
        "data": {"images": "data/raw", "annotations": "data/labels.csv", "metadata": None},
        "labels": {"emotions": ["fear"]},
        "tasks": {"protest": {"type": "binary", "column": "protest"}, "fear": {"type": "emotion"}},
    }
    validate(config, str(SCHEMA_PATH), set_default=True)
    return config


def test_own_data_sources_pass(own_data):
    check_sources(own_data, generated=[])


def test_a_task_column_missing_from_the_sheet_stops_naming_the_key(own_data):
    own_data["tasks"]["protest"]["column"] = "protst"
    with pytest.raises(ConfigError, match=r"tasks\.protest\.column: column 'protst' is not in the header"):
        check_sources(own_data, generated=[])


def test_missing_folders_stop_naming_the_key_unless_the_workflow_makes_them(own_data):
    own_data["tasks"]["leaders"] = {"type": "folders", "path": "data/leaders"}
    with pytest.raises(ConfigError, match=r"tasks\.leaders\.path: the folder 'data/leaders' does not exist"):
        check_sources(own_data, generated=[])
    check_sources(own_data, generated=["data/leaders"])


def test_a_windows_sheet_header_is_read(own_data, tmp_path):
    (tmp_path / "data" / "labels.csv").write_bytes("\ufeffimage_id,annotator,protest,fear\r\n".encode("utf-8"))
    check_sources(own_data, generated=[])
    assert sheet_header(tmp_path / "data" / "labels.csv") == ["image_id", "annotator", "protest", "fear"]


@pytest.mark.parametrize(
    "task, message",
    [
        ({"type": "binary", "colum": "protest"}, r"tasks\.protest\.colum: unknown key"),
        ({"type": "binary", "column": "protst"}, r"tasks\.protest\.column: column 'protst' is not in the header"),
    ],
    ids=["typo_in_a_task", "column_missing_from_the_sheet"],
)
def test_snakemake_stops_at_start_up_before_reading_any_image(own_data, tmp_path, task, message):
    config = {key: own_data[key] for key in ("demo", "data", "labels")} | {"tasks": {"protest": task}}
    (tmp_path / "study.yaml").write_text(yaml.safe_dump(config))
    command = [str(SNAKEMAKE), "-n", "--snakefile", str(REPO / "Snakefile"), "--directory", str(tmp_path),
               "--configfile", str(tmp_path / "study.yaml"), "--replace-workflow-config"]  # fmt: skip
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert re.search(message, done.stdout + done.stderr), (done.stdout + done.stderr)[-2000:]
    assert not (tmp_path / "results").exists(), "nothing may be listed or written before the config is checked"
