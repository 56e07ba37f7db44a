"""Provenance sidecars: config hash, data fingerprints, package versions, git state."""

from __future__ import annotations

import hashlib
import json
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import numpy
import pytest

from images_as_data.common import provenance
from images_as_data.common.provenance import (
    NOT_INSTALLED,
    UNKNOWN,
    canonical_json,
    config_sha256,
    file_record,
    file_sha256,
    git_state,
    package_versions,
    single_files,
    write_provenance,
)

from .conftest import REPO

SNAKEMAKE = Path(sys.executable).with_name("snakemake")


def test_config_hash_ignores_key_order_but_not_values():
    config = {"seed": 1, "dedupe": {"hash": "phash", "max_distance": 8}, "tasks": ["a", "b"]}
    reordered = {"tasks": ["a", "b"], "dedupe": {"max_distance": 8, "hash": "phash"}, "seed": 1}
    changed = {"seed": 1, "dedupe": {"hash": "phash", "max_distance": 9}, "tasks": ["a", "b"]}
    assert config_sha256(config) == config_sha256(reordered)
    assert config_sha256(config) != config_sha256(changed)
    assert config_sha256(config) == hashlib.sha256(canonical_json(config).encode()).hexdigest()
    assert canonical_json({"b": 1, "a": [1.5, None]}) == '{"a":[1.5,null],"b":1}'


def test_config_without_json_form_is_refused_naming_the_value():
    with pytest.raises(TypeError, match="set"):
        config_sha256({"labels": {"emotions": {"fear"}}})


def test_file_hash_and_record(tmp_path):
    path = tmp_path / "annotations.csv"
    content = b"image_id,protest\na.jpg,1\n"
    path.write_bytes(content)
    expected = hashlib.sha256(content).hexdigest()
    assert file_sha256(path) == expected
    assert file_record(path) == {"path": str(path), "bytes": len(content), "sha256": expected}


def test_missing_input_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.csv"):
        file_record(tmp_path / "missing.csv")


def test_package_versions_report_installed_and_absent_packages():
    versions = package_versions(("numpy", "no-such-distribution-xyz"))
    assert versions == {
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "no-such-distribution-xyz": NOT_INSTALLED,
    }
    assert set(package_versions()) == {"python", *provenance.RECORDED_PACKAGES}


def test_optional_inputs_arrive_as_lists_of_at_most_one_path():
    assert single_files({"annotations": "a.csv", "metadata": [], "inventory": ["i.csv"]}) == {
        "annotations": "a.csv",
        "inventory": "i.csv",
    }
    with pytest.raises(ValueError, match="'metadata' must be one file"):
        single_files({"metadata": ["m1.csv", "m2.csv"]})


@pytest.fixture
def git_repo(tmp_path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "Snakefile").write_text("rule all:\n")

    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.name=test", "-c", "user.email=test@example.org", *args],
            cwd=repo,
            check=True,
            capture_output=True,
        )

    git("init", "-q")
    git("add", "Snakefile")
    git("commit", "-q", "-m", "first")
    return repo


def test_git_state_of_clean_and_changed_tree(git_repo):
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=git_repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert git_state(git_repo) == {"commit": head, "dirty": False}
    (git_repo / "Snakefile").write_text("rule all:\n    input: []\n")
    assert git_state(git_repo) == {"commit": head, "dirty": True}


def test_git_state_outside_git_is_unknown(tmp_path):
    assert git_state(tmp_path) == {"commit": UNKNOWN, "dirty": UNKNOWN}


def make_inputs(folder: Path) -> dict[str, Path]:
    files = {
        "table": folder / "results/tables/table_7_1.csv",
        "annotations": folder / "data/annotations.csv",
        "metadata": folder / "data/metadata.csv",
        "inventory": folder / "results/inventory/inventory.csv",
    }
    for role, path in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{role}\n1\n")
    return files


def test_sidecar_records_every_input(tmp_path):
    files = make_inputs(tmp_path)
    config = {"seed": 2020, "data": {"annotations": "data/annotations.csv"}}
    out = tmp_path / "results/tables/table_7_1.provenance.json"
    data = {role: path for role, path in files.items() if role != "table"}
    write_provenance(files["table"], out, config, data, repo=tmp_path)

    record = json.loads(out.read_text())
    assert record["table"]["sha256"] == file_sha256(files["table"])
    assert record["config_sha256"] == config_sha256(config)
    assert record["config"] == config
    assert {role: entry["sha256"] for role, entry in record["data"].items()} == {
        role: file_sha256(path) for role, path in data.items()
    }
    assert record["packages"]["numpy"] == numpy.__version__
    assert record["git"] == {"commit": UNKNOWN, "dirty": UNKNOWN}
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".")] == []


def test_sidecar_changes_when_the_data_changes(tmp_path):
    files = make_inputs(tmp_path)
    data = {role: path for role, path in files.items() if role != "table"}
    out = tmp_path / "sidecar.json"
    before = write_provenance(files["table"], out, {"seed": 1}, data, repo=tmp_path)
    files["inventory"].write_text("inventory\n2\n")
    after = write_provenance(files["table"], out, {"seed": 1}, data, repo=tmp_path)
    assert before["data"]["inventory"]["sha256"] != after["data"]["inventory"]["sha256"]
    assert before["data"]["annotations"] == after["data"]["annotations"]


@pytest.mark.skipif(not SNAKEMAKE.exists(), reason=f"{SNAKEMAKE} is not installed")
def test_provenance_rule_writes_the_sidecar(tmp_path):
    """The rule and its script, run by Snakemake on hand-made inputs."""
    files = make_inputs(tmp_path)
    (tmp_path / "config.yaml").write_text(
        "data:\n  images: data/raw\n  annotations: data/annotations.csv\n  metadata: data/metadata.csv\n"
        "labels:\n  emotions: []\ntasks: {}\n"
    )
    (tmp_path / "Snakefile").write_text(
        'from snakemake.utils import validate\n'
        'configfile: "config.yaml"\n'
        f'validate(config, "{REPO / "config" / "schema.yaml"}", set_default=True)\n'
        f'include: "{REPO / "rules" / "common.smk"}"\n'
        f'include: "{REPO / "rules" / "prepare.smk"}"\n'
        f'include: "{REPO / "rules" / "provenance.smk"}"\n'
    )
    target = "results/tables/table_7_1.provenance.json"
    done = subprocess.run(
        [str(SNAKEMAKE), "--cores", "1", "--workflow-profile", "none", target],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    record = json.loads((tmp_path / target).read_text())
    assert set(record["data"]) == {"annotations", "metadata", "inventory"}
    assert record["table"]["sha256"] == file_sha256(files["table"])
    assert record["config"]["data"]["metadata"] == "data/metadata.csv"
    assert (tmp_path / "results/logs/provenance/table_7_1.log").exists()
