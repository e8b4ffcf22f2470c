"""The Train page: a real (tiny) training run in its own process, fed by the page's settings."""

from __future__ import annotations

import pytest

from conftest import make_image_folder, wait_for_dataset
from desktop_app.core.augment.spec import AugmentationSpec
from desktop_app.core.data.scan import scan_folder
from desktop_app.core.data.validate import validate_index
from desktop_app.core.results import advice as advice_module
from desktop_app.core.results.advice import Advice, advise_run
from desktop_app.core.runs import RunFolder
from desktop_app.core.session import ModelSettings, TrainingConfig
from desktop_app.ui.pages.train import TrainPanel, format_seconds


@pytest.fixture
def panel(qtbot, tmp_path, session):
    folder = make_image_folder(tmp_path / "data", per_class=8)
    session.index = validate_index(scan_folder(folder))
    session.model = ModelSettings("mobilenet", 0.25, 32, weights=None)
    session.augmentation = AugmentationSpec()
    session.runs_folder = tmp_path / "runs"
    panel = TrainPanel(session)
    qtbot.addWidget(panel)
    panel.resize(1100, 700)
    panel.show()
    panel.batch_size.setValue(4)
    yield panel
    panel.stop()
    qtbot.waitUntil(lambda: not panel.is_training(), timeout=60_000)


def _wait_idle(qtbot, panel, timeout=180_000):
    qtbot.waitUntil(lambda: not panel.is_training() and panel.start_button.isEnabled(), timeout=timeout)


def test_one_tiny_epoch_fills_curves_and_checkpoints(qtbot, panel):
    panel.epochs.setValue(1)
    panel.learning_rate.setValue(0.002)
    assert panel.session.training.epochs == 1 and panel.session.training.learning_rate == 0.002
    with qtbot.waitSignal(panel.session.events.finished_run, timeout=180_000) as finished:
        qtbot.mouseClick(panel.start_button, qtbot_button())
        assert panel.stop_button.isEnabled() and not panel.start_button.isEnabled()
    _wait_idle(qtbot, panel)

    assert panel.curves.epoch_count() == 1
    assert panel.curves.batch_count() >= 1
    assert panel.checkpoints.rowCount() == 2
    kinds = {panel.checkpoints.item(r, 0).text() for r in range(2)}
    assert kinds == {"best", "last"}
    run = RunFolder(finished.args[0].path)
    assert run.path.parent == panel.session.runs_folder and run.has_model()
    assert panel.session.run == run.path
    # The run trained with what the page showed.
    config = run.read_config()
    assert config.training == panel.session.training and config.model == panel.session.model
    assert config.data == panel.session.index.root
    (row,) = run.read_history()
    assert row["epoch"] == 1 and row["learning_rate"] == 0.002
    assert "Finished" in panel.status.text()
    assert "Fast mode" in panel.mode_label.text()


def test_stop_then_resume_continues_the_timeline(qtbot, panel):
    panel.epochs.setValue(40)
    panel.fast.setChecked(False)
    seen = []

    def stop_after_first_epoch():
        if panel.curves.epoch_count() >= 1 and not seen:
            seen.append(True)
            qtbot.mouseClick(panel.stop_button, qtbot_button())
        return bool(seen) and not panel.is_training()

    panel.start()
    qtbot.waitUntil(stop_after_first_epoch, timeout=180_000)
    _wait_idle(qtbot, panel)
    done = panel.curves.epoch_count()
    assert 1 <= done < 40
    assert "Stopped" in panel.status.text()

    first = panel.training
    panel.resume()
    assert panel.training is not first and panel.is_training()
    qtbot.waitUntil(lambda: panel.curves.epoch_count() > done, timeout=180_000)
    panel.stop()
    _wait_idle(qtbot, panel)
    epochs = [row["epoch"] for row in RunFolder(panel.session.run).read_history()]
    assert epochs == list(range(1, len(epochs) + 1)) and len(epochs) > done


def test_advice_after_a_run_says_what_to_try_and_its_button_does_it(qtbot, panel):
    panel.epochs.setValue(2)
    with qtbot.waitSignal(panel.session.events.finished_run, timeout=180_000):
        panel.start()
    _wait_idle(qtbot, panel)
    run = panel.session.run
    advice = advise_run(run)
    assert panel.advice_label.isVisible() and panel.advice_label.text() == advice.text
    assert panel.advice_label.wordWrap() and panel.advice_label.accessibleName()
    assert panel.advice_button.isVisible() == (advice.action is not None)

    # "Train N more epochs" goes on with the same run, on the same timeline.
    panel.show_advice(Advice("Train longer.", advice_module.TRAIN_LONGER), run)
    assert panel.advice_button.text() == f"Train {advice_module.MORE_EPOCHS} more epochs"
    with qtbot.waitSignal(panel.session.events.finished_run, timeout=180_000):
        qtbot.mouseClick(panel.advice_button, qtbot_button())
        assert panel.is_training() and panel.advice_label.isHidden() and panel.advice_button.isHidden()
    _wait_idle(qtbot, panel)
    epochs = [row["epoch"] for row in RunFolder(run).read_history()]
    assert epochs == list(range(1, 3 + advice_module.MORE_EPOCHS)) and panel.session.run == run
    assert panel.advice_label.isVisible() and panel.advice_label.text() == advise_run(run).text


