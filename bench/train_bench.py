"""Training and labelling speed, measured in one run (see bench/README.md, "Fine-tuning").

(a) our training loop (uint8 store -> batched tensor augmentation -> SGD step) in images/s,
    divided by a model-only loop on random tensors with the same model, batch and device;
(b) batched labelling of new images (images_as_data.finetune.predict.label_images) against
    the authors' approach: PIL + torchvision transforms, one image at a time;
(c) with a CUDA GPU: the book-sized grid (12 settings) run one job at a time versus packed
    several per GPU; skipped with a message when there is no GPU.

Usage: .venv/bin/python bench/train_bench.py [--threads 1] [--grid-epochs 50]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import pandas as pd
import torch
from PIL import Image
from torchvision import transforms

from images_as_data.finetune.data import build_store
from images_as_data.finetune.grid import Setting, grid_settings
from images_as_data.finetune.model import build_model
from images_as_data.finetune.predict import label_images
from images_as_data.finetune.synthetic import write_shape_task
from images_as_data.finetune.train import Trainer, TrainOptions, fine_tune

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


def training_ratio(split_csv: Path, store_size: int, crop: int, batch: int, device: str, repeats: int) -> dict:
    """(a) images/s of one training epoch of ours against the same steps on random tensors."""
    store = build_store(split_csv, store_size)
    options = TrainOptions(crop_size=crop, epochs=1, device=device)
    trainer = Trainer(store, Setting(0.001, 0.9, batch), options, seed=1)
    train = store.indices("train")

    model = build_model("resnet18", 2).to(trainer.device).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
    inputs = torch.randn(batch, 3, crop, crop, device=trainer.device)
    targets = torch.randint(0, 2, (batch,), device=trainer.device)
    steps = -(-len(train) // batch)

    def model_only():
        for _ in range(steps):
            loss = torch.nn.functional.cross_entropy(model(inputs), targets)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        if trainer.device.type == "cuda":
            torch.cuda.synchronize()

    ours, bare = timed(lambda: trainer.train_epoch(train), model_only, repeats=repeats)
    n = len(train)
    return {"images": n, "ours_img_s": n / ours, "model_only_img_s": steps * batch / bare,
            "ratio": (n / ours) / (steps * batch / bare), "seconds_per_epoch_per_100": 100 * ours / n}  # fmt: skip


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
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1, as a demo job)")
    parser.add_argument("--store-size", type=int, default=56)
    parser.add_argument("--crop", type=int, default=48)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--train-images", type=int, default=200, help="training images in (a)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--label-images", type=int, default=200)
    parser.add_argument("--grid-epochs", type=int, default=50, help="epochs per run in (c); the book used 50")
    parser.add_argument("--packs", type=int, nargs="+", default=[1, 4], help="runs at once on the GPU in (c)")
    parser.add_argument("--grid-store-size", type=int, default=256, help="store size in (c); the book's Resize(256)")
    parser.add_argument("--grid-crop", type=int, default=224, help="crop in (c); the book's 224")
    parser.add_argument("--grid-device", default="cuda", help="device of (c); cpu only to smoke-test the code")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    print(f"torch {torch.__version__}, device {device}, {args.threads} CPU thread(s)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        split_csv = make_task(folder, {"train": args.train_images // 2, "val": 10}, size=args.store_size + 8)
        a = training_ratio(split_csv, args.store_size, args.crop, args.batch, device, args.repeats)
        print(f"\n(a) training loop vs model-only, ResNet-18, {args.crop} px, batch {args.batch}:")
        print(pd.DataFrame([a]).round(3).to_markdown(index=False))
        b = labelling_ratio(folder, args.label_images, args.store_size, args.crop, args.threads)
        print(f"\n(b) labelling new images, batched vs one at a time (PIL + transforms), {args.crop} px:")
        print(pd.DataFrame([b]).round(2).to_markdown(index=False))
        if args.grid_device == "cuda" and device != "cuda":
            print("\n(c) skipped: no CUDA GPU here; run this script on a GPU machine for the packed-grid timing")
            return
        c = grid_packing(folder, args.grid_epochs, args.packs, args.grid_store_size, args.grid_crop, args.grid_device)
        print(f"\n(c) book grid (12 runs, {args.grid_crop} px, {args.grid_epochs} epochs) on {args.grid_device}:")
        print(pd.DataFrame(c).round(1).to_markdown(index=False))


if __name__ == "__main__":
    main()
