"""Hyperparameter grids and their path-safe setting ids (no torch import: the Snakefile uses this)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..common.config import ConfigError

SETTING_PATTERN = r"lr[0-9.e+-]+_m[0-9.e+-]+_b[0-9]+"


@dataclass(frozen=True)
class Setting:
    """One point of a hyperparameter grid."""

    lr: float
    momentum: float
    batch: int

    @property
    def id(self) -> str:
        """Readable and path-safe, e.g. lr0.001_m0.9_b4."""
        return f"lr{self.lr:g}_m{self.momentum:g}_b{self.batch}"

    @classmethod
    def parse(cls, text: str) -> "Setting":
        match = re.fullmatch(r"lr(?P<lr>[0-9.e+-]+)_m(?P<m>[0-9.e+-]+)_b(?P<b>[0-9]+)", text)
        if not match:
            raise ValueError(f"setting id '{text}' does not look like lr0.001_m0.9_b4")
        return cls(float(match["lr"]), float(match["m"]), int(match["b"]))


def grid_settings(grid: dict) -> list[Setting]:
    """All combinations of a grid's lr, momentum and batch lists, in a stable order."""
    return [
        Setting(float(lr), float(momentum), int(batch))
        for lr in grid["lr"]
        for momentum in grid["momentum"]
        for batch in grid["batch"]
    ]


def finetune_tasks(config: dict, tasks: list[str]) -> list[str]:
    """Tasks to fine-tune: finetune.tasks, or every configured task when it is null."""
    chosen = config["finetune"].get("tasks") or tasks
    unknown = [task for task in chosen if task not in tasks]
    if unknown:
        raise ConfigError(f"finetune.tasks: {unknown} are not tasks of the config (known: {tasks})")
    return list(chosen)


def study_task(config: dict, tasks: list[str]) -> str | None:
    """The task of the hyperparameter study (Figures 7.4, 7.5), or None when there is none."""
    task = (config["finetune"].get("study") or {}).get("task")
    if task is not None and task not in finetune_tasks(config, tasks):
        raise ConfigError(
            f"finetune.study.task: '{task}' is not one of the fine-tuned tasks {finetune_tasks(config, tasks)}"
        )
    return task


def task_setting_ids(config: dict, tasks: list[str], task: str) -> list[str]:
    """Settings run for a task: the main grid, plus the study grid for the study task."""
    ids = [setting.id for setting in grid_settings(config["finetune"]["grid"])]
    if task == study_task(config, tasks):
        ids += [setting.id for setting in grid_settings(config["finetune"]["study"])]
    return list(dict.fromkeys(ids))


def check_finetune_config(config: dict, tasks: list[str]) -> None:
    """Checks a schema cannot express: crop within the store, study task known."""
    section = config["finetune"]
    if section["crop_size"] > section["store_size"]:
        raise ConfigError(
            f"finetune.crop_size ({section['crop_size']}) must not exceed finetune.store_size ({section['store_size']})"
        )
    study_task(config, tasks)
