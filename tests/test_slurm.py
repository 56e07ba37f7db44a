"""A real single-node SLURM runs a slice of the workflow with `--profile profiles/slurm`.

tests/slurm/start_slurm.sh starts munged, slurmctld and slurmd as root (no systemd,
no accounting) from tests/slurm/slurm.conf.in and gres.conf, with one pretend GPU; the
workflow then runs in a temporary folder with tests/slurm/config.yaml. Needs root and
the Debian packages slurmctld, slurmd, slurm-client and munge (.ci/run installs them).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import REPO

SLURM_DIR = REPO / "tests" / "slurm"
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
SLURM_TOOLS = ("munged", "slurmctld", "slurmd", "sbatch", "srun", "squeue", "scontrol", "sinfo", "scancel")

# The slice of the DAG run under SLURM (paths relative to the run folder). Extend it as
# stages land; every job it needs, except localrules, must run as a SLURM job.
SLURM_TARGETS = [
    "results/splits/protest.csv",
    "results/finetune/protest/lr0.01_m0.9_b8/seed1/summary.json",
    "results/tables/table_7_1.provenance.json",
]
# Rules that must appear among the SLURM jobs of that slice.
SLURM_RULES = {
    "demo_corpus",
    "inventory_shard",  # tests/slurm/config.yaml: inventory.shards 2, each shard its own job
    "inventory",
    "dedupe",
    "working_images",
    "aggregate_annotations_for",  # one task's columns of the sheet
    "task_labels",
    "splits",
    "finetune_store",
    "finetune_run",
    "table_7_1",
    "provenance",
}
# Rules that ask for a GPU (resources gpu=1) and go to the test cluster's gpu partition.
GPU_RULES = {"finetune_run"}
WORKFLOW_TIMEOUT_S = 900

pytestmark = [pytest.mark.slurm, pytest.mark.slow]


def skip_reason() -> str | None:
    """Why this machine cannot run a private SLURM, or None when it can."""
    if os.name != "posix" or os.geteuid() != 0:
        return "needs root to start munged/slurmctld/slurmd (run as root, as .ci/run does)"
    missing = [tool for tool in SLURM_TOOLS if shutil.which(tool) is None]
    if missing:
        return (
            f"SLURM is not installed (missing {', '.join(missing)}); "
            "install with: apt-get install -y slurmctld slurmd slurm-client munge"
        )
    if not SNAKEMAKE.exists():
        return f"{SNAKEMAKE} is not installed (run install.sh)"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Cluster:
    state: Path
    env: dict[str, str]

    def run(self, *args: str) -> str:
        done = subprocess.run(args, env=self.env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"{' '.join(args)} failed: {done.stderr}"
        return done.stdout

    def job(self, job_id: str) -> dict[str, str]:
        """`scontrol show job` of one job as a dict (values cut at the first space)."""
        line = self.run("scontrol", "show", "job", "--oneliner", job_id)
        return dict(re.findall(r"(\S+?)=(\S*)", line))

    def wait_until_done(self, job_id: str, timeout_s: float = 120) -> dict[str, str]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            fields = self.job(job_id)
            if fields["JobState"] not in {"PENDING", "CONFIGURING", "RUNNING", "COMPLETING"}:
                return fields
            time.sleep(1)
        raise AssertionError(f"SLURM job {job_id} did not finish within {timeout_s} s: {fields}")


def daemon_pids(state: Path) -> list[int]:
    pid_files = [state / "slurmd.pid", state / "slurmctld.pid", state / "munge" / "munged.pid"]
    return [int(path.read_text()) for path in pid_files if path.exists() and path.read_text().strip()]


def is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Cluster:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    state = tmp_path_factory.mktemp("slurm")
    env = dict(os.environ)
    env.update(SLURM_TEST_CTLD_PORT=str(free_port()), SLURM_TEST_SLURMD_PORT=str(free_port()))
    env.pop("SLURM_CONF", None)
    started = subprocess.run(
        ["bash", str(SLURM_DIR / "start_slurm.sh"), str(state)],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    try:
        assert started.returncode == 0, f"start_slurm.sh failed:\n{started.stdout}\n{started.stderr}"
        env["SLURM_CONF"] = started.stdout.strip().splitlines()[-1]
        # The job step's nested srun loses SLURM_CONF; state/bin/srun restores it.
        env["PATH"] = f"{state / 'bin'}{os.pathsep}{env['PATH']}"
        yield Cluster(state, env)
    finally:
        pids = daemon_pids(state)
        if "SLURM_CONF" in env:
            subprocess.run(["scancel", "--user", str(os.geteuid())], env=env, capture_output=True, timeout=60)
        subprocess.run(["bash", str(SLURM_DIR / "stop_slurm.sh"), str(state)], capture_output=True, timeout=120)
        still_running = [pid for pid in pids if is_running(pid)]
        assert not still_running, f"daemons still running after stop_slurm.sh: {still_running}"


def test_gpu_job_runs_on_the_test_cluster(cluster):
    """The harness itself: a plain sbatch asking for the GPU runs on the gpu partition."""
    log = cluster.state / "gpu_job.log"
    job_id = cluster.run(
        "sbatch", "--parsable", "--partition", "gpu", "--gpus=1", "--mem", "100", "--time", "2",
        "--output", str(log), "--wrap", 'echo "job=$SLURM_JOB_ID gpus=$SLURM_GPUS_ON_NODE"',
    ).strip()
    fields = cluster.wait_until_done(job_id)
    assert fields["JobState"] == "COMPLETED", fields
    assert fields["Partition"] == "gpu"
    assert "gpu:1" in fields["TresPerJob"]
    assert log.read_text().split() == [f"job={job_id}", "gpus=1"]


SUBMITTED = re.compile(r"^Job (\d+) has been submitted with SLURM jobid (\d+) \(log: (.+)\)\.$", re.MULTILINE)
JOB_BLOCK = re.compile(r"^(local)?rule (\w+):\n(?:    .*\n)*?    jobid: (\d+)$", re.MULTILINE)
RUN_ID = re.compile(r"^SLURM run ID: (\S+)$", re.MULTILINE)


@dataclass
class SlurmJob:
    rule: str
    slurm_id: str
    log: Path


def slurm_jobs_of(log_text: str) -> tuple[list[SlurmJob], list[str], str]:
    """From Snakemake's output: jobs submitted to SLURM, rules run locally, the run id."""
    blocks = {jobid: (rule, bool(local)) for local, rule, jobid in JOB_BLOCK.findall(log_text)}
    submitted = {jobid: (slurm_id, Path(log)) for jobid, slurm_id, log in SUBMITTED.findall(log_text)}
    outside = [rule for jobid, (rule, local) in blocks.items() if not local and jobid not in submitted]
    assert not outside, f"rules that ran neither under SLURM nor as localrules: {outside}"
    jobs = [SlurmJob(blocks[jobid][0], slurm_id, log) for jobid, (slurm_id, log) in submitted.items()]
    local = sorted(rule for rule, is_local in blocks.values() if is_local)
    run_id = RUN_ID.search(log_text)
    assert run_id, "Snakemake printed no 'SLURM run ID'"
    return jobs, local, run_id.group(1)


