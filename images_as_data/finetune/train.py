"""Fine-tuning one (task, setting, seed) run: SGD with momentum, StepLR, best epoch on validation."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import logging
import math
import os
import time
from dataclasses import asdict, dataclass, fields
from typing import Callable

import numpy as np
import pandas as pd
import torch
from torch import nn

from ..common.atomic import atomic_path
from .data import TensorStore, augment_batch, check_classes, eval_batch
from .grid import Setting
from .metrics import classification_metrics
from .model import build_model

log = logging.getLogger(__name__)
TIMING_COLUMNS = ("seconds", "cpu_seconds")  # epochs.csv columns that differ between runs of one seed


class TrainingError(RuntimeError):
    """Training that cannot go on (diverged loss, unusable device); the message says what to change."""


@dataclass(frozen=True)
class TrainOptions:
    """Everything about a run except the grid point and the seed (config section `finetune`)."""

    backbone: str = "resnet18"
    weights: str = "none"
    weights_cache: str = "resources/weights"
    crop_size: int = 224
    epochs: int = 50
    step_size: int = 7
    gamma: float = 0.1
    eval_batch: int = 64
    device: str = "auto"
    amp: bool = False
    channels_last: bool = False
    deterministic: bool = True

    @classmethod
    def from_config(cls, section: dict) -> "TrainOptions":
        names = {field.name for field in fields(cls)}
        return cls(**{key: value for key, value in section.items() if key in names})


@dataclass
class RunResult:
    epochs: pd.DataFrame  # one row per epoch
    state_dict: dict  # weights of the best epoch (a copy, on the CPU)
    predictions: pd.DataFrame  # validation (and test) images scored with the best weights
    summary: dict


def config_hash(options: TrainOptions, setting: Setting, seed: int, store: dict) -> str:
    """Short hash of everything that defines a run's result (`store`: TensorStore.description())."""
    described = {**asdict(options), **asdict(setting), "seed": seed, **store}
    described.pop("eval_batch")  # affects speed only
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:12]


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise TrainingError(f"finetune.device is '{name}' but no CUDA GPU is visible; use auto or cpu")
    return torch.device(name)


def make_reproducible(seed: int, deterministic: bool) -> None:
    """Seed torch and, if asked, force deterministic kernels (same seed, same numbers)."""
    torch.manual_seed(seed)
    use_deterministic(deterministic)


def use_deterministic(deterministic: bool) -> None:
    """Deterministic kernels (or not) for the whole process."""
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(deterministic)
    # Deterministic mode would also fill every new tensor with NaN, a guard against kernels
    # that read memory they never wrote; none of ours do (a test checks that results are the
    # same without the fill), and the fill cost 2 % of a CPU training step (bench/README.md).
    torch.utils.deterministic.fill_uninitialized_memory = False
    torch.backends.cudnn.benchmark = not deterministic


def authors_scale_loss(losses: torch.Tensor, batch: int) -> float:
    """The authors' loss scale: per-image losses in consecutive batches of `batch`, the batch
    means summed and divided by the number of images (their script's `running_loss / N`,
    about the per-image mean divided by the batch size; the scale of the book's Figure 7.4)."""
    return float(sum(chunk.mean() for chunk in losses.split(batch))) / len(losses)


def is_better(accuracy: float, loss: float, best_accuracy: float, best_loss: float) -> bool:
    """Best epoch: higher validation accuracy, ties broken by lower validation loss."""
    return accuracy > best_accuracy or (accuracy == best_accuracy and loss < best_loss)


