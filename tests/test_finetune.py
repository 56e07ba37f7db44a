"""Fine-tuning on tiny synthetic images: learning, reproducibility, batch size, best weights, errors."""

from __future__ import annotations

import json
import math
import socket
import subprocess
import sys
import urllib.error

import numpy as np
import pandas as pd
import pytest
import torch

from images_as_data.finetune import train as train_module
from images_as_data.finetune.data import DataError, TensorStore, augment_batch, build_store, eval_batch
from images_as_data.finetune.grid import Setting, grid_settings
from images_as_data.finetune.model import ModelError, build_model, cached_weights_path, fetch_imagenet_weights, replace_head
from images_as_data.finetune.pipeline import train_and_save
from images_as_data.finetune.synthetic import write_shape_task
from images_as_data.finetune.train import TrainingError, TrainOptions, fine_tune

from .conftest import REPO, torch_threads

# Small inputs keep each run to a few seconds on one CPU thread.
STORE, CROP = 40, 32
FAST = TrainOptions(crop_size=CROP, epochs=4, device="cpu", eval_batch=32)


@pytest.fixture(autouse=True)
def one_thread():
    with torch_threads(1):
        yield


def make_store(tmp_path, classes=("negative", "positive"), n=None, seed=0) -> TensorStore:
    table = write_shape_task(tmp_path / "images", list(classes), n or {"train": 32, "val": 10}, size=STORE, seed=seed)
    split_csv = tmp_path / "split.csv"
    table.to_csv(split_csv, index=False)
    return build_store(split_csv, STORE)


@pytest.fixture(scope="module")
def binary_store(tmp_path_factory) -> TensorStore:
    return make_store(tmp_path_factory.mktemp("binary"))


def without_timing(epochs: pd.DataFrame) -> pd.DataFrame:
    return epochs.drop(columns=list(train_module.TIMING_COLUMNS))


def test_store_keeps_whole_images_in_a_uint8_canvas_with_labels_and_source_hash(binary_store):
    assert binary_store.images.dtype == torch.uint8
    # The shapes are 1.25:1 (write_shape_task): shorter side STORE, the whole width kept.
    width = int(STORE * 1.25)
    assert tuple(binary_store.images.shape) == (84, 3, STORE, width)
    assert binary_store.crop_source == "full_image"
    assert binary_store.sizes.tolist() == [[width, STORE]] * 84
    assert binary_store.classes == ["negative", "positive"]
    assert len(binary_store.source_hash) == 64
    assert int(binary_store.labels.sum()) == 42


def test_store_round_trips_through_weights_only_load(binary_store, tmp_path):
    binary_store.save(tmp_path / "store.pt")
    loaded = TensorStore.load(tmp_path / "store.pt")
    assert torch.equal(loaded.images, binary_store.images)
    assert loaded.image_ids == binary_store.image_ids


def test_easy_binary_task_learns_from_random_init(binary_store):
    result = fine_tune(binary_store, Setting(0.01, 0.9, 8), FAST, seed=1, task="shapes")
    assert result.summary["val_accuracy"] >= 0.8
    assert result.epochs["val_accuracy"].max() == result.summary["val_accuracy"]


def test_easy_multiclass_task_learns_from_random_init(tmp_path):
    store = make_store(tmp_path, classes=("bar", "negative", "positive"), n={"train": 24, "val": 8})
    options = TrainOptions(crop_size=CROP, epochs=5, device="cpu")
    result = fine_tune(store, Setting(0.01, 0.9, 8), options, seed=1, task="shapes3")
    assert result.summary["val_accuracy"] >= 0.8
    assert result.summary["classes"] == ["bar", "negative", "positive"]


