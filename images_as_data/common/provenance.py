"""Provenance sidecars: what produced a results table (config, data, software, code)."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any, Mapping, Sequence

from .atomic import write_text
from .hashing import file_sha256

# Distribution names (as pip knows them) whose versions every sidecar records.
RECORDED_PACKAGES = (
    "torch",
    "torchvision",
    "snakemake",
    "pandas",
    "pillow",
    "imagehash",
    "numpy",
    "scikit-learn",
    "boto3",
)
NOT_INSTALLED = "not installed"
UNKNOWN = "unknown"
SIDECAR_VERSION = 1


def canonical_json(value: Any) -> str:
    """Serialise ``value`` so that equal configs give identical text (sorted keys, no spaces)."""

    def refuse(obj: Any) -> Any:
        raise TypeError(
            f"config value {obj!r} of type {type(obj).__name__} has no JSON form; "
            "use strings, numbers, booleans, lists and mappings in the config"
        )

    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=refuse)


def config_sha256(config: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON of the (validated, defaults filled in) config."""
    return hashlib.sha256(canonical_json(dict(config)).encode("utf-8")).hexdigest()



def file_record(path: str | os.PathLike) -> dict[str, Any]:
    """Path, size and sha256 of one input file."""
    file_path = Path(path)
    if not file_path.is_file():
        raise FileNotFoundError(f"provenance input {file_path} does not exist or is not a file")
    return {"path": str(path), "bytes": file_path.stat().st_size, "sha256": file_sha256(file_path)}


def package_versions(names: tuple[str, ...] = RECORDED_PACKAGES) -> dict[str, str]:
    """Installed version of each distribution (and of Python), 'not installed' when absent."""
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = NOT_INSTALLED
    return versions


def _git(repo: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def git_state(repo: str | os.PathLike) -> dict[str, Any]:
    """Commit of the workflow repository and whether its tree differs from it.

    Outside a git checkout (or without git) both are "unknown". Untracked files that
    git does not ignore count as changes: a new script can change results too.
    """
    repo_path = Path(repo)
    commit = _git(repo_path, "rev-parse", "HEAD")
    status = _git(repo_path, "status", "--porcelain") if commit else None
    if commit is None or status is None:
        return {"commit": UNKNOWN, "dirty": UNKNOWN}
    return {"commit": commit.strip(), "dirty": bool(status.strip())}


PathOrPaths = str | os.PathLike | Sequence[str | os.PathLike]


def single_files(data_files: Mapping[str, PathOrPaths]) -> dict[str, str | os.PathLike]:
    """One path per role. Optional inputs (the metadata CSV) come as a list of zero or one
    path from Snakemake: an empty list drops the role, a one-path list is unwrapped."""
    files = {}
    for role, value in data_files.items():
        if isinstance(value, (str, os.PathLike)):
            files[role] = value
        elif len(value) == 1:
            files[role] = value[0]
        elif len(value) > 1:
            raise ValueError(f"provenance input '{role}' must be one file, got {list(value)}")
    return files


def build_provenance(
    table: str | os.PathLike,
    config: Mapping[str, Any],
    data_files: Mapping[str, PathOrPaths],
    repo: str | os.PathLike,
) -> dict[str, Any]:
    """The sidecar's content for ``table``.

    ``data_files`` names the inputs that fingerprint the raw data (annotations and
    metadata CSVs, the inventory of every raw image with its sha256) by role.
    """
    data_files = single_files(data_files)
    return {
        "sidecar_version": SIDECAR_VERSION,
        "table": file_record(table),
        "config_sha256": config_sha256(config),
        "config": json.loads(canonical_json(dict(config))),
        "data": {role: file_record(path) for role, path in sorted(data_files.items())},
        "packages": package_versions(),
        "platform": {"system": platform.system(), "machine": platform.machine()},
        "git": git_state(repo),
    }


def write_provenance(
    table: str | os.PathLike,
    output: str | os.PathLike,
    config: Mapping[str, Any],
    data_files: Mapping[str, PathOrPaths],
    repo: str | os.PathLike,
) -> dict[str, Any]:
    """Write ``table``'s provenance sidecar as indented JSON to ``output`` (atomically)."""
    record = build_provenance(table, config, data_files, repo)
    write_text(json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n", output)
    return record
