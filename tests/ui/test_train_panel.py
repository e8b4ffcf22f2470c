"""The Train page: a real (tiny) training run through the worker thread."""

from __future__ import annotations

import json

import pytest

from conftest import make_image_folder
from desktop_app.core.augmentation import AugmentationSpec
from desktop_app.core.errors import UserError
from desktop_app.ui.train_panel import TrainPanel, format_seconds


@pytest.fixture
def panel(qtbot, tmp_path):
    folder = make_image_folder(tmp_path / "data", per_class=8)
    fields = dict(data=folder, backbone="mobilenet", alpha=0.25, weights=None, img_size=32,
                  augmentation=AugmentationSpec())
    panel = TrainPanel(config_source=lambda: dict(fields))
    panel.fields = fields
    qtbot.addWidget(panel)
    panel.resize(1100, 700)
    panel.show()
    panel.batch_size.setValue(4)
    yield panel
    panel.stop_background_work(30_000)


def _wait_idle(qtbot, panel, timeout=180_000):
    qtbot.waitUntil(lambda: panel.task is not None and not panel.task.is_running()
                    and panel.start_button.isEnabled(), timeout=timeout)


def test_one_tiny_epoch_fills_curves_and_checkpoints(qtbot, panel):
    panel.epochs.setValue(1)
    finished = []
    panel.runFinished.connect(finished.append)
    qtbot.mouseClick(panel.start_button, qtbot_button())
    assert panel.stop_button.isEnabled() and not panel.start_button.isEnabled()
    qtbot.waitUntil(lambda: bool(finished), timeout=180_000)
    _wait_idle(qtbot, panel)

    assert panel.curves.epoch_count() == 1
    assert panel.curves.batch_count() >= 1
    assert panel.checkpoints.rowCount() == 2
    kinds = {panel.checkpoints.item(r, 0).text() for r in range(2)}
    assert kinds == {"best", "last"}
    run = finished[0]
    assert (run / "model.keras").exists()
    assert json.loads((run / "history.json").read_text())[0]["epoch"] == 1
    assert "Finished" in panel.status.text()
    assert "Fast mode" in panel.mode_label.text()


def test_stop_then_resume_continues_the_timeline(qtbot, panel):
    panel.epochs.setValue(40)
    panel.fast.setChecked(False)
    seen = []
    panel.task = None

    def stop_after_first_epoch():
        if panel.curves.epoch_count() >= 1 and not seen:
            seen.append(True)
            qtbot.mouseClick(panel.stop_button, qtbot_button())
        return panel.task is not None and not panel.task.is_running()

    panel.start()
    qtbot.waitUntil(stop_after_first_epoch, timeout=180_000)
    _wait_idle(qtbot, panel)
    done = panel.curves.epoch_count()
    assert 1 <= done < 40
    assert "Stopped" in panel.status.text()

    first_task = panel.task
    panel.resume()
    assert panel.task is not first_task
    qtbot.waitUntil(lambda: panel.curves.epoch_count() > done, timeout=180_000)
    panel.stop()
    _wait_idle(qtbot, panel)
    epochs = [row["epoch"] for row in json.loads((panel.run_dir / "history.json").read_text())]
    assert epochs == list(range(1, len(epochs) + 1)) and len(epochs) > done


def test_missing_dataset_is_a_message(qtbot):
    def no_data():
        raise UserError("Choose a dataset on the Data page first.")

    panel = TrainPanel(config_source=no_data)
    qtbot.addWidget(panel)
    panel.start()
    assert "Choose a dataset" in panel.status.text()
    assert panel.task is None


def test_time_is_said_in_words():
    assert format_seconds(42.4) == "42 s"
    assert format_seconds(125) == "2 min 05 s"
    assert format_seconds(3 * 3600 + 60) == "3 h 01 min"


def qtbot_button():
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton


def test_closing_the_window_during_training_stops_it_and_keeps_the_checkpoint(qtbot, tmp_path):
    from desktop_app.ui.main_window import MainWindow

    folder = make_image_folder(tmp_path / "data", per_class=8)
    window = MainWindow(data_folder=str(folder))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.data_panel.index is not None and not window.data_panel.is_loading(),
                    timeout=60_000)
    fields = dict(data=folder, backbone="mobilenet", alpha=0.25, weights=None, img_size=32,
                  augmentation=AugmentationSpec())
    window.train_panel.config_source = lambda: dict(fields)
    window.train_panel.epochs.setValue(500)
    window.train_panel.batch_size.setValue(4)
    window.train_panel.fast.setChecked(False)
    window.train_panel.start()
    qtbot.waitUntil(lambda: window.train_panel.curves.epoch_count() >= 1, timeout=180_000)
    assert not window.close()  # not yet: training winds down first, the window stays responsive
    assert window.isVisible()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=60_000)
    run = window.train_panel.run_dir
    history = json.loads((run / "history.json").read_text())
    assert 1 <= len(history) < 500
    import keras

    keras.saving.load_model(run / "checkpoints" / "last.keras")
