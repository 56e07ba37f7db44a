"""Training and labelling speed, measured in one run (see bench/README.md, "Fine-tuning").

(a) our training loop (uint8 store -> batched tensor augmentation -> SGD step) in images/s,
    divided by a model-only loop on random tensors with the same model (a copy of its
    weights), batch, crop size, device and threads, in alternating rounds; read from CPU
    time (all threads of this process), with wall time beside it; then where our epoch's
    CPU time goes (augmentation, model step, metrics, the rest);
(d) a training job's start-up before its first batch: Python, Snakemake's script preamble,
    the imports, reading the store, building the model, each in a fresh process;
(b) batched labelling of new images (images_as_data.finetune.predict.label_images) against
    the authors' approach: PIL + torchvision transforms, one image at a time;
(c) with a CUDA GPU: the book-sized grid (12 settings) run one job at a time versus packed
    several per GPU; skipped with a message when there is no GPU.

Usage: .venv/bin/python bench/train_bench.py [--sections a,d,b,c] [--threads 1] [--grid-epochs 50]
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Callable

import pandas as pd
import torch
from PIL import Image
from torchvision import transforms

from images_as_data.finetune.data import augment_batch, build_store
from images_as_data.finetune.grid import Setting, grid_settings
from images_as_data.finetune.model import build_model
from images_as_data.finetune.predict import label_images
from images_as_data.finetune.synthetic import write_shape_task
from images_as_data.finetune.train import Trainer, TrainOptions, fine_tune, use_deterministic

BOOK_GRID = {"lr": [0.0005, 0.001, 0.005], "momentum": [0.7, 0.9], "batch": [1, 4]}


def make_task(folder: Path, per_class: dict[str, int], size: int) -> Path:
    table = write_shape_task(folder / "images", ["negative", "positive"], per_class, size=size)
    table.to_csv(folder / "split.csv", index=False)
    return folder / "split.csv"


def timed(*functions, repeats: int) -> list[float]:
    """Median seconds per function over `repeats` rounds after a warm-up round; the functions
    alternate within each round so that load from other processes hits them alike."""
    times: list[list[float]] = [[] for _ in functions]
    for round_ in range(repeats + 1):
        for function, seconds in zip(functions, times):
            started = time.perf_counter()
            function()
            if round_:
                seconds.append(time.perf_counter() - started)
    return [statistics.median(seconds) for seconds in times]


def alternating_rounds(functions: dict[str, Callable[[int], None]], rounds: int) -> pd.DataFrame:
    """Wall and CPU seconds of each function in `rounds` alternating rounds, after a warm-up
    round; each function gets the round's number.

    CPU seconds (time.process_time: all threads of this process) are what ratios are read
    from on a shared machine, and rounds are short (a few steps) so that both loops meet the
    same load: on 2 cores shared with other jobs, the ratio of two whole-epoch rounds ranged
    from 0.65 to 1.43 in wall time and from 0.83 to 1.38 in CPU time (caches and memory
    bandwidth are shared too)."""
    rows = []
    for round_ in range(rounds + 1):
        row = {"round": round_}
        for name, function in functions.items():
            wall, cpu = time.perf_counter(), time.process_time()
            function(round_)
            row[f"{name}_wall"], row[f"{name}_cpu"] = time.perf_counter() - wall, time.process_time() - cpu
        if round_:
            rows.append(row)
    return pd.DataFrame(rows)


def training_ratio(
    split_csv: Path, store_size: int, crop: int, batch: int, device: str, epochs: int, round_steps: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(a) images/s of our training loop against the same steps of the same model on random tensors.

    Ours runs as a training job does (its deterministic settings, set by the Trainer), on
    consecutive slices of the training images of `round_steps` batches, each slice one call of
    `Trainer.train_epoch` (its shuffle, augmentation, steps and metrics); the model-only loop
    runs `round_steps` steps in between, under torch's defaults, with a copy of the same
    model (same weights), the same batch size, crop size, device and threads. A third loop is
    ours as it was before (deterministic mode filling every new tensor with NaN)."""
    store = build_store(split_csv, store_size)
    options = TrainOptions(crop_size=crop, epochs=1, device=device)
    trainer = Trainer(store, Setting(0.001, 0.9, batch), options, seed=1)
    train = store.indices("train")
    slices = list(train.split(batch * round_steps))
    rounds = epochs * len(slices)

    model = copy.deepcopy(trainer.model).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
    inputs = torch.randn(batch, 3, crop, crop, device=trainer.device)
    targets = torch.randint(0, 2, (batch,), device=trainer.device)

    def model_only(round_: int) -> None:
        torch.use_deterministic_algorithms(False)  # torch's default, as a plain loop runs
        for _ in range(-(-len(slices[round_ % len(slices)]) // batch)):
            loss = torch.nn.functional.cross_entropy(model(inputs), targets)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        if trainer.device.type == "cuda":
            torch.cuda.synchronize()

    def ours(round_: int, nan_fill: bool = False) -> None:
        use_deterministic(options.deterministic)  # as the Trainer set it for the job
        torch.utils.deterministic.fill_uninitialized_memory = nan_fill
        trainer.train_epoch(slices[round_ % len(slices)])
        if trainer.device.type == "cuda":
            torch.cuda.synchronize()

    loops = {"model-only loop": model_only, "ours": ours, "ours with the NaN fill (before)": lambda r: ours(r, nan_fill=True)}
    timings = alternating_rounds(loops, rounds)
    use_deterministic(options.deterministic)
    images = sum(len(slices[r % len(slices)]) for r in timings["round"])
    steps = sum(-(-len(slices[r % len(slices)]) // batch) for r in timings["round"])
    rows = []
    for name in loops:
        row = {"loop": name, "images": images}
        for clock in ("cpu", "wall"):
            ratio = timings[f"model-only loop_{clock}"] / timings[f"{name}_{clock}"]  # per round: our speed over model-only
            row |= {f"img_s_{clock}": images / timings[f"{name}_{clock}"].sum(),
                    f"ratio_{clock}": timings[f"model-only loop_{clock}"].sum() / timings[f"{name}_{clock}"].sum(),
                    f"rounds_{clock}_q25_q75": f"{ratio.quantile(0.25):.3f}-{ratio.quantile(0.75):.3f}"}  # fmt: skip
        rows.append(row)
    model_step = timings["model-only loop_cpu"].sum() / steps
    return pd.DataFrame(rows), where_time_goes(trainer, train, model_step, timings["ours_cpu"].sum() / steps)


def where_time_goes(trainer: Trainer, train: torch.Tensor, model_step: float, our_step: float) -> pd.DataFrame:
    """CPU ms per step of the training loop's parts beside the model step (the model-only
    loop's): each part runs alone over an epoch's batches, 5 times (median)."""
    batch, crop, device = trainer.setting.batch, trainer.options.crop_size, trainer.device
    chunks = list(train.split(batch))
    logits = [trainer.model(augment_batch(trainer.images[c], trainer.store.geometry[c], crop, trainer.generator)).detach() for c in chunks]
    losses = [torch.nn.functional.cross_entropy(out, trainer.labels[c]) for out, c in zip(logits, chunks)]

    def shuffle_and_index(_round: int) -> None:
        order = train[torch.randperm(len(train), generator=trainer.generator)]
        for start in range(0, len(order), batch):
            chunk = order[start : start + batch]
            trainer.images[chunk.to(device)], trainer.labels[chunk.to(device)], trainer.store.geometry[chunk]

    def augmentation(_round: int) -> None:
        for chunk in chunks:
            augment_batch(trainer.images[chunk], trainer.store.geometry[chunk], crop, trainer.generator)

    def metrics(_round: int) -> None:
        total, means, correct = (torch.zeros((), device=device) for _ in range(3))
        for chunk, out, loss in zip(chunks, logits, losses):
            total += loss * len(chunk)
            means += loss
            correct += (out.argmax(dim=1) == trainer.labels[chunk]).sum()
        float(total), float(means), float(correct)

    rounds = alternating_rounds({"shuffle, batch indexing": shuffle_and_index, "augmentation": augmentation, "metrics": metrics}, 5)
    parts = {name: rounds[f"{name}_cpu"].median() / len(chunks) for name in ("shuffle, batch indexing", "augmentation", "metrics")}
    parts = {"model step (model-only loop)": model_step, **parts}
    parts["sum of the parts"] = sum(parts.values())
    parts["our step, measured"] = our_step
    return pd.DataFrame({"part": list(parts), "cpu_ms_per_step": [1000 * s for s in parts.values()],
                         "share_of_our_step": [s / our_step for s in parts.values()]})  # fmt: skip


def start_up(store_path: Path, crop: int, threads: int) -> pd.DataFrame:
    """CPU seconds a training job spends before its first batch, each step in a fresh process
    (as Snakemake starts each job): Python itself, the imports, reading the store, building
    the model; beside what importing scikit-learn's metrics (no longer needed) would add."""
    steps = {
        "python": "pass",
        "import torch": "import torch",
        "import torch, torchvision": "import torch, torchvision",
        "import finetune.pipeline (the job's imports)": "import images_as_data.finetune.pipeline",
        "... + sklearn.metrics (imported before)": "import images_as_data.finetune.pipeline, sklearn.metrics",
        "... + read the store, build model and optimiser": (
            "import torch; from images_as_data.finetune import pipeline; "
            "from images_as_data.finetune.data import TensorStore; from images_as_data.finetune.grid import Setting; "
            "from images_as_data.finetune.train import Trainer, TrainOptions; "
            f"torch.set_num_threads({threads}); store = TensorStore.load({str(store_path)!r}); "
            f"Trainer(store, Setting.parse('lr0.001_m0.9_b8'), TrainOptions(crop_size={crop}, device='cpu'), seed=1)"
        ),
    }
    probe = "import resource, sys; exec(sys.argv[1]); usage = resource.getrusage(resource.RUSAGE_SELF); print(usage.ru_utime + usage.ru_stime)"
    rows = []
    for name, code in steps.items():
        seconds = []
        for _ in range(3):
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-c", probe, code], capture_output=True, text=True, check=True)
            seconds.append((time.perf_counter() - started, float(done.stdout.split()[-1])))
        rows.append({"step": name, "wall_s": statistics.median(w for w, _ in seconds), "cpu_s": statistics.median(c for _, c in seconds)})
    rows.insert(1, {"step": "python + Snakemake's script preamble (a `script:` job)", "wall_s": None, "cpu_s": script_job_cpu(store_path.parent)})
    return pd.DataFrame(rows)


def script_job_cpu(folder: Path) -> float:
    """CPU seconds a Snakemake `script:` job has spent when its script's first line runs."""
    folder = folder / "script_job"
    folder.mkdir()
    (folder / "probe.py").write_text(
        "import resource\nusage = resource.getrusage(resource.RUSAGE_SELF)\n"
        "open(snakemake.output[0], 'w').write(str(usage.ru_utime + usage.ru_stime))\n"
    )
    (folder / "Snakefile").write_text('rule probe:\n    output:\n        "cpu.txt",\n    script:\n        "probe.py"\n')
    snakemake = Path(sys.executable).with_name("snakemake")
    subprocess.run([str(snakemake), "--cores", "1", "--quiet"], cwd=folder, check=True, capture_output=True)
    return float((folder / "cpu.txt").read_text())


def labelling_ratio(folder: Path, n_images: int, store_size: int, crop: int, threads: int) -> dict:
    """(b) our batched labelling against PIL + transforms, one image at a time (the authors' loop)."""
    table = write_shape_task(folder / "new", ["negative", "positive"], {"new": n_images // 2}, size=256, seed=3)
    images = table[["image_id", "path"]]
    model = build_model("resnet18", 2).eval()

    def batched():
        label_images(model, images, ["negative", "positive"], store_size, crop, batch=64, threads=threads)

    authors_transform = transforms.Compose(
        [transforms.Resize(store_size), transforms.CenterCrop(crop), transforms.ToTensor(),
         transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])]
    )  # fmt: skip

    @torch.no_grad()
    def one_at_a_time():
        for path in images["path"]:
            image = authors_transform(Image.open(path).convert("RGB"))
            torch.softmax(model(image.unsqueeze(0)), dim=1)

    ours, authors = timed(batched, one_at_a_time, repeats=1)
    return {"images": len(images), "ours_img_s": len(images) / ours, "authors_img_s": len(images) / authors,
            "speedup": authors / ours}  # fmt: skip


def train_one(store_path: str, setting_id: str, epochs: int, crop: int, device: str) -> float:
    """One grid run in its own process (how Snakemake runs jobs); returns its seconds."""
    from images_as_data.finetune.data import TensorStore

    started = time.perf_counter()
    on_gpu = device == "cuda"
    options = TrainOptions(
        crop_size=crop, epochs=epochs, device=device, amp=on_gpu, channels_last=on_gpu, deterministic=False
    )
    fine_tune(TensorStore.load(store_path), Setting.parse(setting_id), options, seed=1, task="bench")
    return time.perf_counter() - started


def grid_packing(folder: Path, epochs: int, packs: list[int], store_size: int, crop: int, device: str) -> list[dict]:
    """(c) wall time of the book's 12-setting grid on one GPU, one run at a time vs k at once."""
    split_csv = make_task(folder / "book", {"train": 80, "val": 20}, size=store_size + 44)  # Table 7.1's protest size
    store_path = folder / "book_store.pt"
    build_store(split_csv, store_size).save(store_path)
    settings = [setting.id for setting in grid_settings(BOOK_GRID)]
    n = len(settings)
    rows = []
    for k in packs:
        started = time.perf_counter()
        with ProcessPoolExecutor(max_workers=k, mp_context=get_context("spawn")) as pool:
            list(pool.map(train_one, [str(store_path)] * n, settings, [epochs] * n, [crop] * n, [device] * n))
        rows.append(
            {"runs_at_once": k, "runs": len(settings), "epochs": epochs, "wall_s": time.perf_counter() - started}
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sections", default="a,d,b,c", help="comma-separated sections to run (default all)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1, as a demo job)")
    parser.add_argument("--store-size", type=int, default=56)
    parser.add_argument("--crop", type=int, default=48)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--train-images", type=int, default=200, help="training images in (a)")
    parser.add_argument("--epochs", type=int, default=4, help="epochs of each loop in (a)")
    parser.add_argument("--round-steps", type=int, default=2, help="steps of each loop per alternating round in (a)")
    parser.add_argument("--label-images", type=int, default=200)
    parser.add_argument("--grid-epochs", type=int, default=50, help="epochs per run in (c); the book used 50")
    parser.add_argument("--packs", type=int, nargs="+", default=[1, 4], help="runs at once on the GPU in (c)")
    parser.add_argument("--grid-store-size", type=int, default=256, help="store size in (c); the book's Resize(256)")
    parser.add_argument("--grid-crop", type=int, default=224, help="crop in (c); the book's 224")
    parser.add_argument("--grid-device", default="cuda", help="device of (c); cpu only to smoke-test the code")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    print(f"{time.strftime('%c')} | {platform.processor() or platform.machine()} | nproc {os.cpu_count()} | "
          f"load {' '.join(f'{x:.2f}' for x in os.getloadavg())} | torch {torch.__version__}, device {device}, "
          f"{args.threads} CPU thread(s)")  # fmt: skip
    sections = set(args.sections.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        split_csv = make_task(folder, {"train": args.train_images // 2, "val": 10}, size=args.store_size + 8)
        if "a" in sections:
            a, parts = training_ratio(split_csv, args.store_size, args.crop, args.batch, device, args.epochs, args.round_steps)
            print(f"\n(a) training loop vs model-only, ResNet-18, {args.crop} px, batch {args.batch}, {args.epochs} epochs "
                  f"of {args.train_images} images in alternating rounds of {args.round_steps} steps (ratio of the totals; "
                  "quartiles of the rounds' ratios):")  # fmt: skip
            print(a.round(3).to_markdown(index=False))
            print("\nwhere our step's CPU time goes (the parts alone, median of 5 rounds over the epoch's batches):")
            print(parts.round(3).to_markdown(index=False))
        if "d" in sections:
            store_path = folder / "store.pt"
            build_store(split_csv, args.store_size).save(store_path)
            print("\n(d) a training job's start-up, each line a fresh process (median of 3):")
            print(start_up(store_path, args.crop, args.threads).round(2).to_markdown(index=False))
        if "b" in sections:
            b = labelling_ratio(folder, args.label_images, args.store_size, args.crop, args.threads)
            print(f"\n(b) labelling new images, batched vs one at a time (PIL + transforms), {args.crop} px:")
            print(pd.DataFrame([b]).round(2).to_markdown(index=False))
        if "c" not in sections:
            return
        if args.grid_device == "cuda" and device != "cuda":
            print("\n(c) skipped: no CUDA GPU here; run this script on a GPU machine for the packed-grid timing")
            return
        c = grid_packing(folder, args.grid_epochs, args.packs, args.grid_store_size, args.grid_crop, args.grid_device)
        print(f"\n(c) book grid (12 runs, {args.grid_crop} px, {args.grid_epochs} epochs) on {args.grid_device}:")
        print(pd.DataFrame(c).round(1).to_markdown(index=False))


if __name__ == "__main__":
    main()
