"""The conda environments in envs/: exact pins that agree with requirements.txt, and each
rule's environment holds every package its script (and the package code it uses) imports."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from functools import cache
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from .conftest import REPO

ENVS = REPO / "envs"
ENV_FILES = sorted(ENVS.glob("*.yaml"))
EXPECTED_ENVS = {"imaging.yaml", "training.yaml", "aws.yaml", "plotting.yaml", "taggers.yaml"}
# conda-forge names whose PyPI name differs (matplotlib-base is matplotlib without Qt).
CONDA_TO_PYPI = {"pytorch": "torch", "matplotlib-base": "matplotlib", "opencv": "opencv-python-headless"}
# PyPI wheels whose version adds a build number to the library's: opencv-python-headless
# 4.13.0.92 is OpenCV 4.13.0, conda-forge's opencv=4.13.0.
WHEEL_BUILD_NUMBERS = {"opencv-python-headless"}
EXACT_PIN = re.compile(r"^(?P<name>[A-Za-z0-9_.-]+)=(?P<version>[0-9][A-Za-z0-9_.+!]*)$")
# Importable in every rule environment without being installed there: Snakemake's script
# preamble appends its own sys.path, which holds Snakemake and the Snakefile's folder (the
# repository root, home of images_as_data); test_script_jobs_import_the_workflow_package.
PROVIDED = {"images_as_data", "snakemake"}
# Modules that libraries import on demand: pandas' DataFrame.to_markdown needs tabulate.
ON_DEMAND = {".to_markdown(": "tabulate"}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements() -> dict[str, str]:
    """requirements.txt as {normalised name: exact version}."""
    pins = {}
    for line in (REPO / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            req = Requirement(line)
            (spec,) = req.specifier
            assert spec.operator == "==", f"requirements.txt: {line} is not an exact == pin"
            pins[normalise(req.name)] = spec.version
    return pins


def env_pins(path: Path) -> dict[str, str]:
    """An environment file's conda dependencies as {conda name: version}; fails on loose pins."""
    spec = yaml.safe_load(path.read_text())
    pins = {}
    for dep in spec["dependencies"]:
        assert isinstance(dep, str), f"{path.name}: {dep!r}: pip sections are not used (see README)"
        match = EXACT_PIN.match(dep)
        assert match, f"{path.name}: '{dep}' is not an exact pin name=version"
        pins[match["name"]] = match["version"]
    return pins


def test_the_five_environments_exist():
    assert {path.name for path in ENV_FILES} == EXPECTED_ENVS


@pytest.mark.parametrize("path", ENV_FILES, ids=lambda path: path.name)
def test_environment_pins_are_exact_and_match_requirements(path):
    spec = yaml.safe_load(path.read_text())
    assert spec["channels"][0] == "conda-forge", f"{path.name}: conda-forge must be the first channel"
    assert "defaults" not in spec["channels"], f"{path.name}: the defaults channel mixes builds"
    pins = env_pins(path)
    required = requirements()
    for name, version in pins.items():
        if name == "python":
            continue
        pypi = normalise(CONDA_TO_PYPI.get(name, name))
        assert pypi in required, f"{path.name}: {name} is not pinned in requirements.txt"
        wheel_build = pypi in WHEEL_BUILD_NUMBERS and required[pypi].rsplit(".", 1)[0] == version
        assert version == required[pypi] or wheel_build, (
            f"{path.name}: {name}={version} but requirements.txt has {required[pypi]}"
        )


@pytest.mark.parametrize("path", ENV_FILES, ids=lambda path: path.name)
def test_environment_python_fits_the_project(path):
    python = env_pins(path).get("python")
    assert python, f"{path.name}: pin python (the script preamble unpickles with it)"
    project = (REPO / "pyproject.toml").read_text()
    requires = re.search(r'^requires-python\s*=\s*"([^"]+)"', project, re.MULTILINE)[1]
    assert SpecifierSet(requires).contains(python), f"{path.name}: python={python} is outside {requires}"
    assert python == f"{sys.version_info.major}.{sys.version_info.minor}", (
        f"{path.name}: python={python} differs from the tested interpreter"
    )


# --- which rule uses which environment, and what its script imports -----------------

RULE = re.compile(r"^(?P<indent>[ ]*)rule (?P<name>\w+):[ ]*$", re.MULTILINE)
DIRECTIVE = r"^{indent}    {key}:\s*\n\s*\"(?P<value>[^\"]+)\""


def rule_blocks(smk: Path) -> dict[str, str]:
    """Each rule's text in a .smk file (up to the next line indented no deeper than it)."""
    text = smk.read_text()
    blocks = {}
    for match in RULE.finditer(text):
        indent = match["indent"]
        end = re.compile(rf"^(?!{indent}[ ]|$)", re.MULTILINE).search(text, match.end() + 1)
        blocks[match["name"]] = (indent, text[match.start() : end.start() if end else len(text)])
    return blocks


def rule_envs_and_scripts() -> dict[str, tuple[Path | None, Path | None]]:
    """rule -> (conda env file, script), paths resolved like Snakemake (from rules/)."""
    found = {}
    for smk in sorted((REPO / "rules").glob("*.smk")):
        for name, (indent, block) in rule_blocks(smk).items():
            paths = []
            for key in ("conda", "script"):
                match = re.search(DIRECTIVE.format(indent=indent, key=key), block, re.MULTILINE)
                paths.append((smk.parent / match["value"]).resolve() if match else None)
            found[name] = tuple(paths)
    return found


