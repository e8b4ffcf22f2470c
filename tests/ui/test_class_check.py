"""Help → Check this computer for class: every finding is true of this computer, now."""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtWidgets import QLabel

from conftest import SHARED_WEIGHTS, make_image_folder
from desktop_app.core import readiness
from desktop_app.core.model.weights import cache_dir
from desktop_app.core.session import ModelSettings
from desktop_app.ui.shell.class_check import ClassCheckDialog
from desktop_app.ui.shell.main_window import MainWindow

MOBILENET = ModelSettings(backbone="mobilenet", alpha=0.25, img_size=224)


def test_weights_finding_follows_the_cache(tmp_path):
    missing = readiness.weights_check(MOBILENET)
    assert missing.ready is False and "not on this computer" in missing.finding
    assert "mobilenet_2_5_224_tf_no_top.h5" in missing.advice
    if SHARED_WEIGHTS.is_file():
        cache_dir().mkdir(parents=True, exist_ok=True)
        shutil.copy(SHARED_WEIGHTS, cache_dir() / SHARED_WEIGHTS.name)
        assert readiness.weights_check(MOBILENET).ready is True
    random = readiness.weights_check(ModelSettings(weights=None))
    assert random.ready is False and "guessing" in random.finding


def test_disk_finding_compares_free_space_with_what_a_run_needs(tmp_path):
    free = shutil.disk_usage(tmp_path).free
    assert readiness.disk_check(tmp_path / "not-yet" / "runs", free // 2).ready is True
    short = readiness.disk_check(tmp_path, free * 2)
    assert short.ready is False and short.advice
    assert readiness.run_size_estimate(MOBILENET) >= readiness.RUN_EXTRA_BYTES


def test_dataset_and_engine_findings(tmp_path):
    assert readiness.dataset_check(None, None).ready is None  # the demo dataset, still being checked
    assert readiness.engine_check(False).ready is None
    assert readiness.engine_check(False, alive=False).ready is False
    assert readiness.engine_check(True).ready is True


def test_the_screen_updates_when_tensorflow_is_ready(qtbot, tmp_path):
    window = MainWindow(data_folder=str(make_image_folder(tmp_path / "photos", per_class=3)))
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.session.index is not None, timeout=60000)
    dialog = ClassCheckDialog(window.session, window.engine, window)
    qtbot.addWidget(dialog)
    assert dialog.verdicts["Photos"] is True
    assert "9 usable photos in 3 classes in photos" in " ".join(l.text() for l in dialog.findChildren(QLabel))
    assert dialog.verdicts["Pretrained weights"] is False  # EfficientNetV2-B0's file is not in the test cache
    qtbot.waitUntil(lambda: window.engine.warm, timeout=120000)
    qtbot.waitUntil(lambda: "TensorFlow is loaded" in " ".join(l.text() for l in dialog.findChildren(QLabel)),
                    timeout=10000)
    assert dialog.verdicts["TensorFlow"] is True
    shown = " ".join(label.text() for label in dialog.findChildren(QLabel))
    assert "Download them on the Model page" in shown and "free where runs are saved" in shown


def test_no_camera_gives_its_sentence(qtbot):
    """Asked of the real QtMultimedia: this computer (a test machine) has no camera."""
    from PySide6.QtMultimedia import QMediaDevices

    from desktop_app.ui.shell.class_check import camera_check

    if QMediaDevices.videoInputs():
        pytest.skip("this computer has a camera")
    check = camera_check()
    assert check.applies and check.ready is False
    assert check.finding == "No camera was found." and check.advice == "Plug in a webcam, or use photos from a folder."
