"""Lint and format: `snakemake --lint` finds nothing, snakefmt would change nothing, and the
config schema documents every key (a description, and a default where one makes sense)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from .conftest import REPO

BIN = Path(sys.executable).parent
SNAKEMAKE_FILES = [REPO / "Snakefile", *sorted((REPO / "rules").glob("*.smk"))]


def run_tool(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    tool = BIN / args[0]
    if not tool.exists():
        pytest.skip(f"{tool} is not installed (run install.sh)")
    return subprocess.run([str(tool), *args[1:]], cwd=cwd, capture_output=True, text=True, timeout=300)


def lint_messages(output: str) -> list[str]:
    """'<what>: <lint title>' for each lint in `snakemake --lint` text output.

    (Snakemake 9.27's command line ignores `--lint json`, so the text is parsed.)
    """
    messages, subject = [], "?"
    for line in output.splitlines():
        header = re.match(r"^Lints for (.+?):$", line)
        bullet = re.match(r"^    \* (.+?):?$", line)
        if header:
            subject = header[1]
        elif bullet:
            messages.append(f"{subject}: {bullet[1]}")
    return messages


def lay_out_named_data(configfile: Path, root: Path) -> Path:
    """Empty folders and a header-only annotation sheet at the paths ``configfile`` names."""
    config = yaml.safe_load(configfile.read_text())
    data, tasks = config.get("data", {}), config.get("tasks", {}) or {}
    folders = [data.get("images", "data/images")]
    for spec in tasks.values():
        folders += [spec["path"]] if spec.get("path") else []
        folders += list((spec.get("external") or {}).values())
    for folder in folders:
        (root / folder).mkdir(parents=True, exist_ok=True)
    columns = ["image_id", "annotator", "protest", "legend", "fear", "anger", "disgust", "sadness", "enthusiasm"]
    columns += [spec["column"] for spec in tasks.values() if spec.get("type") == "binary"]
    columns += (config.get("labels") or {}).get("emotions") or []
    sheet = root / data.get("annotations", "data/annotations.csv")
    sheet.parent.mkdir(parents=True, exist_ok=True)
    sheet.write_text(",".join(dict.fromkeys(columns)) + "\n")
    if data.get("metadata"):
        (root / data["metadata"]).parent.mkdir(parents=True, exist_ok=True)
        (root / data["metadata"]).write_text("image_id,url,shares\n")
    return root


@pytest.mark.parametrize("configfile", [None, "config/book.yaml", "config/own_data.yaml"])
def test_snakemake_lint_reports_nothing(configfile, tmp_path):
    """With the demo config, the book's and the own-data starter (rules defined only for some
    configs, such as fetch_weights for ImageNet weights, are linted too). The start-up checks
    want the data a config names, so empty stand-ins are laid out for the book and own-data
    configs in a scratch working directory."""
    config = ["--configfile", str(REPO / configfile), "--directory", str(lay_out_named_data(REPO / configfile, tmp_path))] if configfile else []
    done = run_tool("snakemake", "--lint", "--snakefile", str(REPO / "Snakefile"), *config)
    output = done.stdout + done.stderr
    messages = lint_messages(output)
    assert not messages, "snakemake --lint:\n" + "\n".join(messages)
    assert done.returncode == 0, output[-3000:]


def test_lint_output_is_parsed():
    output = (
        "Lints for snakefile rules/a.smk:\n    * Mixed rules and functions in same snakefile.:\n"
        "      Small one-liner functions ...\n\n"
        "Lints for rule b (line 3, rules/b.smk):\n    * Param stem is a prefix of input:\n      body\n"
    )
    assert lint_messages(output) == [
        "snakefile rules/a.smk: Mixed rules and functions in same snakefile.",
        "rule b (line 3, rules/b.smk): Param stem is a prefix of input",
    ]


def test_snakefmt_would_change_nothing():
    done = run_tool("snakefmt", "--check", *map(str, SNAKEMAKE_FILES))
    if done.returncode != 0:
        diff = run_tool("snakefmt", "--diff", *map(str, SNAKEMAKE_FILES)).stdout
        changed = re.findall(r"^=====> Diff for (.+) <=====$", diff, re.MULTILINE)
        pytest.fail(f"snakefmt would reformat {changed} (run: snakefmt Snakefile rules/):\n{diff[:4000]}")


# --- the config schema documents every key -----------------------------------------------


def test_ruff_finds_nothing():
    """Python style and import order (settings in pyproject.toml; scripts/ may use the
    `snakemake` object Snakemake injects)."""
    done = run_tool("ruff", "check", "--no-cache", ".")
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]


def test_no_per_line_noqa_for_the_snakemake_object():
    offenders = [str(path.relative_to(REPO)) for path in sorted((REPO / "scripts").glob("*.py")) if "noqa: F821" in path.read_text()]
    assert not offenders, f"scripts with per-line noqa (pyproject.toml ignores F821 for scripts/): {offenders}"


def conditionally_required(schema: dict[str, Any]) -> set[str]:
    """Keys required only in some cases (if/then inside allOf, or a bare then)."""
    names: set[str] = set()
    for branch in [schema, *schema.get("allOf", [])]:
        names.update(branch.get("then", {}).get("required", []))
    return names


def undocumented_keys(schema: dict[str, Any], path: str = "", per_entry: bool = False) -> Iterator[str]:
    """Problems with the documentation of ``schema``'s keys, as 'dotted.key: problem'.

    Every key needs a description. Every key needs a default too, except keys that are
    required (the user must give them) and keys inside the entries of a user-named map
    such as tasks.<name>, where the entry's type decides which keys apply.
    """
    must_be_given = set(schema.get("required", [])) | conditionally_required(schema)
    for name, spec in schema.get("properties", {}).items():
        key = f"{path}.{name}" if path else name
        if not str(spec.get("description", "")).strip():
            yield f"{key}: no description"
        if "default" not in spec and name not in must_be_given and not per_entry:
            yield f"{key}: no default"
        yield from undocumented_keys(spec, key, per_entry)
    entries = schema.get("additionalProperties")
    if isinstance(entries, dict):
        yield from undocumented_keys(entries, f"{path}.<name>", per_entry=True)
    items = schema.get("items")
    if isinstance(items, dict):
        yield from undocumented_keys(items, f"{path}[]")


def test_config_schema_documents_every_key():
    schema = yaml.safe_load((REPO / "config" / "schema.yaml").read_text())
    problems = list(undocumented_keys(schema))
    assert not problems, "config/schema.yaml:\n" + "\n".join(problems)


def test_schema_walk_finds_undocumented_keys():
    schema = {
        "type": "object",
        "properties": {
            "ok": {"type": "integer", "description": "Fine.", "default": 1},
            "bare": {"type": "integer"},
            "section": {
                "type": "object",
                "description": "A section.",
                "default": {},
                "properties": {"inner": {"type": "string", "description": "No default."}},
            },
            "tasks": {
                "type": "object",
                "description": "User-named entries.",
                "default": {},
                "additionalProperties": {
                    "type": "object",
                    "required": ["type"],
                    "properties": {
                        "type": {"type": "string", "description": "Required: no default needed."},
                        "column": {"type": "string", "description": "Per-entry key."},
                        "path": {"type": "string"},
                        "external": {
                            "type": "object",
                            "description": "Nested in an entry.",
                            "properties": {"positive": {"type": "string"}},
                        },
                    },
                },
            },
        },
    }
    assert list(undocumented_keys(schema)) == [
        "bare: no description",
        "bare: no default",
        "section.inner: no default",
        "tasks.<name>.path: no description",
        "tasks.<name>.external.positive: no description",
    ]
