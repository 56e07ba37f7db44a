"""Shared test helpers, and `tiny_run`: one end-to-end run of the whole workflow per session."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
TINY_CONFIG = REPO / "tests" / "configs" / "tiny.yaml"
# What a copy of the workflow leaves out: outputs, caches and environments of this checkout.
NOT_WORKFLOW = (".git", ".venv", ".ci", "results", "resources", ".snakemake", ".pytest_cache",
                "__pycache__", "*.egg-info", "bench", "tests")  # fmt: skip
WORKFLOW_TIMEOUT_S = 1200


@pytest.fixture
def repo() -> Path:
    return REPO


@pytest.fixture
def shared_fixtures() -> Path:
    """The recorded real data in ../shared/fixtures; skip where a clone has none."""
    path = SHARED / "fixtures"
    if not path.is_dir():
        pytest.skip(f"{path} is absent (only the project's own machines have ../shared)")
    return path


def copy_workflow(destination: Path) -> Path:
    """A copy of this repository's workflow (Snakefile, rules, scripts, package, config,
    captions) without outputs: runs and edits there leave the checkout alone."""
    shutil.copytree(REPO, destination, ignore=shutil.ignore_patterns(*NOT_WORKFLOW))
    return destination


def run_snakemake(workdir: Path, configfile: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Snakemake on the workflow copy in `workdir`, with `configfile` as the whole config
    (--replace-workflow-config: not merged into config/config.yaml)."""
    command = [str(SNAKEMAKE), "--snakefile", str(workdir / "Snakefile"), "--directory", str(workdir),
               "--configfile", str(configfile), "--replace-workflow-config", *args]  # fmt: skip
    return subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=timeout)


@dataclass(frozen=True)
class WorkflowRun:
    """A finished run of the default target on tests/configs/tiny.yaml. Treat it as read-only:
    tests that change files work on `clone()`."""

    workdir: Path
    configfile: Path
    log: str
    seconds: float
    second_pass_log: str

    @property
    def results(self) -> Path:
        return self.workdir / "results"

    def snakemake(self, *args: str, configfile: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
        return run_snakemake(self.workdir, configfile or self.configfile, *args, timeout=timeout)

    def clone(self, destination: Path) -> WorkflowRun:
        """The run (workflow, results and Snakemake's metadata) as hard links, which keep every
        time stamp, so a dry run there sees the same state. Replace a file (write a new one)
        to change it; editing a linked file in place would change the original too."""
        shutil.copytree(self.workdir, destination, symlinks=True, copy_function=os_link)
        return WorkflowRun(destination, self.configfile, self.log, self.seconds, self.second_pass_log)


def os_link(source: str, destination: str) -> None:
    Path(destination).hardlink_to(source)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> WorkflowRun:
    """The whole default DAG (`all`) on the tiny demo config, on 2 cores, in a copy of the workflow.

    A second pass checks that the first left nothing to do.
    """
    if not SNAKEMAKE.exists():
        pytest.skip(f"{SNAKEMAKE} is not installed (run install.sh)")
    workdir = copy_workflow(tmp_path_factory.mktemp("tiny_run") / "workflow")
    started = time.monotonic()
    first = run_snakemake(workdir, TINY_CONFIG, "--cores", "2", timeout=WORKFLOW_TIMEOUT_S)
    seconds = time.monotonic() - started
    if first.returncode != 0:
        pytest.fail(f"the tiny workflow run failed after {seconds:.0f} s:\n{first.stderr[-6000:]}")
    second = run_snakemake(workdir, TINY_CONFIG, "--cores", "2")
    if second.returncode != 0:
        pytest.fail(f"the second pass of the tiny workflow failed:\n{second.stderr[-6000:]}")
    print(f"\ntiny workflow run: {seconds:.0f} s")
    return WorkflowRun(workdir, TINY_CONFIG, first.stderr, seconds, second.stderr)


@contextlib.contextmanager
def torch_threads(n: int):
    """Run a block with torch limited to n threads (tests share 2 cores), then restore."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