def test_same_seed_gives_identical_metrics_and_another_seed_does_not(binary_store):
    options = TrainOptions(crop_size=CROP, epochs=2, device="cpu")
    first = fine_tune(binary_store, Setting(0.005, 0.9, 8), options, seed=3, task="t")
    again = fine_tune(binary_store, Setting(0.005, 0.9, 8), options, seed=3, task="t")
    other = fine_tune(binary_store, Setting(0.005, 0.9, 8), options, seed=4, task="t")
    pd.testing.assert_frame_equal(without_timing(first.epochs), without_timing(again.epochs))
    assert not np.allclose(first.epochs["train_loss"], other.epochs["train_loss"])


def test_results_without_the_deterministic_nan_fill_equal_those_with_it(binary_store, monkeypatch):
    """Training skips deterministic mode's NaN fill of new tensors (2 % of a CPU step); the
    fill only shows kernels that read memory they never wrote, so the results must not change."""
    options = TrainOptions(crop_size=CROP, epochs=2, device="cpu")
    fast = fine_tune(binary_store, Setting(0.005, 0.9, 8), options, seed=3, task="t")
    assert not torch.utils.deterministic.fill_uninitialized_memory
    real = train_module.make_reproducible

    def with_fill(seed, deterministic):
        real(seed, deterministic)
        torch.utils.deterministic.fill_uninitialized_memory = True

    monkeypatch.setattr(train_module, "make_reproducible", with_fill)
    filled = fine_tune(binary_store, Setting(0.005, 0.9, 8), options, seed=3, task="t")
    assert torch.utils.deterministic.fill_uninitialized_memory
    torch.utils.deterministic.fill_uninitialized_memory = False
    pd.testing.assert_frame_equal(without_timing(fast.epochs), without_timing(filled.epochs))
    assert all(torch.equal(fast.state_dict[key], filled.state_dict[key]) for key in fast.state_dict)
    pd.testing.assert_frame_equal(fast.predictions, filled.predictions)


@pytest.mark.parametrize("batch", [5, 6])
def test_configured_batch_size_is_the_one_used(binary_store, monkeypatch, batch):
    seen: list[int] = []
    real_build = train_module.build_model

    def recording_build(*args, **kwargs):
        model = real_build(*args, **kwargs)
        model.register_forward_pre_hook(
            lambda module, inputs: seen.append(inputs[0].shape[0]) if module.training else None
        )
        return model

    monkeypatch.setattr(train_module, "build_model", recording_build)
    options = TrainOptions(crop_size=CROP, epochs=1, device="cpu")
    result = fine_tune(binary_store, Setting(0.001, 0.9, batch), options, seed=1, task="t")
    n_train = result.summary["n_train"]
    assert result.epochs["steps"].iloc[0] == math.ceil(n_train / batch)
    assert set(seen) == {batch, n_train % batch or batch}


def test_saved_best_weights_reload_and_reproduce_logged_accuracy(binary_store, tmp_path, caplog):
    caplog.set_level("INFO")
    binary_store.save(tmp_path / "store.pt")
    outputs = {name: tmp_path / "run" / file for name, file in
               [("epochs", "epochs.csv"), ("model", "model.pt"), ("predictions", "predictions.csv"), ("summary", "summary.json")]}  # fmt: skip
    options = {"crop_size": CROP, "epochs": 4, "device": "cpu", "backbone": "resnet18", "weights": "none"}
    summary = train_and_save(tmp_path / "store.pt", outputs, "shapes", "lr0.05_m0.9_b8", 2, options)

    epochs = pd.read_csv(outputs["epochs"])
    # The job's own CPU count (Snakemake's benchmark files miss most of it): per epoch and in the log.
    assert (epochs["cpu_seconds"] > 0).all()
    assert "start-up before the first batch" in caplog.text and "CPU time of this job" in caplog.text
    best = epochs.sort_values(["val_accuracy", "val_loss"], ascending=[False, True]).iloc[0]
    assert summary["best_epoch"] == best["epoch"]
    assert summary["val_accuracy"] == pytest.approx(best["val_accuracy"])

    state = torch.load(outputs["model"], weights_only=True)
    model = build_model("resnet18", 2).eval()
    model.load_state_dict(state)
    val = binary_store.indices("val")
    with torch.no_grad():
        predicted = model(eval_batch(binary_store.images[val], binary_store.geometry[val], CROP)).argmax(dim=1)
    reproduced = float((predicted == binary_store.labels[val]).float().mean())
    assert reproduced == pytest.approx(best["val_accuracy"])
    assert json.loads(outputs["summary"].read_text())["config_hash"] == summary["config_hash"]
    predictions = pd.read_csv(outputs["predictions"])
    assert (predictions["label"] == predictions["predicted"]).mean() == pytest.approx(best["val_accuracy"])


