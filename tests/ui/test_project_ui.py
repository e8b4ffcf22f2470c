"""Projects in the window: save, change, open back; autosave; unsaved changes; a moved dataset."""

from __future__ import annotations

import json
import shutil

import pytest
from PySide6.QtWidgets import QMessageBox

from conftest import wait_for_dataset
from desktop_app.core.augment.spec import AugmentationSpec
from desktop_app.core.project import PROJECT_FILE, open_project
from desktop_app.core.runs import RunFolder
from desktop_app.core.session import FinishedRun, TrainingConfig
from desktop_app.ui.shell import project_controller
from desktop_app.ui.shell.main_window import MainWindow


@pytest.fixture
def window(qtbot, image_folder):
    w = MainWindow(data_folder=str(image_folder))
    qtbot.addWidget(w)
    wait_for_dataset(qtbot, w.session, 15000)
    w.projects.set_autosave(True)
    return w


def _wait_for_folder(qtbot, w, folder) -> None:
    qtbot.waitUntil(lambda: w.session.index is not None and w.session.index.root == folder.resolve()
                    and not w.data_panel.loader.is_running(), timeout=15000)


def _set_everything(w: MainWindow, variant: int) -> None:
    """Two distinct sets of non-default choices on every page."""
    w.data_panel.subset_buttons[10.0 if variant else 1.0].click()
    w.data_panel.val_spin.setValue(30 if variant else 15)
    w.data_panel.seed_spin.setValue(7 if variant else 8)
    w.augment_panel.preset_buttons["strong" if variant else "none"].click()
    m = w.model_panel
    m.base_combo.setCurrentIndex(m.base_combo.findData("mobilenet" if variant else "mobilenet_v2"))
    m.alpha_combo.setCurrentIndex(m.alpha_combo.findData(0.5 if variant else 0.35))
    m.size_spin.setValue(128 if variant else 96)
    m.pooling_combo.setCurrentIndex(m.pooling_combo.findData("max" if variant else "avg"))
    m.dropout_spin.setValue(0.3 if variant else 0.1)
    m.hidden_spin.setValue(64 if variant else 0)
    (m.no_weights_radio if variant else m.imagenet_radio).setChecked(True)
    t = w.train_panel
    t.epochs.setValue(3 if variant else 9)
    t.batch_size.setValue(8 if variant else 64)
    t.learning_rate.setValue(0.002 if variant else 0.0005)
    t.optimizer.setCurrentIndex(t.optimizer.findData("sgd" if variant else "rmsprop"))
    t.fast.setChecked(not variant)
    t.fine_tune_box.setChecked(bool(variant))
    t.fine_tune_epochs.setValue(4 if variant else 2)
    t.unfreeze.setValue(20 if variant else 5)
    t.fine_tune_lr.setValue(0.0001 if variant else 0.0)


def test_save_change_open_restores_every_setting(window, qtbot, tmp_path, image_folder):
    w = window
    _set_everything(w, 1)
    saved = w.projects.collect()
    assert w.projects.save_as(tmp_path / "lesson")
    assert w.windowTitle().startswith("lesson")
    assert not w.isWindowModified()
    on_disk = open_project(tmp_path / "lesson").settings
    assert on_disk == saved
    assert on_disk.dataset.folder == image_folder.resolve()
    assert saved.augmentation == AugmentationSpec.preset("strong") and saved.training.unfreeze_layers == 20

    w.projects.set_autosave(False)
    _set_everything(w, 0)
    other = tmp_path / "other-photos"
    shutil.copytree(image_folder, other)
    w.data_panel.load(str(other))
    _wait_for_folder(qtbot, w, other)
    assert w.projects.collect() != saved
    assert w.isWindowModified()

    assert w.projects.open_project(tmp_path / "lesson", ask_first=False)
    _wait_for_folder(qtbot, w, image_folder)
    assert w.projects.collect() == saved
    assert w.data_panel.subset_buttons[10.0].isChecked()
    assert w.train_panel.unfreeze.value() == 20 and w.augment_panel.preset_buttons["strong"].isChecked()
    assert w.train_panel.optimizer.currentData() == "sgd" and w.model_panel.size_spin.value() == 128
    assert not w.isWindowModified()


def test_autosave_writes_settings_shortly_after_a_change(window, qtbot, tmp_path):
    w = window
    assert w.projects.save_as(tmp_path / "p")
    w.train_panel.epochs.setValue(17)
    file = tmp_path / "p" / PROJECT_FILE
    qtbot.waitUntil(lambda: json.loads(file.read_text())["training"]["epochs"] == 17, timeout=5000)
    assert not w.isWindowModified()