class Trainer:
    """Holds the model, the images on the device and the random generator of one run."""

    def __init__(self, store: TensorStore, setting: Setting, options: TrainOptions, seed: int):
        check_classes(list(np.array(store.classes)[store.labels.numpy()]), store.splits, store.classes, "store")
        if options.crop_size > store.size:
            raise TrainingError(
                f"finetune.crop_size {options.crop_size} is larger than the store size {store.size}; "
                "raise finetune.store_size or lower crop_size"
            )
        self.store, self.setting, self.options, self.seed = store, setting, options, seed
        self.device = resolve_device(options.device)
        make_reproducible(seed, options.deterministic)
        self.generator = torch.Generator().manual_seed(seed)
        self.memory_format = torch.channels_last if options.channels_last else torch.contiguous_format
        self.model = build_model(options.backbone, len(store.classes), options.weights, options.weights_cache)
        self.model.to(self.device, memory_format=self.memory_format)
        self.images = store.images.to(self.device)
        self.labels = store.labels.to(self.device)
        self.loss_fn = nn.CrossEntropyLoss()
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=setting.lr, momentum=setting.momentum)
        self.scheduler = torch.optim.lr_scheduler.StepLR(
            self.optimizer, step_size=options.step_size, gamma=options.gamma
        )

    def state(self) -> dict:
        """Everything the next epoch depends on: weights, optimiser, scheduler, random states."""
        state = {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "generator": self.generator.get_state(),
        }
        if self.device.type == "cuda":
            state["cuda_rng"] = torch.cuda.get_rng_state_all()
        return state

    def restore(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["torch_rng"])
        self.generator.set_state(state["generator"])
        if "cuda_rng" in state and self.device.type == "cuda":
            torch.cuda.set_rng_state_all(state["cuda_rng"])

    def autocast(self):
        if self.options.amp and self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def forward(self, batch: torch.Tensor) -> torch.Tensor:
        try:
            with self.autocast():
                return self.model(batch.contiguous(memory_format=self.memory_format)).float()
        except ValueError as error:
            if "Expected more than 1 value per channel" in str(error):
                raise TrainingError(
                    f"a batch of one image reaches a 1x1 feature map in {self.options.backbone}'s batch norm; "
                    f"raise finetune.crop_size (now {self.options.crop_size}) or use batch sizes above 1"
                ) from error
            raise

    def train_epoch(self, indices: torch.Tensor) -> dict[str, float]:
        """One pass over the training images in random order, `setting.batch` images per step."""
        self.model.train()
        order = indices[torch.randperm(len(indices), generator=self.generator)]
        total_loss = torch.zeros((), device=self.device)
        batch_means = torch.zeros((), device=self.device)
        correct = torch.zeros((), device=self.device, dtype=torch.long)
        steps = 0
        for start in range(0, len(order), self.setting.batch):
            chunk = order[start : start + self.setting.batch]
            batch = chunk.to(self.device)
            # Geometry is indexed with the CPU indices: no copy back from a GPU, no sync per step.
            inputs = augment_batch(self.images[batch], self.store.geometry[chunk], self.options.crop_size, self.generator)
            targets = self.labels[batch]
            logits = self.forward(inputs)
            loss = self.loss_fn(logits, targets)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            steps += 1
            total_loss += loss.detach() * len(batch)
            batch_means += loss.detach()
            correct += (logits.argmax(dim=1) == targets).sum()
        return {
            "train_loss": float(total_loss) / len(order),
            "train_loss_authors": float(batch_means) / len(order),
            "train_accuracy": float(correct) / len(order),
            "steps": steps,
        }

    @torch.no_grad()
    def score(self, indices: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-image losses and class probabilities of the given images (evaluation transform)."""
        self.model.eval()
        probabilities, losses = [], []
        for start in range(0, len(indices), self.options.eval_batch):
            chunk = indices[start : start + self.options.eval_batch]
            batch = chunk.to(self.device)
            logits = self.forward(eval_batch(self.images[batch], self.store.geometry[chunk], self.options.crop_size))
            losses.append(nn.functional.cross_entropy(logits, self.labels[batch], reduction="none").cpu())
            probabilities.append(torch.softmax(logits, dim=1).cpu())
        return torch.cat(losses), torch.cat(probabilities)

    def evaluate(self, indices: torch.Tensor, prefix: str) -> dict[str, float]:
        """Mean loss per image, the loss on the authors' scale (batches of the run's size) and metrics."""
        losses, probabilities = self.score(indices)
        metrics = classification_metrics(
            self.store.labels[indices].numpy(), probabilities.argmax(dim=1).numpy(), self.store.classes
        )
        return {
            f"{prefix}_loss": float(losses.mean()),
            f"{prefix}_loss_authors": authors_scale_loss(losses, self.setting.batch),
            **{f"{prefix}_{key}": value for key, value in metrics.items()},
        }

    def predictions(self, indices: torch.Tensor) -> pd.DataFrame:
        """Per-image predictions of the current weights."""
        _, probabilities = self.score(indices)
        classes = self.store.classes
        rows = indices.tolist()
        frame = pd.DataFrame(
            {
                "image_id": [self.store.image_ids[i] for i in rows],
                "path": [self.store.paths[i] for i in rows],
                "split": [self.store.splits[i] for i in rows],
                "label": [classes[int(self.store.labels[i])] for i in rows],
                "predicted": [classes[int(k)] for k in probabilities.argmax(dim=1)],
            }
        )
        for k, name in enumerate(classes):
            frame[f"prob_{name}"] = probabilities[:, k].numpy()
        return frame


def save_checkpoint(path: str | os.PathLike, trainer: Trainer, run_key: str, rows: list[dict], best: dict, best_state: dict) -> None:
    """The run after its last finished epoch, written atomically (a kill never leaves half a file)."""
    checkpoint = {"run_key": run_key, "epoch": rows[-1]["epoch"], "rows": rows, "best": best, "best_state": best_state, **trainer.state()}
    with atomic_path(path) as tmp:
        torch.save(checkpoint, tmp)


def load_checkpoint(path: str | os.PathLike, run_key: str) -> dict | None:
    """The checkpoint of this very run (same options, setting, seed and split), or None."""
    if not os.path.exists(path):
        return None
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - an unreadable checkpoint only costs the epochs it held
        log.warning("ignoring the unreadable checkpoint %s (%s); training starts at epoch 1", path, error)
        return None
    if checkpoint.get("run_key") != run_key:
        log.warning("ignoring the checkpoint %s of another configuration or split; training starts at epoch 1", path)
        return None
    return checkpoint


def fine_tune(
    store: TensorStore,
    setting: Setting,
    options: TrainOptions,
    seed: int,
    task: str,
    on_epoch: Callable[[dict], None] | None = None,
    checkpoint: str | os.PathLike | None = None,
) -> RunResult:
    """Train for `options.epochs`, keep a copy of the best epoch's weights, score test once with them.

    With ``checkpoint``, the run is saved there after every epoch and, if a checkpoint of the
    same run is there already (a killed job), resumed after its last epoch: on the CPU the
    result is the same as without the interruption.
    """
    trainer = Trainer(store, setting, options, seed)
    train, val, test = (store.indices(split) for split in ("train", "val", "test"))
    identity = {
        "task": task,
        "setting": setting.id,
        "lr": setting.lr,
        "momentum": setting.momentum,
        "batch": setting.batch,
        "seed": seed,
    }
    rows: list[dict] = []
    best_state, best = None, {"val_accuracy": -1.0, "val_loss": math.inf}
    run_key = f"{config_hash(options, setting, seed, store.description())}:{store.source_hash}"
    resumed = load_checkpoint(checkpoint, run_key) if checkpoint else None
    if resumed:
        trainer.restore(resumed)
        rows, best, best_state = resumed["rows"], resumed["best"], resumed["best_state"]
        log.info("resuming %s seed %d after epoch %d from %s", setting.id, seed, resumed["epoch"], checkpoint)
    for epoch in range(len(rows) + 1, options.epochs + 1):
        started, cpu_started = time.perf_counter(), time.process_time()
        lr = trainer.optimizer.param_groups[0]["lr"]
        row = {**identity, "epoch": epoch, **trainer.train_epoch(train)}
        if not math.isfinite(row["train_loss"]):
            raise TrainingError(
                f"training loss became {row['train_loss']} in epoch {epoch} of {setting.id} (seed {seed}); "
                "the run diverged: lower the learning rate (finetune.grid.lr / finetune.study.lr)"
            )
        row.update(trainer.evaluate(val, "val"))
        trainer.scheduler.step()
        # CPU seconds of all the process's threads: Snakemake's benchmark files miss most of
        # a training job's CPU time (README, "What the workflow does").
        row.update(lr_epoch=lr, seconds=time.perf_counter() - started, cpu_seconds=time.process_time() - cpu_started)
        rows.append(row)
        if is_better(row["val_accuracy"], row["val_loss"], best["val_accuracy"], best["val_loss"]):
            best = row
            best_state = copy.deepcopy(trainer.model.state_dict())
        if checkpoint:
            save_checkpoint(checkpoint, trainer, run_key, rows, best, best_state)
        if on_epoch:
            on_epoch(row)
    assert best_state is not None
    trainer.model.load_state_dict(best_state)
    held_out = torch.cat([val, test])
    summary = {
        **identity,
        "backbone": options.backbone,
        "weights": options.weights,
        "classes": store.classes,
        **store.description(),
        "crop_size": options.crop_size,
        "epochs": options.epochs,
        "best_epoch": best["epoch"],
        **{key: best[key] for key in best if key.startswith("val_")},
        "n_train": len(train),
        "n_val": len(val),
        "n_test": len(test),
        "device": str(trainer.device),
        "config_hash": config_hash(options, setting, seed, store.description()),
        "split_hash": store.source_hash,
        "torch": torch.__version__,
    }
    if len(test):
        summary.update(trainer.evaluate(test, "test"))
    return RunResult(
        epochs=pd.DataFrame(rows),
        state_dict={key: value.detach().cpu() for key, value in best_state.items()},
        predictions=trainer.predictions(held_out),
        summary=summary,
    )
