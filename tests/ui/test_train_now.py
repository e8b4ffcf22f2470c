""""Train with these photos" on the Data page: straight to a trained model on the Train page,
with a base whose ImageNet weights are on this computer, named on the page."""

from __future__ import annotations

import shutil

from conftest import SHARED_WEIGHTS, make_image_folder, wait_for_dataset
from desktop_app.core.model.weights import cache_dir
from desktop_app.core.runs import RunFolder
from desktop_app.ui.shell.main_window import MainWindow


def _window(qtbot, tmp_path) -> MainWindow:
    window = MainWindow(data_folder=str(make_image_folder(tmp_path / "photos", per_class=6)))
    qtbot.addWidget(window)
    window.session.runs_folder = tmp_path / "runs"
    wait_for_dataset(qtbot, window.session)
    return window


def test_train_with_these_photos_ends_in_a_trained_model(qtbot, tmp_path, monkeypatch, shared_weights):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    cache_dir().mkdir(parents=True)
    shutil.copy(shared_weights, cache_dir() / SHARED_WEIGHTS.name)  # MobileNetV2's are not here: the fallback
    window = _window(qtbot, tmp_path)
    panel = window.train_panel
    with qtbot.waitSignal(window.session.events.finished_run, timeout=240_000) as finished:
        window.data_panel.train_button.click()
        assert window.pages.currentWidget() is panel
        assert panel.is_training()
    note = panel.quick_note.text()
    assert panel.quick_note.isVisibleTo(panel) and "Training MobileNet (width 0.25) at 224 px" in note
    assert "MobileNetV2's, the usual choice, are not" in note  # why not the usual choice

    run = finished.args[0]
    assert not run.stopped and window.session.run == run.path
    config = RunFolder(run.path).read_config()
    assert (config.model.backbone, config.model.alpha, config.model.img_size) == ("mobilenet", 0.25, 224)
    assert config.model.weights == "imagenet" and config.training.fast and config.split.subset_percent == 100
    assert RunFolder(run.path).read_metrics()["epochs_completed"] == config.training.epochs
    # Every setting stays the user's to change: the Model and Train pages show the chosen ones.
    assert panel.epochs.value() == config.training.epochs
    qtbot.waitUntil(lambda: panel.start_button.isEnabled(), timeout=60_000)
    panel.start_button.click()  # the user's own Start: the quick start's note goes
    assert not panel.quick_note.isVisibleTo(panel)
    panel.stop()
    qtbot.waitUntil(lambda: not panel.is_training(), timeout=120_000)


def test_without_weights_it_says_how_to_get_them_and_does_not_start(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    window = _window(qtbot, tmp_path)
    window.data_panel.trainRequested.emit()
    panel = window.train_panel
    assert window.pages.currentWidget() is panel and not panel.is_training()
    assert "No pretrained weights are on this computer yet" in panel.quick_note.text()
    assert window.session.model.backbone == "mobilenet_v2"
