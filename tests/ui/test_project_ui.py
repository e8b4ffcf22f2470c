"""Projects in the window: save, change, open back; autosave; unsaved changes; a moved dataset."""

from __future__ import annotations

import json
import shutil

import pytest
from PySide6.QtWidgets import QMessageBox

from desktop_app.core.augmentation import AugmentationSpec
from desktop_app.core.project import PROJECT_FILE, open_project
from desktop_app.ui import project_controller
from desktop_app.ui.main_window import MainWindow


@pytest.fixture
def window(qtbot, image_folder):
    w = MainWindow(data_folder=str(image_folder))
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: w.data_panel.index is not None and w.data_panel.index.validated, timeout=15000)
    w.projects.set_autosave(True)
    return w


def _set_everything(w: MainWindow, variant: int) -> None:
    """Two distinct sets of non-default choices on every page."""
    w.data_panel.subset_buttons[10.0 if variant else 1.0].click()
    w.data_panel.val_spin.setValue(30 if variant else 15)
    w.data_panel.seed_spin.setValue(7 if variant else 8)
    w.augment_panel.set_spec(AugmentationSpec.preset("strong" if variant else "none"))
    m = w.model_panel
    m.base_combo.setCurrentIndex(m.base_combo.findData("mobilenet" if variant else "mobilenet_v2"))
    m.alpha_combo.setCurrentIndex(m.alpha_combo.findData(0.5 if variant else 0.35))
    m.size_spin.setValue(128 if variant else 96)
    m.pooling_combo.setCurrentIndex(m.pooling_combo.findData("max" if variant else "avg"))
    m.dropout_spin.setValue(0.3 if variant else 0.1)
    m.hidden_spin.setValue(64 if variant else 0)
    (m.no_weights_radio if variant else m.imagenet_radio).setChecked(True)
    m.set_unfreeze_layers(12 if variant else 3)
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
    assert on_disk.dataset.path == str(image_folder.resolve())

    w.projects.set_autosave(False)
    _set_everything(w, 0)
    other = tmp_path / "other-photos"
    shutil.copytree(image_folder, other)
    w.data_panel.load(str(other))
    qtbot.waitUntil(lambda: w.data_panel.index is not None and w.data_panel.index.root == other
                    and not w.data_panel.is_loading(), timeout=15000)
    assert w.projects.collect() != saved
    assert w.isWindowModified()

    assert w.projects.open_project(tmp_path / "lesson", ask_first=False)
    qtbot.waitUntil(lambda: w.data_panel.index is not None and w.data_panel.index.root == image_folder.resolve()
                    and not w.data_panel.is_loading(), timeout=15000)
    assert w.projects.collect() == saved
    assert w.data_panel.subset_buttons[10.0].isChecked()
    assert w.model_panel.unfreeze_layers == 12
    assert w.train_panel.optimizer.currentData() == "sgd"
    assert not w.isWindowModified()


def test_autosave_writes_settings_shortly_after_a_change(window, qtbot, tmp_path):
    w = window
    assert w.projects.save_as(tmp_path / "p")
    w.train_panel.epochs.setValue(17)
    file = tmp_path / "p" / PROJECT_FILE
    qtbot.waitUntil(lambda: json.loads(file.read_text())["training"]["epochs"] == 17, timeout=5000)
    assert not w.isWindowModified()


def test_runs_of_the_project_show_on_the_train_page(window, tmp_path):
    w = window
    assert w.projects.save_as(tmp_path / "p")
    run = tmp_path / "p" / "runs" / "2025-01-01_mobilenet"
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"data": "x", "out": str(run)}))
    (run / "history.json").write_text(json.dumps([{"epoch": 1, "phase": "feature_extraction", "loss": 1.0,
                                                   "accuracy": 0.5, "val_loss": 1.1, "val_accuracy": 0.4}]))
    assert w.projects.open_project(tmp_path / "p", ask_first=False)
    assert w.train_panel.run_dir == run.resolve()
    assert w.train_panel.runs_parent == tmp_path / "p" / "runs"
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
    qtbot.waitUntil(lambda: w.data_panel.index is not None and w.data_panel.index.root == moved.resolve()
                    and not w.data_panel.is_loading(), timeout=15000)
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
    assert open_project(tmp_path / "p").settings.dataset.path == str(image_folder.resolve())


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
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"data": "x", "out": str(folder)}))
    (folder / "history.json").write_text(json.dumps([{"epoch": 1, "phase": "feature_extraction", "loss": 1.0,
                                                      "accuracy": 0.5, "val_loss": 1.1, "val_accuracy": 0.4}]))
    return folder


def test_finished_run_is_recorded_without_saving_unsaved_edits(window, tmp_path):
    w = window
    assert w.projects.save_as(tmp_path / "p")
    w.projects.set_autosave(False)
    w.train_panel.epochs.setValue(17)
    assert w.isWindowModified()
    file = tmp_path / "p" / PROJECT_FILE
    # What TrainPanel.runFinished reaches when training ends (a real emit would also load the run
    # into the Evaluate and Export pages).
    w.projects._run_finished(_fake_run(tmp_path / "p" / "runs" / "r1"))
    data = json.loads(file.read_text())
    assert data["training"]["epochs"] == 5  # the edit is still unsaved...
    assert data["runs"] == ["runs/r1"]  # ...but the run is in the project
    assert w.isWindowModified()

    # Closed during training, changes discarded; then training winds down and the run ends.
    w.show()
    assert w.close()  # conftest answers "Discard"
    w.projects._run_finished(_fake_run(tmp_path / "p" / "runs" / "r2"))
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
def test_another_dataset_marks_the_project_modified_at_once(window, qtbot, monkeypatch, tmp_path, image_folder,
                                                           locate_later):
    w = window
    # datasetChanged may arrive while the loading task still counts as running: make that certain.
    monkeypatch.setattr(w.data_panel, "is_loading", lambda: True)
    other = tmp_path / "other-photos"
    shutil.copytree(image_folder, other)
    assert w.projects.save_as(tmp_path / "p")
    if locate_later:  # the project's folder went missing and the user chose "Later"
        shutil.rmtree(image_folder)
        w.projects.ask_locate = lambda missing: None
    assert w.projects.open_project(tmp_path / "p", ask_first=False)
    assert not w.isWindowModified()
    seen = []  # connected after the controller, so it sees the state right after datasetChanged
    w.data_panel.datasetChanged.connect(
        lambda index: seen.append((index.root, w.isWindowModified(), w.projects._timer.isActive())))
    w.data_panel.load(str(other))
    qtbot.waitUntil(lambda: any(root == other for root, *_ in seen), timeout=15000)
    assert seen[-1] == (other, True, True)
    file = tmp_path / "p" / PROJECT_FILE
    qtbot.waitUntil(lambda: json.loads(file.read_text())["dataset"]["path"] == str(other.resolve()), timeout=5000)
    assert not w.isWindowModified()
