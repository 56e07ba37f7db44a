"""Labelling new images: which images, batching, unreadable files, provenance columns."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import torch
from PIL import Image

from images_as_data.finetune.data import ImageStore, build_store
from images_as_data.finetune.model import build_model
from images_as_data.finetune.pipeline import build_image_store_file, train_and_save, write_new_image_list, write_predictions
from images_as_data.finetune.predict import (
    images_in_folder,
    label_images,
    list_new_images,
    predict_with_run,
    unlabelled_images,
)
from images_as_data.finetune.synthetic import write_shape_task

STORE, CROP = 40, 32


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """One tiny trained run in <tmp>/runs/shapes/<setting>/seed1, plus its grid_runs.csv."""
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("predict")
    table = write_shape_task(root / "images", ["negative", "positive"], {"train": 24, "val": 8}, size=STORE)
    table.to_csv(root / "split.csv", index=False)
    build_store(root / "split.csv", STORE).save(root / "store.pt")
    run = root / "runs" / "shapes" / "lr0.01_m0.9_b8" / "seed1"
    outputs = {key: run / name for key, name in
               [("epochs", "epochs.csv"), ("model", "model.pt"), ("predictions", "predictions.csv"), ("summary", "summary.json")]}  # fmt: skip
    train_and_save(
        root / "store.pt", outputs, "shapes", "lr0.01_m0.9_b8", 1, {"crop_size": CROP, "epochs": 3, "device": "cpu"}
    )
    from images_as_data.finetune.reporting import collect_grid_runs

    collect_grid_runs([outputs["summary"]], root / "grid_runs.csv")
    return root, run


def test_unlabelled_images_are_working_images_of_unannotated_clusters(tmp_path):
    pd.DataFrame(
        {"image_id": ["a.jpg", "b.jpg", "c.jpg"], "cluster_id": ["a.jpg", "b.jpg", "c.jpg"],
         "path": ["w/a.png", "w/b.png", "w/c.png"], "width": 1, "height": 1, "orig_width": 1, "orig_height": 1}
    ).to_csv(tmp_path / "manifest.csv", index=False)  # fmt: skip
    pd.DataFrame({"cluster_id": ["b.jpg"], "n_annotators": [2]}).to_csv(tmp_path / "aggregated.csv", index=False)
    new = unlabelled_images(tmp_path / "manifest.csv", tmp_path / "aggregated.csv")
    assert new["image_id"].tolist() == ["a.jpg", "c.jpg"]
    assert new["path"].tolist() == ["w/a.png", "w/c.png"]
    write_new_image_list(None, tmp_path / "new.csv", tmp_path / "manifest.csv", tmp_path / "aggregated.csv")
    assert pd.read_csv(tmp_path / "new.csv").columns.tolist() == ["image_id", "path"]


def test_folder_listing_keeps_non_images_so_they_are_reported(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "notes.txt").write_text("hello")
    (tmp_path / ".hidden").write_text("x")
    listed = images_in_folder(tmp_path)
    assert listed["image_id"].tolist() == ["sub/notes.txt"]
    with pytest.raises(ValueError, match="neither a folder nor a .csv"):
        list_new_images(str(tmp_path / "missing.txt"))


def test_batched_labelling_equals_one_at_a_time_and_lists_unreadable_files(trained_run, tmp_path):
    root, run = trained_run
    summary = json.loads((run / "summary.json").read_text())
    model = build_model("resnet18", 2).eval()
    model.load_state_dict(torch.load(run / "model.pt", weights_only=True))
    new = write_shape_task(tmp_path / "new", ["negative", "positive"], {"new": 3}, size=STORE, seed=5)[
        ["image_id", "path"]
    ]
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    new = pd.concat([new, pd.DataFrame({"image_id": ["broken.jpg", "gone.png"],
                                        "path": [str(tmp_path / "broken.jpg"), str(tmp_path / "gone.png")]})])  # fmt: skip
    batched = label_images(model, new, summary["classes"], STORE, CROP, batch=4)
    single = label_images(model, new, summary["classes"], STORE, CROP, batch=1)
    assert batched["status"].tolist() == ["ok"] * 6 + ["unreadable"] * 2
    assert "gone.png" in batched["reason"].iloc[-1] or "No such file" in batched["reason"].iloc[-1]
    ok = batched[batched["status"] == "ok"]
    pd.testing.assert_frame_equal(ok, single[single["status"] == "ok"], atol=1e-5)
    assert (ok[["prob_negative", "prob_positive"]].sum(axis=1) - 1).abs().max() < 1e-5
    assert set(ok["predicted"]) <= {"negative", "positive"}


def test_predictions_record_the_chosen_model_and_config(trained_run, tmp_path):
    root, run = trained_run
    new = write_shape_task(tmp_path / "new", ["positive"], {"new": 4}, size=STORE, seed=9)[["image_id", "path"]]
    new.to_csv(tmp_path / "new.csv", index=False)
    build_image_store_file(tmp_path / "new.csv", tmp_path / "new_images.pt", STORE)
    write_predictions(
        root / "grid_runs.csv",
        "shapes",
        ["lr0.01_m0.9_b8"],
        tmp_path / "new_images.pt",
        tmp_path / "out.csv",
        batch=3,
        device="cpu",
    )
    out = pd.read_csv(tmp_path / "out.csv")
    summary = json.loads((run / "summary.json").read_text())
    assert len(out) == 4 and (out["status"] == "ok").all()
    assert out["model"].iloc[0].endswith("seed1/model.pt")
    assert (out["config_hash"] == summary["config_hash"]).all()
    assert (out["task"] == "shapes").all()
    assert (out["predicted"] == "positive").mean() >= 0.75


@pytest.mark.parametrize("crop_source", ["full_image", "centre_square"])
def test_labelling_a_runs_validation_images_gives_the_probabilities_it_recorded(tmp_path, crop_source):
    """New images are decoded as the run's store was (whole image or centre square), so the
    run's own validation images get the probabilities of its validation pass."""
    torch.set_num_threads(1)
    table = write_shape_task(tmp_path / "images", ["negative", "positive"], {"train": 8, "val": 4}, size=STORE)
    # A tall image and one past max_aspect: stored transposed, and scaled down.
    table.loc[0, "split"] = table.loc[1, "split"] = "val"
    for row, shape in ((0, (STORE, 2 * STORE)), (1, (5 * STORE, STORE))):
        Image.open(table.loc[row, "path"]).resize(shape).save(table.loc[row, "path"])
    table.to_csv(tmp_path / "split.csv", index=False)
    build_store(tmp_path / "split.csv", STORE, crop_source=crop_source).save(tmp_path / "store.pt")
    run = tmp_path / "run"
    outputs = {key: run / f"{key}.{ext}" for key, ext in
               [("epochs", "csv"), ("model", "pt"), ("predictions", "csv"), ("summary", "json")]}  # fmt: skip
    train_and_save(tmp_path / "store.pt", outputs, "shapes", "lr0.01_m0.9_b4", 1,
                   {"crop_size": CROP, "epochs": 1, "device": "cpu"})  # fmt: skip
    summary = json.loads(outputs["summary"].read_text())
    assert summary["crop_source"] == crop_source
    recorded = pd.read_csv(outputs["predictions"]).set_index("image_id")
    model = build_model("resnet18", 2).eval()
    model.load_state_dict(torch.load(outputs["model"], weights_only=True))
    labelled = label_images(model, recorded.reset_index()[["image_id", "path"]], summary["classes"], STORE, CROP,
                            batch=3, crop_source=crop_source).set_index("image_id")  # fmt: skip
    pd.testing.assert_series_equal(labelled["prob_positive"], recorded["prob_positive"], atol=1e-5)


