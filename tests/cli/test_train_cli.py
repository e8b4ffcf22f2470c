"""`transfer-studio train`: the files it writes, bad input, real pretrained weights."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO, make_image_folder, write_image
from desktop_app.cli import main as cli_main


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run(
        [sys.executable, "-m", "desktop_app", *args], capture_output=True, text=True, cwd=REPO, env=env, timeout=600
    )


def test_train_writes_every_run_file(tmp_path):
    data = make_image_folder(tmp_path / "data", per_class=10)
    out = tmp_path / "run"
    result = run_cli("train", str(data), "--out", str(out), "--weights", "none", "--img-size", "64", "--epochs", "2")
    assert result.returncode == 0, result.stderr
    epoch_lines = [line for line in result.stdout.splitlines() if line.startswith("Epoch ")]
    assert [line.split(":")[0] for line in epoch_lines] == ["Epoch 1/2", "Epoch 2/2"]

    history = json.loads((out / "history.json").read_text())
    assert [row["epoch"] for row in history] == [1, 2]
    for row in history:
        assert {"epoch", "loss", "accuracy", "val_loss", "val_accuracy"} <= set(row)
        assert all(np.isfinite(row[k]) for k in ("loss", "accuracy", "val_loss", "val_accuracy"))

    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["classes"] == ["blue", "green", "red"]
    assert metrics["num_train_images"] == 24 and metrics["num_val_images"] == 6
    assert metrics["final_val_accuracy"] == history[-1]["val_accuracy"]
    assert metrics["best_val_accuracy"] == max(row["val_accuracy"] for row in history)
    assert metrics["best_val_loss"] == min(row["val_loss"] for row in history)
    assert metrics["final_val_loss"] == history[-1]["val_loss"]

    assert (out / "labels.txt").read_text().splitlines() == ["blue", "green", "red"]
    summary = (out / "summary.txt").read_text()
    assert "data_augmentation (Sequential)" in summary and "base_model (Functional)" in summary
    assert "Total params:" in summary and "Non-trainable params:" in summary
    # Fast mode (the default: augmentation bank while the base is frozen): the whole model
    # once, then the head each epoch.
    assert {p.name for p in (out / "checkpoints").glob("*.keras")} == {"best.keras", "last.keras", "whole.keras"}
    whole_size = (out / "checkpoints" / "whole.keras").stat().st_size
    assert (out / "checkpoints" / "last.keras").stat().st_size * 20 < whole_size <= (out / "model.keras").stat().st_size

    import keras

    model = keras.saving.load_model(out / "model.keras")
    probabilities = model.predict(np.zeros((2, 64, 64, 3), np.float32), verbose=0)
    assert probabilities.shape == (2, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_train_uses_test_folder_for_validation(tmp_path, capsys):
    root = tmp_path / "food"
    make_image_folder(root / "train", per_class=5)
    make_image_folder(root / "test", per_class=2)
    out = tmp_path / "run"
    code = cli_main(["train", str(root), "--out", str(out), "--weights", "none", "--base", "mobilenet",
                     "--alpha", "0.25", "--img-size", "32", "--epochs", "1", "--no-augment"])
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["num_train_images"] == 15
    assert metrics["num_val_images"] == 6
    assert metrics["val_images_per_class"] == {"blue": 2, "green": 2, "red": 2}
    # The advice in words comes right after the best score.
    from desktop_app.core.results.advice import advise_run

    lines = capsys.readouterr().out.splitlines()
    from desktop_app.core.train.devices import local_devices

    assert f"Training on {local_devices().words}" in lines  # what it trains on, before it does
    best = next(i for i, line in enumerate(lines) if line.startswith("Best val_accuracy"))
    assert lines[best + 1] == f"Advice: {advise_run(out).text}"


@pytest.mark.parametrize(
    "layout, expected",
    [
        ("missing", "does not exist"),
        ("one_class", "only one class"),
        ("no_images", "No images were found"),
    ],
)
def test_bad_input_exits_with_one_clear_sentence(tmp_path, layout, expected):
    data = tmp_path / "data"
    if layout == "one_class":
        write_image(data / "cats" / "a.png", (200, 0, 0))
    elif layout == "no_images":
        (data / "cats").mkdir(parents=True)
        (data / "dogs").mkdir()
        (data / "dogs" / "notes.txt").write_text("hello")
    result = run_cli("train", str(data), "--out", str(tmp_path / "run"), "--weights", "none")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0]
    assert not (tmp_path / "run").exists()


def test_missing_weights_file_is_a_clear_error(tmp_path, capsys):
    data = make_image_folder(tmp_path / "data", per_class=3)
    code = cli_main(["train", str(data), "--out", str(tmp_path / "run"), "--weights", str(tmp_path / "nope.h5"),
                     "--base", "mobilenet", "--img-size", "32"])
    assert code == 1
    assert "nope.h5 does not exist" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()  # a failed start leaves no empty run behind


def test_without_out_the_run_is_named_after_its_dataset_base_and_time(tmp_path, capsys, private_data_dir):
    import re

    data = make_image_folder(tmp_path / "Bird photos", per_class=3)
    tiny = ["--weights", "none", "--base", "mobilenet", "--alpha", "0.25", "--img-size", "32", "--epochs", "1"]
    assert cli_main(["train", str(data), *tiny]) == 0
    (run,) = (private_data_dir / "runs").iterdir()  # among the app's runs: the window lists it
    assert re.fullmatch(r"bird-photos-mobilenet-\d{4}-\d\d-\d\d_\d{4}", run.name), run.name
    assert f"The run goes to {run}" in capsys.readouterr().out
    assert (run / "model.keras").is_file()


def _h5_layer_weights(path):
    import h5py

    with h5py.File(path, "r") as f:
        return {
            name.decode() if isinstance(name, bytes) else name: [
                np.asarray(f[name][w]) for w in f[name].attrs["weight_names"]
            ]
            for name in f.attrs["layer_names"]
        }


def test_mobilenet_with_real_imagenet_weights(tmp_path, shared_weights):
    data = make_image_folder(tmp_path / "data", per_class=6)
    out = tmp_path / "run"
    code = cli_main(["train", str(data), "--out", str(out), "--base", "mobilenet", "--alpha", "0.25",
                     "--weights", str(shared_weights), "--img-size", "64", "--epochs", "1"])
    assert code == 0
    import keras

    base = keras.saving.load_model(out / "model.keras").get_layer("base_model")
    expected = _h5_layer_weights(shared_weights)
    compared = 0
    for layer in base.layers:
        arrays = expected.get(layer.name, [])
        assert len(arrays) == len(layer.weights), layer.name
        for weight, array in zip(layer.weights, arrays):
            np.testing.assert_array_equal(weight.numpy(), array, err_msg=f"{layer.name}/{weight.name}")
            compared += 1
    assert compared == sum(len(a) for a in expected.values()) > 100


def test_efficientnet_v2_b0_summary_counts_match_the_reference_notebook(tmp_path):
    classes = {f"class_{i}": (i * 25, 255 - i * 25, (i * 77) % 255) for i in range(10)}
    data = make_image_folder(tmp_path / "data", per_class=2, classes=classes, size=16)
    out = tmp_path / "run"
    code = cli_main(["train", str(data), "--out", str(out), "--weights", "none", "--img-size", "224",
                     "--epochs", "1", "--batch-size", "16", "--val-split", "0.5"])
    assert code == 0
    summary = (out / "summary.txt").read_text()
    assert "Total params: 5,932,122" in summary
    assert "Trainable params: 12,810" in summary
    assert "Non-trainable params: 5,919,312" in summary


def test_every_setting_flag_reaches_the_runs_config():
    """One table of flags, one session field each: what is given lands in the config."""
    from desktop_app.cli import build_parser
    from desktop_app.cli.settings_flags import FLAGS
    from desktop_app.cli.train import new_run_config

    args = build_parser().parse_args([
        "train", "data", "--out", "run", "--base", "mobilenet", "--alpha", "0.5", "--weights", "none",
        "--img-size", "96", "--pooling", "max", "--dropout", "0.2", "--hidden-units", "8", "--subset", "10",
        "--val-split", "0.3", "--seed", "5", "--epochs", "3", "--batch-size", "8", "--lr", "0.01",
        "--optimizer", "sgd", "--label-smoothing", "0.1", "--no-fast", "--unfreeze", "4", "--fine-tune-lr", "0.002",
        "--fine-tune-epochs", "2", "--no-augment", "--mixed-precision",
    ])
    config = new_run_config(args)
    given = {f.setting for f in FLAGS}
    values = {f"{section}.{name}": value for section in ("split", "model", "training")
              for name, value in vars(getattr(config, section)).items()}
    assert given <= set(values)  # every flag names a real setting
    assert values["model.weights"] is None and values["training.label_smoothing"] == 0.1
    assert (values["model.backbone"], values["model.alpha"], values["model.img_size"]) == ("mobilenet", 0.5, 96)
    assert values["training.fast"] is False and values["training.fine_tune"] is True
    assert values["training.mixed_precision"] is True
    assert config.augmentation.is_identity
    # Not given: the session's own defaults.
    defaults = new_run_config(build_parser().parse_args(["train", "data", "--out", "run"]))
    from desktop_app.core.session import Settings

    assert (defaults.model, defaults.training, defaults.split) == (Settings().model, Settings().training,
                                                                   Settings().split)