def test_workflow_slice_runs_under_slurm(cluster, tmp_path):
    workdir = tmp_path / "run"
    workdir.mkdir()
    command = [
        str(SNAKEMAKE),
        "--snakefile", str(REPO / "Snakefile"),
        "--directory", str(workdir),
        "--configfile", str(SLURM_DIR / "config.yaml"),
        "--profile", str(REPO / "profiles" / "slurm"),
        "--profile", str(SLURM_DIR / "profile"),
        *SLURM_TARGETS,
    ]
    output = workdir / "snakemake.out"
    started = time.monotonic()
    with output.open("w") as out:
        done = subprocess.run(
            command, cwd=workdir, env=cluster.env, stdout=out, stderr=subprocess.STDOUT, timeout=WORKFLOW_TIMEOUT_S
        )
    elapsed = time.monotonic() - started
    text = output.read_text()
    assert done.returncode == 0, f"snakemake failed after {elapsed:.0f} s:\n{text[-6000:]}"
    for target in SLURM_TARGETS:
        assert (workdir / target).exists(), f"{target} was not made"

    jobs, local_rules, run_id = slurm_jobs_of(text)
    assert SLURM_RULES <= {job.rule for job in jobs}, f"missing SLURM jobs; local rules were {local_rules}"
    shards = [job for job in jobs if job.rule == "inventory_shard"]
    assert len(shards) == 2 and len({job.slurm_id for job in shards}) == 2, shards

    # squeue sees exactly this run's jobs (named after the run id), all finished well.
    listed = cluster.run("squeue", "--states=all", "--noheader", "--name", run_id, "--format=%i|%T")
    states = dict(line.split("|") for line in listed.split())
    assert states == {job.slurm_id: "COMPLETED" for job in jobs}

    for job in jobs:
        fields = cluster.job(job.slurm_id)
        assert fields["JobState"] == "COMPLETED" and fields["ExitCode"] == "0:0", (job, fields)
        assert fields["Comment"].startswith(f"rule_{job.rule}"), (job, fields["Comment"])
        assert fields["WorkDir"] == str(workdir)
        if job.rule in GPU_RULES:
            assert fields["Partition"] == "gpu" and "gpu:1" in fields.get("TresPerJob", ""), (job, fields)
        else:
            assert fields["Partition"] == "cpu" and "gpu" not in fields.get("TresPerJob", ""), (job, fields)
        # SLURM's job log (named after the SLURM job id) holds the job's own Snakemake run.
        assert job.log.name == f"{job.slurm_id}.log" and job.log.exists(), job
        assert f"Finished jobid: 0 (Rule: {job.rule})" in job.log.read_text(), job
    print(f"{len(jobs)} SLURM jobs ({sorted(job.rule for job in jobs)}), local {local_rules}, {elapsed:.0f} s")