def test_one_shared_decode_labels_as_decoding_for_the_run_does(trained_run, tmp_path, caplog):
    """Every task's predictions read the images decoded once (rule predict_store): the same
    table as decoding them for the run, unreadable files included; a store decoded with other
    settings than the run's store is not used (the images are decoded again, with a warning)."""
    root, run = trained_run
    new = write_shape_task(tmp_path / "new", ["negative", "positive"], {"new": 3}, size=STORE, seed=3)[["image_id", "path"]]
    new = pd.concat([new, pd.DataFrame({"image_id": ["gone.png"], "path": [str(tmp_path / "gone.png")]})])
    new.to_csv(tmp_path / "new.csv", index=False)
    build_image_store_file(tmp_path / "new.csv", tmp_path / "shared.pt", STORE)
    shared = ImageStore.load(tmp_path / "shared.pt")
    assert shared.errors[-1] and not any(shared.errors[:-1])
    from_store = predict_with_run(run, shared, batch=2, device="cpu")
    decoded_here = predict_with_run(run, new.reset_index(drop=True), batch=4, device="cpu")
    pd.testing.assert_frame_equal(from_store, decoded_here, atol=1e-5)
    assert from_store["status"].tolist() == ["ok"] * 6 + ["unreadable"]
    other = ImageStore.decode(new.reset_index(drop=True), 2 * STORE)
    with caplog.at_level("WARNING"):
        again = predict_with_run(run, other, batch=4, device="cpu")
    assert "decoding them again" in caplog.text
    pd.testing.assert_frame_equal(again, decoded_here, atol=1e-5)
