"""A training job killed mid-way resumes after its last finished epoch and ends exactly as an
uninterrupted run (CPU, same seed): same epochs.csv (but the timing columns), same weights."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pandas as pd
import pytest
import torch

from images_as_data.finetune.data import build_store
from images_as_data.finetune.pipeline import checkpoint_path, train_and_save
from images_as_data.finetune.synthetic import write_shape_task
from images_as_data.finetune.train import TIMING_COLUMNS

from .conftest import REPO, torch_threads

OPTIONS = {"crop_size": 24, "epochs": 3, "step_size": 2, "device": "cpu", "eval_batch": 32}
SETTING = "lr0.01_m0.9_b8"

# Runs one training job in a fresh process and kills it (SIGKILL: no clean-up code runs) in
# the middle of epoch KILL_IN_EPOCH, after a few optimiser steps.
KILLED_JOB = textwrap.dedent("""
    import os, signal, sys
    import torch
    from images_as_data.finetune import train
    from images_as_data.finetune.pipeline import train_and_save

    kill_in_epoch, store, outputs, options = int(sys.argv[1]), sys.argv[2], eval(sys.argv[3]), eval(sys.argv[4])
    original = train.Trainer.train_epoch
    epochs_started = 0

    def train_epoch(self, indices):
        global epochs_started
        epochs_started += 1
        if epochs_started == kill_in_epoch:
            step = self.optimizer.step
            def step_then_die(*args, **kwargs):
                step(*args, **kwargs)
                os.kill(os.getpid(), signal.SIGKILL)
            self.optimizer.step = step_then_die
        return original(self, indices)

    train.Trainer.train_epoch = train_epoch
    train_and_save(store, outputs, task="shapes", setting_id="%s", seed=3, options=options, threads=1)
""" % SETTING)


def outputs_in(folder):
    return {name: str(folder / file) for name, file in
            [("epochs", "epochs.csv"), ("model", "model.pt"), ("predictions", "predictions.csv"), ("summary", "summary.json")]}  # fmt: skip


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("resume")
    table = write_shape_task(folder / "images", ["negative", "positive"], {"train": 12, "val": 6}, size=32, seed=4)
    table.to_csv(folder / "split.csv", index=False)
    build_store(folder / "split.csv", 32).save(folder / "store.pt")
    return folder / "store.pt"


@pytest.fixture(scope="module")
def whole(store):
    """The uninterrupted run."""
    folder = store.parent / "whole"
    with torch_threads(1):
        train_and_save(store, outputs_in(folder), task="shapes", setting_id=SETTING, seed=3, options=OPTIONS)
    return folder


@pytest.mark.parametrize("kill_in_epoch", [3, 1])
def test_killed_run_resumes_after_its_last_epoch_and_matches_an_uninterrupted_one(store, whole, tmp_path, kill_in_epoch):
    killed = outputs_in(tmp_path / "killed")
    done = subprocess.run(
        [sys.executable, "-c", KILLED_JOB, str(kill_in_epoch), str(store), repr(killed), repr(OPTIONS)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == -9, done.stderr[-3000:]
    checkpoint = checkpoint_path(killed)
    assert not any((tmp_path / "killed" / name).exists() for name in ("epochs.csv", "model.pt", "summary.json"))
    if kill_in_epoch == 1:
        assert not checkpoint.exists()  # nothing finished, nothing to resume from
        saved_seconds, saved_cpu = [], []
    else:
        saved = torch.load(checkpoint, weights_only=True)
        assert saved["epoch"] == kill_in_epoch - 1
        saved_seconds = [row["seconds"] for row in saved["rows"]]
        saved_cpu = [row["cpu_seconds"] for row in saved["rows"]]
    with torch_threads(1):
        train_and_save(store, killed, task="shapes", setting_id=SETTING, seed=3, options=OPTIONS)
    # The finished epochs were not trained again: their rows (timings included) are the killed job's.
    resumed_rows = pd.read_csv(tmp_path / "killed" / "epochs.csv")
    assert resumed_rows["seconds"].tolist()[: len(saved_seconds)] == pytest.approx(saved_seconds)
    assert resumed_rows["cpu_seconds"].tolist()[: len(saved_cpu)] == pytest.approx(saved_cpu)
    assert not checkpoint.exists(), "the checkpoint is removed once the run is complete"
    whole_epochs = pd.read_csv(whole / "epochs.csv").drop(columns=list(TIMING_COLUMNS))
    resumed_epochs = pd.read_csv(tmp_path / "killed" / "epochs.csv").drop(columns=list(TIMING_COLUMNS))
    pd.testing.assert_frame_equal(resumed_epochs, whole_epochs)
    assert len(resumed_epochs) == OPTIONS["epochs"]
    weights, resumed = torch.load(whole / "model.pt"), torch.load(tmp_path / "killed" / "model.pt")
    assert weights.keys() == resumed.keys()
    assert all(torch.equal(weights[key], resumed[key]) for key in weights)
    summaries = [json.loads((folder / "summary.json").read_text()) for folder in (whole, tmp_path / "killed")]
    assert summaries[0] == summaries[1]
    assert (tmp_path / "killed" / "predictions.csv").read_bytes() == (whole / "predictions.csv").read_bytes()


def test_checkpoint_of_another_configuration_is_not_resumed(store, whole, tmp_path, caplog):
    outputs = outputs_in(tmp_path)
    with torch_threads(1):
        # A checkpoint left by a run with other options or another split must not be continued.
        checkpoint = checkpoint_path(outputs)
        checkpoint.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"run_key": "another run", "epoch": 1}, checkpoint)
        caplog.set_level("INFO")
        train_and_save(store, outputs, task="shapes", setting_id=SETTING, seed=3, options=OPTIONS)
    assert "another configuration" in caplog.text and not checkpoint.exists()
    first = pd.read_csv(whole / "epochs.csv").drop(columns=list(TIMING_COLUMNS))
    pd.testing.assert_frame_equal(pd.read_csv(outputs["epochs"]).drop(columns=list(TIMING_COLUMNS)), first)