def module_file(module: str, root: Path = REPO) -> Path | None:
    """The file of an images_as_data module under ``root``, or None for anything else."""
    if module.split(".")[0] != "images_as_data":
        return None
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def imported_modules(path: Path, root: Path = REPO) -> set[str]:
    """Absolute names of every module a file imports anywhere (lazy and on-demand imports too)."""
    in_package = path.is_relative_to(root / "images_as_data")
    package = path.parent.relative_to(root).parts if in_package else ()
    text = path.read_text()
    names = {module for call, module in ON_DEMAND.items() if call in text}
    for node in ast.walk(ast.parse(text, filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: one level up per dot after the first
                parts = list(package[: len(package) - node.level + 1])
                base = ".".join(parts + ([node.module] if node.module else []))
            else:
                base = node.module
            names.add(base)
            names.update(f"{base}.{name.name}" for name in node.names if module_file(f"{base}.{name.name}", root))
    return names


@cache
def third_party_imports(script: Path, root: Path = REPO) -> frozenset[str]:
    """Top-level third-party modules a script needs, following images_as_data modules."""
    seen: set[Path] = set()
    todo = [script]
    top_level: set[str] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for module in imported_modules(path, root):
            parts = module.split(".")
            for depth in range(1, len(parts) + 1):  # parent packages' __init__ run first
                inner = module_file(".".join(parts[:depth]), root)
                if inner:
                    todo.append(inner)
            top_level.add(parts[0])
    return frozenset(top_level - set(sys.stdlib_module_names) - PROVIDED - {"__future__"})


@cache
def module_distributions() -> dict[str, list[str]]:
    return packages_distributions()


def conda_name_of(module: str) -> set[str]:
    """conda-forge names that provide an importable top-level module."""
    distributions = module_distributions().get(module)
    assert distributions, f"module {module} is imported but installed nowhere in the test environment"
    pypi_to_conda = {pypi: conda for conda, pypi in CONDA_TO_PYPI.items()}
    names = set()
    for dist in distributions:
        pypi = normalise(dist)
        names |= {pypi, pypi_to_conda.get(pypi, pypi)}
    if "matplotlib" in names:
        names.add("matplotlib-base")
    return names


RULES = rule_envs_and_scripts()
SCRIPT_RULES = sorted(name for name, (env, script) in RULES.items() if script is not None)


def test_every_script_rule_has_an_environment_and_every_environment_is_used():
    without = [name for name in SCRIPT_RULES if RULES[name][0] is None]
    assert not without, f"rules without conda: {without}"
    missing = sorted({str(env) for env, _ in RULES.values() if env is not None and not env.exists()})
    assert not missing, f"conda: files that do not exist: {missing}"
    used = {env.name for env, _ in RULES.values() if env is not None}
    assert used == EXPECTED_ENVS, f"environments no rule uses: {EXPECTED_ENVS - used}"


@pytest.mark.parametrize("rule", SCRIPT_RULES)
def test_rule_environment_provides_what_its_script_imports(rule):
    env, script = RULES[rule]
    if env is None or not env.exists():
        pytest.fail(f"rule {rule} has no existing conda environment")
    assert script.exists(), f"rule {rule}: script {script} does not exist"
    pins = env_pins(env)
    missing = sorted(
        module for module in third_party_imports(script) if not conda_name_of(module) & set(pins)
    )
    assert not missing, f"rule {rule} ({script.name}) imports {missing}, which {env.name} lacks"


def test_script_jobs_import_the_workflow_package(tmp_path):
    """A script job imports a package that sits beside the Snakefile and is installed
    nowhere: how conda environments (--sdm conda) get images_as_data."""
    snakemake = Path(sys.executable).with_name("snakemake")
    if not snakemake.exists():
        pytest.skip(f"{snakemake} is not installed")
    (tmp_path / "beside_snakefile_pkg").mkdir()
    (tmp_path / "beside_snakefile_pkg" / "__init__.py").write_text("WHERE = __file__\n")
    (tmp_path / "job.py").write_text(
        "import beside_snakefile_pkg\nopen(snakemake.output[0], 'w').write(beside_snakefile_pkg.WHERE)\n"
    )
    (tmp_path / "Snakefile").write_text('rule job:\n    output: "out.txt"\n    script: "job.py"\n')
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    done = subprocess.run(
        [str(snakemake), "-s", str(tmp_path / "Snakefile"), "-d", str(workdir), "-c1", "--workflow-profile", "none"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert (workdir / "out.txt").read_text() == str(tmp_path / "beside_snakefile_pkg" / "__init__.py")


def test_import_walk_follows_the_package(tmp_path):
    """Relative, lazy and on-demand imports two package modules away from the script count."""
    package = tmp_path / "images_as_data"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("from .leaf import table\n")
    (package / "sub" / "leaf.py").write_text("import numpy\nfrom ..other import table\n")
    (package / "other.py").write_text("def table(frame):\n    import PIL.Image\n    return frame.to_markdown()\n")
    script = tmp_path / "script.py"
    script.write_text("import json\nfrom images_as_data.sub import table\n")
    assert third_party_imports(script, tmp_path) == {"numpy", "PIL", "tabulate"}
