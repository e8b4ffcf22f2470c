"""`transfer-studio summary` and `transfer-studio weights`."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from conftest import REPO
from desktop_app.cli import main as cli_main


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    home = tmp_path / "keras-home"
    monkeypatch.setenv("KERAS_HOME", str(home))
    return home


def test_summary_prints_tree_and_keras_totals(capsys):
    assert cli_main(["summary", "--classes", "10"]) == 0
    out = capsys.readouterr().out
    assert "base_model (Functional)" in out and "block6h_project_conv (Conv2D)" in out
    assert "Total params: 5,932,122 (22.63 MB)" in out
    assert "Trainable params: 12,810 (50.04 KB)" in out
    assert "Non-trainable params: 5,919,312 (22.58 MB)" in out


def test_summary_unfreeze_changes_trainable(capsys):
    args = ["summary", "--base", "mobilenet", "--alpha", "0.25", "--classes", "3", "--img-size", "32"]
    assert cli_main(args) == 0
    frozen = capsys.readouterr().out
    assert cli_main([*args, "--unfreeze", "5"]) == 0
    unfrozen = capsys.readouterr().out
    trainable = [line for line in (frozen, unfrozen) for line in line.splitlines() if line.startswith("Trainable")]
    assert trainable[0].startswith("Trainable params: 771 ")  # 256*3 + 3
    assert trainable[0] != trainable[1]


def test_summary_bad_width_is_one_sentence(capsys):
    assert cli_main(["summary", "--base", "mobilenet", "--alpha", "0.3"]) == 1
    assert capsys.readouterr().err.startswith("Error: MobileNet comes in widths")


def test_weights_list_import_and_download(keras_home, shared_weights, tmp_path, capsys):
    env = {**os.environ, "KERAS_HOME": str(keras_home)}
    listed = subprocess.run([sys.executable, "-m", "desktop_app", "weights", "list"], capture_output=True,
                            text=True, cwd=REPO, env=env, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert re.search(r"mobilenet --alpha 0\.25 +missing", listed.stdout) and "efficientnet_v2_b0" in listed.stdout

    assert cli_main(["weights", "import", str(shared_weights)]) == 0  # no --base: the file says what it is
    assert "this file is MobileNet with width 0.25" in capsys.readouterr().out
    assert cli_main(["weights", "list"]) == 0
    assert re.search(r"mobilenet --alpha 0\.25 +cached +2\.1 MB", capsys.readouterr().out)

    assert cli_main(["weights", "import", str(shared_weights), "--base", "mobilenet", "--alpha", "0.5"]) == 1
    err = capsys.readouterr().err
    assert "holds the weights of MobileNet with width 0.25, not of MobileNet with width 0.5" in err
    assert "(3, 3" not in err  # words, not weight shapes

    assert cli_main(["weights", "download", "mobilenet", "--alpha", "0.25"]) == 0
    assert "Already downloaded" in capsys.readouterr().out


def test_weights_download_offline_is_one_sentence(keras_home, monkeypatch, capsys):
    import socket

    def refuse(*args, **kwargs):
        raise OSError("network disabled by the test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    assert cli_main(["weights", "download", "convnext_tiny", "--timeout", "3"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: Could not download the ImageNet weights for ConvNeXt-Tiny")
    assert "Traceback" not in err


def test_one_import_then_training_at_another_size_uses_the_imagenet_weights_offline(
        keras_home, shared_weights, tmp_path, monkeypatch, capsys):
    """The classroom without internet: import the file once (no flags), train at 128 px."""
    import json
    import socket

    import h5py
    import numpy as np

    from conftest import make_image_folder

    assert cli_main(["weights", "import", str(shared_weights)]) == 0
    capsys.readouterr()
    tried = []

    def offline(*args, **kwargs):
        tried.append(args)
        raise OSError("network disabled by the test")

    monkeypatch.setattr(socket, "getaddrinfo", offline)
    monkeypatch.setattr(socket.socket, "connect", offline)
    data = make_image_folder(tmp_path / "data", per_class=3, size=24)
    out = tmp_path / "run"
    assert cli_main(["train", str(data), "--out", str(out), "--base", "mobilenet", "--alpha", "0.25",
                     "--img-size", "128", "--epochs", "1", "--no-augment"]) == 0, capsys.readouterr().err
    assert tried == []  # no download was attempted
    model = json.loads((out / "config.json").read_text())["model"]
    assert (model["backbone"], model["alpha"], model["img_size"], model["weights"]) == ("mobilenet", 0.25, 128,
                                                                                        "imagenet")
    import keras

    base = keras.saving.load_model(out / "model.keras").get_layer("base_model")
    with h5py.File(shared_weights, "r") as f:
        np.testing.assert_array_equal(base.get_layer("conv1").kernel.numpy(), f["conv1"]["conv1/kernel:0"][()])
