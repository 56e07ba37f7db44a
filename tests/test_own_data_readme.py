"""README "Use your own images and labels", followed literally: the commands are read from
the README and run as they stand, on a tiny study placed where the starter config
(config/own_data.yaml) looks for it. Between the copy and the runs the test edits the copy
as a user would (here: a small, quick study); nothing else is changed."""

from __future__ import annotations

import os
import re
import shlex
import subprocess

import numpy as np
import pandas as pd
import pytest
import yaml

from .authors_data import aspect_size, picture
from .conftest import REPO, SNAKEMAKE, copy_workflow

pytestmark = pytest.mark.slow

MARKER = "<!-- own-data-steps"
# The user's edit of their copy: a quick study (random weights, one setting, small images).
QUICK = {
    "working": {"short_side": 48},
    "finetune": {"weights": "none", "store_size": 40, "crop_size": 32, "epochs": 1, "seeds": [1],
                 "grid": {"lr": [0.01], "momentum": [0.9], "batch": [4]}, "threads": 1, "store_threads": 1},
    "predict": {"threads": 1},
    "replication": {"toy_epochs": 50, "toy_restarts": 1},
}  # fmt: skip


def readme_steps() -> list[str]:
    """The command lines of the README's own-data block (comments and blank lines left out)."""
    text = (REPO / "README.md").read_text()
    assert MARKER in text, "the README lost its own-data steps block"
    block = re.search(r"```bash\n(.*?)```", text[text.index(MARKER) :], re.DOTALL)
    assert block, "no ```bash block after the own-data marker"
    return [line.strip() for line in block[1].splitlines() if line.strip() and not line.strip().startswith("#")]


def write_study(workdir, n_images: int = 30, seed: int = 3) -> None:
    """data/images (in sub-folders, several aspect ratios) and data/annotations.csv with the
    starter config's example column, protest; a few images left unannotated."""
    rng = np.random.default_rng(seed)
    rows = []
    for index in range(n_images):
        image_id = f"batch{index % 3}/img_{index:03d}.png"
        path = workdir / "data" / "images" / image_id
        path.parent.mkdir(parents=True, exist_ok=True)
        protest = index % 2 == 0
        picture(rng, (220, 50, 40) if protest else (40, 90, 220), *aspect_size(rng, 64)).save(path)
        if index < n_images - 4:
            rows += [{"image_id": image_id, "annotator": who, "protest": "yes" if protest else "no"} for who in ("a", "b")]
    pd.DataFrame(rows).to_csv(workdir / "data" / "annotations.csv", index=False)


def run_line(line: str, workdir) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", line], cwd=workdir, capture_output=True, text=True, timeout=1200,
                          env={**os.environ, "PATH": f"{workdir / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}"})  # fmt: skip


def test_readme_own_data_steps_run_verbatim_to_the_end(tmp_path):
    if not SNAKEMAKE.exists():
        pytest.skip(f"{SNAKEMAKE} is not installed (run install.sh)")
    steps = readme_steps()
    assert steps[0] == "cp config/own_data.yaml config/mystudy.yaml"
    assert any("snakemake" in step and "--dry-run" in step for step in steps)
    assert "--configfile config/mystudy.yaml" in steps[-1]
    workdir = copy_workflow(tmp_path / "study")
    (workdir / ".venv").symlink_to(REPO / ".venv")

    copied = run_line(steps[0], workdir)
    assert copied.returncode == 0, copied.stderr
    mystudy = workdir / "config" / "mystudy.yaml"
    config = yaml.safe_load(mystudy.read_text())
    for section, values in QUICK.items():
        config.setdefault(section, {}).update(values)
    mystudy.write_text(yaml.safe_dump(config, sort_keys=False))

    # Before the data is in place, the dry run names the key that points at it.
    missing = run_line(next(step for step in steps if "--dry-run" in step), workdir)
    assert missing.returncode != 0 and "data.images: the folder 'data/images' does not exist" in missing.stdout + missing.stderr

    write_study(workdir)
    for step in steps[1:]:
        done = run_line(step, workdir)
        assert done.returncode == 0, f"{shlex.split(step)[0]} ... failed:\n{(done.stdout + done.stderr)[-6000:]}"

    results = workdir / "results"
    report = pd.read_csv(results / "report" / "replication_report.csv", keep_default_na=False)
    assert "demo data" not in " ".join(report["verdict"]) and "simulated" not in " ".join(report["verdict"])
    table_7_2 = pd.read_csv(results / "tables" / "table_7_2.csv")
    assert table_7_2["task"].tolist() == ["protest"]
    predictions = pd.read_csv(results / "predictions" / "protest.csv")
    assert len(predictions) == 4 and (predictions["status"] == "ok").all()
    # The starter config leaves the demo, the autotagger and the Legend study out.
    assert not (results / "demo").exists() and not (results / "autotag").exists()
    assert not (results / "figures" / "figure_7_4.png").exists()