def test_runs_of_the_project_show_on_the_train_page(window, qtbot, tmp_path):
    w = window
    assert w.projects.save_as(tmp_path / "p")
    run = _fake_run(tmp_path / "p" / "runs" / "2025-01-01_mobilenet")
    assert w.projects.open_project(tmp_path / "p", ask_first=False)
    assert w.train_panel.run_dir == run.resolve() == w.session.run
    assert w.session.runs_folder == tmp_path / "p" / "runs"
    assert w.train_panel.curves.epoch_count() == 1
    wait_for_dataset(qtbot, w.session)
    assert w.train_panel.config().out.parent == tmp_path / "p" / "runs"  # new runs go into the project


def test_close_with_unsaved_changes_asks_and_cancel_keeps_the_window(window, qtbot, monkeypatch, tmp_path):
    w = window
    w.show()
    asked = []
    answer = [QMessageBox.StandardButton.Cancel]
    monkeypatch.setattr(project_controller, "ask_save_changes", lambda _parent, what: asked.append(what) or answer[0])
    assert not w.isWindowModified() and w.close()  # nothing changed: no question
    assert asked == []

    w.show()
    w.train_panel.epochs.setValue(11)
    assert w.projects.is_modified()
    assert not w.close()
    assert w.isVisible() and len(asked) == 1 and "not in a project" in asked[0]

    answer[0] = QMessageBox.StandardButton.Save  # untitled work: Save asks for a project folder
    w.projects.ask_new_folder = lambda _title: tmp_path / "saved-on-close"
    assert w.close()
    assert open_project(tmp_path / "saved-on-close").settings.training.epochs == 11


def test_project_without_autosave_asks_and_discard_closes(window, monkeypatch, tmp_path):
    w = window
    assert w.projects.save_as(tmp_path / "p")
    w.projects.set_autosave(False)
    w.show()
    w.train_panel.batch_size.setValue(5)
    assert w.isWindowModified()
    monkeypatch.setattr(project_controller, "ask_save_changes",
                        lambda *_a: QMessageBox.StandardButton.Discard)
    assert w.close()
    assert open_project(tmp_path / "p").settings.training.batch_size == 32


def test_missing_dataset_asks_to_locate_it(window, qtbot, tmp_path, image_folder):
    w = window
    assert w.projects.save_as(tmp_path / "p")
    moved = tmp_path / "moved"
    shutil.move(str(image_folder), moved)
    asked = []
    w.projects.ask_locate = lambda missing: asked.append(missing) or moved
    assert w.projects.open_project(tmp_path / "p", ask_first=False)
    assert asked == [str(image_folder.resolve())]
    _wait_for_folder(qtbot, w, moved)
    assert open_project(tmp_path / "p").dataset_path() == moved.resolve()


def test_missing_dataset_left_for_later_is_reported_not_a_crash(window, tmp_path, image_folder):
    w = window
    assert w.projects.save_as(tmp_path / "p")
    shutil.rmtree(image_folder)
    w.projects.ask_locate = lambda missing: None
    assert w.projects.open_project(tmp_path / "p", ask_first=False)
    assert "not there any more" in w.data_panel.message.text()
    # The project keeps pointing at the folder until the user chooses another one.
    w.train_panel.epochs.setValue(8)
    w.projects.save()
    assert open_project(tmp_path / "p").settings.dataset.folder == image_folder.resolve()


def test_opening_a_broken_project_shows_a_message(window, tmp_path, monkeypatch):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / PROJECT_FILE).write_text("{oops")
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text: shown.append(text))
    assert not window.projects.open_project(tmp_path / "bad", ask_first=False)
    assert shown and "cannot be read" in shown[0]
    assert window.projects.project is None


def test_recent_projects_menu_lists_saved_projects(window, tmp_path):
    assert window.projects.save_as(tmp_path / "recent-one")
    window.desktop.recent_menu.aboutToShow.emit()
    texts = [a.text() for a in window.desktop.recent_menu.actions()]
    assert str((tmp_path / "recent-one").resolve()) == texts[0]


def _fake_run(folder):
    run = RunFolder(folder)
    run.create()
    run.write_config(TrainingConfig.of(folder.parent / "photos", folder))
    run.write_history([{"epoch": 1, "phase": "feature_extraction", "loss": 1.0, "accuracy": 0.5, "val_loss": 1.1,
                        "val_accuracy": 0.4}])
    return folder