def test_best_epoch_weights_are_a_copy_not_the_last_epoch(binary_store, monkeypatch):
    # Make epoch 1 the best by force: later epochs report worse accuracy.
    real_evaluate = train_module.Trainer.evaluate
    calls = {"n": 0}

    def first_epoch_best(self, indices, prefix):
        metrics = real_evaluate(self, indices, prefix)
        calls["n"] += 1
        if calls["n"] > 1 and prefix == "val":
            metrics["val_accuracy"] = -1.0
        return metrics

    monkeypatch.setattr(train_module.Trainer, "evaluate", first_epoch_best)
    options = TrainOptions(crop_size=CROP, epochs=3, device="cpu")
    result = fine_tune(binary_store, Setting(0.05, 0.9, 8), options, seed=1, task="t")
    assert result.summary["best_epoch"] == 1
    monkeypatch.setattr(train_module.Trainer, "evaluate", real_evaluate)
    one_epoch = fine_tune(
        binary_store, Setting(0.05, 0.9, 8), TrainOptions(crop_size=CROP, epochs=1, device="cpu"), seed=1, task="t"
    )
    for key, value in one_epoch.state_dict.items():
        assert torch.equal(result.state_dict[key], value), key


def test_test_split_is_scored_once_with_the_best_weights(tmp_path):
    store = make_store(tmp_path, n={"train": 24, "val": 6, "test": 6})
    result = fine_tune(store, Setting(0.01, 0.9, 8), FAST, seed=1, task="t")
    assert result.summary["n_test"] == 12
    assert {"test_accuracy", "test_f1", "test_precision", "test_recall"} <= set(result.summary)
    assert set(result.predictions["split"]) == {"val", "test"}
    assert not any(column.startswith("test_") for column in result.epochs.columns)


def test_class_without_images_in_a_split_stops(tmp_path):
    table = write_shape_task(tmp_path / "img", ["negative", "positive"], {"train": 4, "val": 2}, size=STORE)
    table = table[~((table["split"] == "val") & (table["label"] == "positive"))]
    table.to_csv(tmp_path / "split.csv", index=False)
    with pytest.raises(DataError, match="split 'val' has only class"):
        build_store(tmp_path / "split.csv", STORE)
    table = write_shape_task(tmp_path / "img3", ["bar", "negative", "positive"], {"train": 4, "val": 2}, size=STORE)
    table = table[~((table["split"] == "val") & (table["label"] == "bar"))]
    table.to_csv(tmp_path / "split3.csv", index=False)
    with pytest.raises(DataError, match="class 'bar' has no images in split 'val'"):
        build_store(tmp_path / "split3.csv", STORE)


def test_task_with_one_class_stops(tmp_path):
    table = write_shape_task(tmp_path / "img", ["positive"], {"train": 4, "val": 2}, size=STORE)
    table.to_csv(tmp_path / "split.csv", index=False)
    with pytest.raises(DataError, match="at least two classes"):
        build_store(tmp_path / "split.csv", STORE)


