"""The Train page: a real (tiny) training run in its own process, fed by the page's settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Signal

from conftest import make_image_folder, wait_for_dataset
from desktop_app.core.augment.spec import AugmentationSpec
from desktop_app.core.data.scan import scan_folder
from desktop_app.core.data.validate import validate_index
from desktop_app.core.events import BatchEnd, DevicesInUse, EpochEnd, Estimate, PhaseStarted
from desktop_app.core.results import advice as advice_module
from desktop_app.core.results.advice import Advice, advise_run
from desktop_app.core.runs import RunFolder
from desktop_app.core.session import FEATURE_EXTRACTION, ModelSettings, TrainingConfig
from desktop_app.ui.pages.train import TrainPanel, format_seconds, time_left_words


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
    assert run.name.startswith("data-mobilenet-")  # its dataset, base and time
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
    answers = []
    window.ask_stop_training = lambda: answers.append(len(answers) > 0) or answers[-1]  # Cancel, then Yes
    assert not window.close()  # Cancel: everything goes on
    assert window.isVisible() and window.train_panel.is_training() and answers == [False]
    epochs = window.train_panel.curves.epoch_count()
    qtbot.waitUntil(lambda: window.train_panel.curves.epoch_count() > epochs, timeout=180_000)
    assert not window.close()  # Yes, but not yet: training winds down first, the window stays responsive
    assert window.isVisible() and answers == [False, True]
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=60_000)
    run = RunFolder(window.session.run)
    history = run.read_history()
    assert 1 <= len(history) < 500
    import keras

    keras.saving.load_model(run.checkpoint_path("last"))


# ----- progress, time estimates, Fine-tune and Resume (without a training process) -----


class FakeTraining(QObject):
    """Stands in for the training process: the test feeds the page its events."""

    event = Signal(object)
    failed = Signal(str)
    refused = Signal(object)
    finished = Signal()

    def __init__(self, request, parent=None):
        super().__init__(parent)
        self.request, self.running = request, True

    def stop(self):
        self.running = False


@pytest.fixture
def idle_panel(qtbot, tmp_path, session, monkeypatch):
    """The Train page with a dataset, whose Start / Resume / Fine-tune launch ``FakeTraining``."""
    import desktop_app.ui.pages.train as train_page

    monkeypatch.setattr(train_page, "TrainingRun", FakeTraining)
    session.index = validate_index(scan_folder(make_image_folder(tmp_path / "data", per_class=4)))
    session.runs_folder = tmp_path / "runs"
    panel = TrainPanel(session)
    qtbot.addWidget(panel)
    panel.resize(1100, 700)
    panel.show()
    return panel


def fake_run(session, name: str, epochs: int, done: int) -> Path:
    run = RunFolder(session.runs_folder / name)
    run.create()
    run.write_config(TrainingConfig.of(session.index.root, run.path, epochs=epochs))
    run.write_labels(list(session.index.classes))  # a run of this dataset
    run.write_history([{"epoch": e, "phase": FEATURE_EXTRACTION, "val_accuracy": 0.5} for e in range(1, done + 1)])
    return run.path


def words(panel):
    return [panel.bar_words[bar].text() for bar in (panel.epoch_bar, panel.batch_bar)]


def test_progress_bars_say_what_they_count_and_are_empty_before_start(idle_panel):
    panel = idle_panel
    assert words(panel) == ["Whole run: not started", "This epoch: not started"]
    for bar in (panel.epoch_bar, panel.batch_bar):
        assert panel.bar_words[bar].buddy() is bar and panel.bar_words[bar].isVisible()
        assert bar.value() == 0 and not bar.isEnabled()
        # A thin bar under its words, not a box that looks like a text field.
        assert not bar.isTextVisible() and bar.height() < panel.learning_rate.height()
    assert panel.time_label.text() == ""


def test_a_new_job_starts_with_empty_bars_and_no_time_guess(idle_panel):
    panel = idle_panel
    panel.on_event(EpochEnd(4, 4, FEATURE_EXTRACTION, {"val_accuracy": 0.9}, 1.0))  # the last job's end
    panel.on_event(BatchEnd(4, 6, 6))
    assert words(panel)[0] == "Whole run: 4 of 4 epochs done"
    panel.start()
    assert panel.is_training()
    assert words(panel) == ["Whole run: starting…", "This epoch: starting…"]
    assert all(bar.value() == 0 and bar.isEnabled() for bar in (panel.epoch_bar, panel.batch_bar))
    assert "estimating" in panel.time_label.text()

    panel.on_event(PhaseStarted(FEATURE_EXTRACTION, 1, 4, 0.001, 100))
    assert words(panel)[0] == "Whole run: 0 of 4 epochs done"
    panel.on_event(Estimate(0.2, 0.8))  # a guess from forward passes before the first epoch
    panel.on_event(BatchEnd(1, 1, 10, seconds_left=None))
    assert "estimating" in panel.time_label.text() and "0 s" not in panel.time_label.text()
    panel.on_event(BatchEnd(1, 3, 10, seconds_left=0.4))  # a few batches timed
    assert panel.time_label.text() == "Almost done"
    panel.on_event(Estimate(0.3, 0.4))
    assert panel.time_label.text() == "Under a second per epoch, almost done"
    panel.on_event(Estimate(30, 125))
    assert panel.time_label.text() == "About 30 s per epoch, about 2 min 05 s left"
    assert words(panel)[1] == "This epoch: batch 3 of 10" and panel.batch_bar.value() == 3


def test_the_page_says_what_the_run_trains_on_and_offers_mixed_precision(idle_panel):
    panel = idle_panel
    assert panel.devices_label.text() == ""
    panel.start()
    panel.on_event(DevicesInUse("CPU, 2 cores"))
    assert panel.devices_label.text() == "Training on: CPU, 2 cores" and panel.devices_label.isVisible()
    panel.on_event(DevicesInUse("2 GPUs: NVIDIA H200", replicas=2, mixed_precision=True))
    assert panel.devices_label.text() == ("Training on: 2 GPUs: NVIDIA H200, each batch split between them; "
                                          "mixed precision")
    check = panel.mixed_precision
    assert check.objectName() == "mixedPrecisionCheck" and check.accessibleName() and "7.0" in check.toolTip()
    assert not check.isChecked() and not panel.session.training.mixed_precision
    check.setChecked(True)
    assert panel.session.training.mixed_precision
    assert panel.config().training.mixed_precision  # the run asks for it


def test_time_left_is_never_zero_seconds():
    assert time_left_words(0.3, 0.01) == "Under a second per epoch, almost done"
    assert time_left_words(61) == "About 1 min 01 s left"


def test_the_settings_fine_tune_uses_are_shown_editable_and_named(qtbot, idle_panel):
    panel = idle_panel
    panel.session.update("training", fine_tune=False, fine_tune_epochs=3, unfreeze_layers=12)
    assert not panel.fine_tune_box.isChecked()
    for control in (panel.fine_tune_epochs, panel.unfreeze, panel.fine_tune_lr):
        assert control.isVisible() and control.isEnabled()  # not greyed out while Start does not fine-tune
    assert "Fine-tuning settings" in panel.fine_tune_button.toolTip()
    panel.session.run = fake_run(panel.session, "run", epochs=2, done=2)
    panel.fine_tune_epochs.setValue(4)
    qtbot.mouseClick(panel.fine_tune_button, qtbot_button())
    assert panel.is_training(), panel.status.text()
    assert panel.training.request.changes["fine_tune_epochs"] == 4
    assert panel.training.request.changes["unfreeze_layers"] == 12
    assert "top 12 layers for 4 more epochs at learning rate 0.0001" in panel.status.text()


def test_resume_says_why_a_finished_run_has_nothing_to_resume(idle_panel):
    panel = idle_panel
    panel.session.run = fake_run(panel.session, "finished", epochs=2, done=2)
    panel.resume()
    assert panel.training is None
    assert "finished all 2 of its epochs" in panel.status.text() and "Fine-tune" in panel.status.text()
    panel.session.run = fake_run(panel.session, "stopped", epochs=2, done=1)
    panel.resume()
    assert panel.is_training() and panel.training.request.resume == panel.session.run


def _run_of(folder, run_dir):
    """A run made from ``folder`` (its record of photos, classes and one epoch), without training."""
    from desktop_app.core.data.split import RecordedSplit, make_split

    index = validate_index(scan_folder(folder))
    run = RunFolder(run_dir)
    run.create()
    run.write_config(TrainingConfig.of(folder, run.path, backbone="mobilenet", alpha=0.25, weights=None, img_size=32))
    run.write_labels(index.classes)
    run.write_split(RecordedSplit.of(make_split(index), folder))
    run.write_history([{"epoch": 1, "phase": "feature_extraction", "loss": 1.0, "accuracy": 0.5, "val_loss": 1.1,
                        "val_accuracy": 0.4}])
    return run.path


def test_fine_tune_and_resume_are_only_for_runs_of_the_dataset_on_the_data_page(qtbot, panel, tmp_path):
    import shutil

    from desktop_app.ui.pages.train import FINE_TUNE_TIP

    shapes = make_image_folder(tmp_path / "shapes", per_class=4, size=30)  # other photos, the same class names
    run = _run_of(shapes, panel.session.runs_folder / "old-run")
    panel.session.run = run
    assert not panel.fine_tune_button.isEnabled() and not panel.resume_button.isEnabled()
    for text in (panel.fine_tune_button.toolTip(), panel.resume_button.toolTip(), panel.status.text()):
        assert "old-run was trained on another dataset (shapes)" in text and "Data page" in text
    # Asked all the same (the advice's button, a retry): refused in words, nothing starts.
    for action in (panel.fine_tune, panel.resume):
        action()
        assert panel.training is None and "another dataset" in panel.status.text()
        assert panel.status.property("role") == "error"

    # The same photos, moved (a USB stick on another computer): the run's own dataset again.
    moved = shutil.move(shapes, tmp_path / "usb" / "shapes")
    panel.session.index = validate_index(scan_folder(moved))
    assert panel.fine_tune_button.isEnabled() and panel.resume_button.isEnabled()
    assert panel.fine_tune_button.toolTip() == FINE_TUNE_TIP and "Last run: old-run" in panel.status.text()


def test_a_failed_start_leaves_no_empty_run_and_the_run_shown_before(qtbot, panel, tmp_path):
    from dataclasses import replace

    before = _run_of(panel.session.index.root, panel.session.runs_folder / "earlier")
    panel.session.run = before
    panel.session.model = replace(panel.session.model, weights=str(tmp_path / "nope.h5"))
    panel.start()
    assert panel.is_training() and panel.session.run == before  # not the new run before it saves an epoch
    _wait_idle(qtbot, panel)
    assert "nope.h5 does not exist" in panel.status.text() and panel.status.property("role") == "error"
    assert [p.name for p in panel.session.runs_folder.iterdir()] == ["earlier"]
    assert panel.session.run == before and panel.fine_tune_button.isEnabled()
    assert panel.curves.epoch_count() == 1  # the earlier run's curves are back