def test_advice_buttons_go_to_pages_halve_the_learning_rate_and_fine_tune(qtbot, tmp_path, monkeypatch):
    from desktop_app.ui.shell.main_window import MainWindow

    run = RunFolder(tmp_path / "run")
    run.create()
    run.write_config(TrainingConfig.of(tmp_path / "data", run.path, learning_rate=0.004))
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    panel = window.train_panel
    for action, page in ((advice_module.GO_TO_MODEL, window.model_panel),
                         (advice_module.GO_TO_AUGMENT, window.augment_panel),
                         (advice_module.GO_TO_DATA, window.data_panel)):
        window.go_to_step("Train")
        panel.show_advice(Advice("Look there.", action), run.path)
        qtbot.mouseClick(panel.advice_button, qtbot_button())
        assert window.pages.currentWidget() is page

    window.go_to_step("Train")
    panel.show_advice(Advice("Too big steps.", advice_module.HALVE_LEARNING_RATE), run.path)
    assert panel.advice_button.text() == "Halve the learning rate"
    panel.advice_button.click()
    assert window.session.training.learning_rate == 0.002 and panel.learning_rate.value() == 0.002

    fine_tuned = []
    monkeypatch.setattr(panel, "fine_tune", lambda: fine_tuned.append(True))
    panel.show_advice(Advice("Fine-tune.", advice_module.FINE_TUNE), run.path)
    panel.advice_button.click()
    assert fine_tuned == [True]

    panel.show_advice(Advice("Levelled off.", None), run.path)
    assert panel.advice_label.isVisible() and panel.advice_button.isHidden()
    panel.show_advice(None)
    assert panel.advice_label.isHidden() and panel.advice_button.isHidden()


def test_missing_dataset_is_a_message(qtbot, session):
    panel = TrainPanel(session)
    qtbot.addWidget(panel)
    panel.start()
    assert "Choose a dataset" in panel.status.text()
    assert panel.training is None


def test_the_session_drives_the_settings(qtbot, panel):
    panel.session.update("training", epochs=7, fine_tune=True, fine_tune_epochs=3, unfreeze_layers=12,
                         fine_tune_learning_rate=0.00005, optimizer="sgd", fast=False)
    assert (panel.epochs.value(), panel.fine_tune_epochs.value(), panel.unfreeze.value()) == (7, 3, 12)
    assert panel.fine_tune_box.isChecked() and panel.optimizer.currentData() == "sgd" and not panel.fast.isChecked()
    assert panel.fine_tune_lr.value() == pytest.approx(0.00005)
    panel.fine_tune_lr.setValue(0.0)
    assert panel.session.training.fine_tune_learning_rate is None  # "automatic"
    panel.label_smoothing.setValue(0.1)
    assert panel.session.training.label_smoothing == 0.1
    panel.quick_button.click()
    assert panel.session.split.subset_percent == 10.0 and panel.session.training.epochs == 5
    assert panel.session.training.learning_rate == 3e-3 and panel.session.training.fast
    assert panel.learning_rate.value() == pytest.approx(3e-3) and panel.fast.isChecked()  # the page shows them
    assert "learning rate 0.003" in panel.quick_button.toolTip()


def test_time_is_said_in_words():
    assert format_seconds(42.4) == "42 s"
    assert format_seconds(125) == "2 min 05 s"
    assert format_seconds(3 * 3600 + 60) == "3 h 01 min"


def qtbot_button():
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton


def test_closing_the_window_during_training_stops_it_and_keeps_the_checkpoint(qtbot, tmp_path):
    from desktop_app.ui.shell.main_window import MainWindow

    folder = make_image_folder(tmp_path / "data", per_class=8)
    window = MainWindow(data_folder=str(folder))
    qtbot.addWidget(window)
    window.show()
    wait_for_dataset(qtbot, window.session)
    window.session.model = ModelSettings("mobilenet", 0.25, 32, weights=None)
    window.session.augmentation = AugmentationSpec()
    window.train_panel.epochs.setValue(500)
    window.train_panel.batch_size.setValue(4)
    window.train_panel.fast.setChecked(False)
    window.train_panel.start()
    qtbot.waitUntil(lambda: window.train_panel.curves.epoch_count() >= 1, timeout=180_000)
    assert not window.close()  # not yet: training winds down first, the window stays responsive
    assert window.isVisible()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=60_000)
    run = RunFolder(window.session.run)
    history = run.read_history()
    assert 1 <= len(history) < 500
    import keras

    keras.saving.load_model(run.checkpoint_path("last"))