def test_unreadable_training_image_is_named(tmp_path):
    table = write_shape_task(tmp_path / "img", ["negative", "positive"], {"train": 2, "val": 1}, size=STORE)
    (tmp_path / "img" / table["image_id"][0]).write_text("not an image")
    table.to_csv(tmp_path / "split.csv", index=False)
    with pytest.raises(DataError, match=table["image_id"][0]):
        build_store(tmp_path / "split.csv", STORE)


def test_diverging_loss_stops_with_advice(binary_store):
    options = TrainOptions(crop_size=CROP, epochs=3, device="cpu")
    with pytest.raises(TrainingError, match="lower the learning rate"):
        fine_tune(binary_store, Setting(1e12, 0.9, 8), options, seed=1, task="t")


def test_unknown_backbone_and_missing_weights_file_stop(tmp_path):
    with pytest.raises(ModelError, match="unknown backbone 'resnet19'"):
        build_model("resnet19", 2)
    with pytest.raises(ModelError, match="does not exist"):
        build_model("resnet18", 2, weights=str(tmp_path / "missing.pt"))
    with pytest.raises(ModelError, match="fetch_weights"):
        build_model("resnet18", 2, weights="imagenet", cache_dir=tmp_path)


def test_imagenet_weights_load_offline_from_the_cache_through_the_weights_enum(tmp_path, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("tried to download")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)
    cached = cached_weights_path("resnet18", tmp_path)
    assert cached == tmp_path / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    torch.manual_seed(0)
    reference = build_model("resnet18", 1000)
    cached.parent.mkdir(parents=True)
    torch.save(reference.state_dict(), cached)
    model = build_model("resnet18", 2, weights="imagenet", cache_dir=tmp_path)
    assert torch.equal(model.conv1.weight, reference.conv1.weight)
    assert model.fc.out_features == 2
    with pytest.raises(ModelError, match="no ImageNet weights 'IMAGENET1K_V9'"):
        build_model("resnet18", 2, weights="imagenet:IMAGENET1K_V9", cache_dir=tmp_path)