def test_finished_run_is_recorded_without_saving_unsaved_edits(window, tmp_path):
    w = window
    assert w.projects.save_as(tmp_path / "p")
    w.projects.set_autosave(False)
    w.train_panel.epochs.setValue(17)
    assert w.isWindowModified()
    file = tmp_path / "p" / PROJECT_FILE
    # What the Train page says when training ends.
    w.session.finished_run = FinishedRun(_fake_run(tmp_path / "p" / "runs" / "r1"), stopped=False)
    data = json.loads(file.read_text())
    assert data["training"]["epochs"] == 5  # the edit is still unsaved...
    assert data["runs"] == ["runs/r1"]  # ...but the run is in the project
    assert w.isWindowModified()

    # Closed during training, changes discarded; then training winds down and the run ends.
    w.show()
    assert w.close()  # conftest answers "Discard"
    w.session.finished_run = FinishedRun(_fake_run(tmp_path / "p" / "runs" / "r2"), stopped=False)
    data = json.loads(file.read_text())
    assert data["training"]["epochs"] == 5
    assert data["runs"] == ["runs/r1", "runs/r2"]


def test_autosave_that_fails_on_close_asks_instead_of_losing_the_work(window, monkeypatch, tmp_path):
    w = window
    assert w.projects.save_as(tmp_path / "p")
    w.show()
    w.train_panel.epochs.setValue(13)
    # The project file cannot be written any more (even as root): it is now a folder.
    (tmp_path / "p" / PROJECT_FILE).unlink()
    (tmp_path / "p" / PROJECT_FILE).mkdir()
    errors = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text: errors.append(text))
    asked = []
    answer = [QMessageBox.StandardButton.Cancel]
    monkeypatch.setattr(project_controller, "ask_save_changes", lambda _parent, what: asked.append(what) or answer[0])
    assert not w.close()
    assert w.isVisible() and len(asked) == 1 and errors and "Could not save" in errors[0]
    answer[0] = QMessageBox.StandardButton.Save  # the save fails again: the window stays
    assert not w.close()
    assert w.isVisible() and len(asked) == 2
    answer[0] = QMessageBox.StandardButton.Discard
    assert w.close()


@pytest.mark.parametrize("locate_later", [False, True])
def test_another_dataset_used_in_the_project_is_saved_once_the_user_says_so(window, qtbot, tmp_path, image_folder,
                                                                          locate_later):
    w = window
    other = tmp_path / "other-photos"
    shutil.copytree(image_folder, other)
    assert w.projects.save_as(tmp_path / "p")
    if locate_later:  # the project's folder went missing and the user chose "Later"
        shutil.rmtree(image_folder)
        w.projects.ask_locate = lambda missing: None
    assert w.projects.open_project(tmp_path / "p", ask_first=False)
    assert not w.isWindowModified()
    asked = []
    w.projects.ask_dataset = lambda choice: asked.append(choice.folder) or project_controller.USE_IN_PROJECT
    w.data_panel.load(str(other))
    assert w.isWindowModified()  # at once
    qtbot.waitUntil(lambda: asked == [other.resolve()], timeout=5000)
    file = tmp_path / "p" / PROJECT_FILE
    qtbot.waitUntil(lambda: json.loads(file.read_text())["dataset"]["folder"] == str(other.resolve()), timeout=5000)
    assert not w.isWindowModified() and w.projects.project is not None


@pytest.mark.parametrize("answer", [project_controller.NEW_UNSAVED_PROJECT, None])
def test_another_dataset_never_changes_the_saved_project_unasked(window, qtbot, tmp_path, image_folder, answer):
    w = window
    other = tmp_path / "other-photos"
    shutil.copytree(image_folder, other)
    assert w.projects.save_as(tmp_path / "p")
    file = tmp_path / "p" / PROJECT_FILE
    saved = file.read_text()
    w.projects.ask_dataset = lambda choice: answer
    w.data_panel.load(str(other))
    if answer == project_controller.NEW_UNSAVED_PROJECT:
        # The new folder in a project of its own, not saved yet; the saved project is as it was.
        qtbot.waitUntil(lambda: w.projects.project is None, timeout=5000)
        _wait_for_folder(qtbot, w, other)
        assert w.windowTitle() == "Transfer Studio" and w.projects.is_modified()
        assert w.session.runs_folder is None and w.session.run is None
    else:  # Cancel: the project's own photos again
        qtbot.waitUntil(lambda: w.session.dataset.folder == image_folder.resolve(), timeout=5000)
        _wait_for_folder(qtbot, w, image_folder)
        assert w.projects.project is not None and not w.isWindowModified()
    qtbot.wait(project_controller.AUTOSAVE_MS + 500)  # no autosave comes along later either
    assert file.read_text() == saved