def test_a_failed_download_of_imagenet_weights_says_what_to_do(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError(socket.gaierror(-2, "Name or service not known"))

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    with pytest.raises(ModelError, match="cannot download the ImageNet weights of resnet18") as raised:
        fetch_imagenet_weights("resnet18", tmp_path)
    message = str(raised.value)
    assert "resnet18-f37072fd.pth" in message and "finetune.weights to none" in message
    assert str(cached_weights_path("resnet18", tmp_path)) in message


def test_weights_file_from_another_head_loads_all_but_the_head(tmp_path):
    trained = build_model("resnet18", 6)
    torch.save(trained.state_dict(), tmp_path / "leaders.pt")
    model = build_model("resnet18", 2, weights=str(tmp_path / "leaders.pt"))
    assert torch.equal(model.layer1[0].conv1.weight, trained.layer1[0].conv1.weight)
    torch.save(build_model("squeezenet1_1", 2).state_dict(), tmp_path / "squeeze.pt")
    with pytest.raises(ModelError, match="does not fit"):
        build_model("resnet18", 2, weights=str(tmp_path / "squeeze.pt"))


@pytest.mark.parametrize("backbone, head", [("resnet18", "fc"), ("squeezenet1_1", "classifier.1")])
def test_new_head_is_k_way_and_drawn_from_n_0_001(backbone, head):
    torch.manual_seed(0)
    model = build_model(backbone, 6)
    layer = model.get_submodule(head)
    assert layer.weight.shape[0] == 6
    assert layer.weight.std().item() == pytest.approx(0.01, rel=0.15)
    assert model(torch.randn(2, 3, 64, 64)).shape == (2, 6)


def test_replace_head_rejects_models_without_a_known_output_layer():
    with pytest.raises(ModelError, match="output layer"):
        replace_head(torch.nn.Sequential(torch.nn.ReLU()), 2)


def test_augmentation_crops_each_image_differently_and_reproducibly(binary_store):
    images = binary_store.images[:1].repeat(6, 1, 1, 1)
    geometry = binary_store.geometry[torch.zeros(6, dtype=torch.long)]
    first = augment_batch(images, geometry, CROP, torch.Generator().manual_seed(0))
    again = augment_batch(images, geometry, CROP, torch.Generator().manual_seed(0))
    assert first.shape == (6, 3, CROP, CROP)
    assert torch.equal(first, again)
    assert not torch.allclose(first[0], first[1])
    centred = eval_batch(binary_store.images[:2], binary_store.geometry[:2], CROP)
    assert centred.shape == (2, 3, CROP, CROP)
    assert abs(float(centred.mean())) < 3


def test_setting_ids_are_readable_and_round_trip():
    settings = grid_settings({"lr": [0.0005, 0.01], "momentum": [0.7, 0.9], "batch": [1, 4]})
    assert [s.id for s in settings][:2] == ["lr0.0005_m0.7_b1", "lr0.0005_m0.7_b4"]
    assert len(settings) == 8
    assert all(Setting.parse(s.id) == s for s in settings)
    with pytest.raises(ValueError, match="lr0.001_m0.9_b4"):
        Setting.parse("fast")


def test_crop_larger_than_store_stops(binary_store):
    with pytest.raises(TrainingError, match="store_size"):
        fine_tune(
            binary_store, Setting(0.01, 0.9, 8), TrainOptions(crop_size=STORE + 8, device="cpu"), seed=1, task="t"
        )


def test_single_image_batch_at_a_tiny_crop_stops_with_advice(binary_store):
    options = TrainOptions(crop_size=CROP, epochs=1, device="cpu")
    with pytest.raises(TrainingError, match="raise finetune.crop_size"):
        fine_tune(binary_store, Setting(0.01, 0.9, 1), options, seed=1, task="t")


def test_epochs_record_the_loss_per_image_and_on_the_authors_scale(binary_store):
    """The authors' script summed per-batch mean losses and divided by the number of images
    (Figure 7.4's scale); with full batches that is the per-image mean over the batch size."""
    result = fine_tune(binary_store, Setting(0.01, 0.9, 8), TrainOptions(crop_size=CROP, epochs=1, device="cpu"),
                       seed=1, task="t")  # fmt: skip
    row = result.epochs.iloc[0]
    assert result.summary["n_train"] % 8 == 0
    assert row["train_loss_authors"] == pytest.approx(row["train_loss"] / 8, rel=1e-5)
    # Validation: the per-image losses, from the probabilities of the (one, so best) epoch, in
    # batches of the run's size (20 images: 8, 8 and 4, the last one's mean counting whole).
    predictions = result.predictions
    true_class = np.where(predictions["label"] == "positive", predictions["prob_positive"], predictions["prob_negative"])
    losses = torch.tensor(-np.log(true_class))
    assert len(losses) == 20
    assert row["val_loss"] == pytest.approx(float(losses.mean()), rel=1e-4)
    expected = (losses[:8].mean() + losses[8:16].mean() + losses[16:].mean()) / 20
    assert row["val_loss_authors"] == pytest.approx(float(expected), rel=1e-4)
    losses = torch.tensor([1.0, 3.0, 2.0, 2.0, 6.0])
    assert train_module.authors_scale_loss(losses, 2) == pytest.approx((2 + 2 + 6) / 5)
    assert train_module.authors_scale_loss(losses, 1) == pytest.approx(float(losses.mean()))


def test_training_and_reporting_jobs_start_without_importing_scikit_learn():
    """sklearn.metrics costs 0.4-0.5 s of CPU to import, 15 % of a training job's start-up
    (bench/README.md, "Fine-tuning"); only the confusion-matrix job needs it."""
    code = (
        "import sys, images_as_data.finetune.pipeline, images_as_data.finetune.reporting; "
        "print(sorted({name.split('.')[0] for name in sys.modules} & {'sklearn', 'scipy'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"
