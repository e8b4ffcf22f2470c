"""The window keeps the run-folder rules: runs outside the project are not written to, renamed
classes are matched, a cut-short epoch is said in words, the embedding cache has a size."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest
from PySide6.QtWidgets import QMessageBox

from conftest import make_image_folder, wait_for_dataset
from desktop_app.core.project import PROJECT_FILE, create_project
from desktop_app.core.runs import RunFolder
from desktop_app.ui.pages.evaluate import EvaluatePanel
from desktop_app.ui.shell.main_window import MainWindow
from desktop_app.ui.widgets import class_map_dialog


def copy_run(trained_run, target):
    shutil.copytree(trained_run, target, ignore=shutil.ignore_patterns("evaluation.json", "report.html", "export"))
    return target


def test_a_project_naming_runs_outside_it_opens_read_only_and_writes_nothing_there(qtbot, trained_run, tmp_path):
    outside = copy_run(trained_run, tmp_path / "elsewhere" / "their-run")
    before = sorted(p.name for p in outside.rglob("*"))
    project = create_project(tmp_path / "project")
    data = json.loads(project.file.read_text())
    data["runs"] = [str(outside)]
    (project.folder / PROJECT_FILE).write_text(json.dumps(data))
    window = MainWindow()
    qtbot.addWidget(window)
    assert window.projects.open_project(project.folder, ask_first=False)
    assert window.projects.project.read_only
    assert "read-only" in window.projects.warning_box.text() and window.projects.warning_box.isVisible()
    assert not window.session.may_write(outside)
    window.session.run = outside
    window.train_panel.fine_tune()  # what a finished run offers (Resume says it has nothing left to do)
    assert "outside the open project" in window.train_panel.status.text() and not window.train_panel.is_training()
    evaluate = window.evaluate_panel
    data = RunFolder(outside).read_config().data  # Evaluate acts on runs of the dataset on the Data page
    window.data_panel.load(str(data))
    qtbot.waitUntil(lambda: window.session.index is not None and window.session.index.root == data, timeout=60_000)
    with qtbot.waitSignal(evaluate.evaluationFinished, timeout=120_000):
        evaluate.evaluate()
    assert sorted(p.name for p in outside.rglob("*")) == before  # evaluated, but nothing written into it
    saved_before = project.file.read_bytes()
    window.train_panel.epochs.setValue(9)  # a change: autosave does not write a read-only project
    qtbot.wait(2000)
    assert project.file.read_bytes() == saved_before
    window.close()


def test_a_renamed_class_folder_is_matched_then_evaluated(qtbot, trained_run, tmp_path, session, monkeypatch):
    run = copy_run(trained_run, tmp_path / "runs" / "run-a")
    data = tmp_path / "shapes"
    shutil.copytree(RunFolder(run).read_config().data, data)
    config = json.loads(RunFolder(run).config_path.read_text())
    config["data"], config["data_relative"] = str(data), "../../shapes"
    RunFolder(run).config_path.write_text(json.dumps(config))
    (data / "stars").rename(data / "stars-renamed")
    asked = []
    monkeypatch.setattr(class_map_dialog, "ask_class_map",
                        lambda _parent, missing, added: asked.append((missing, added)) or {"stars": "stars-renamed"})
    session.runs_folder, session.run = run.parent, run
    panel = EvaluatePanel(session)
    qtbot.addWidget(panel)
    try:
        with qtbot.waitSignal(panel.evaluationFinished, timeout=180_000) as finished:
            panel.evaluate()
        assert asked == [(["stars"], ["stars-renamed"])]
        assert session.class_renames == {"stars": "stars-renamed"}
        evaluation = finished.args[0]
        assert evaluation.classes == RunFolder(run).read_labels()  # the run's own names and order
        assert any("stars-renamed" in str(p) for p in evaluation.paths)
    finally:
        panel.stop_background_work(30_000)


def test_evaluate_is_only_for_runs_of_the_dataset_on_the_data_page(qtbot, trained_run, tmp_path, session):
    from desktop_app.core.data.scan import scan_folder
    from desktop_app.core.data.validate import validate_index

    run = copy_run(trained_run, tmp_path / "runs" / "shapes-run")
    other = make_image_folder(tmp_path / "flowers", per_class=3)
    session.index = validate_index(scan_folder(other))
    session.runs_folder, session.run = run.parent, run
    panel = EvaluatePanel(session)
    qtbot.addWidget(panel)
    try:
        assert panel.runs.currentText().startswith("Other dataset (shapes): ")  # still listed, with its dataset
        assert str(RunFolder(run).read_config().data) in panel.runs.itemData(0, 3)  # its folder, on hover
        assert not panel.evaluate_button.isEnabled()
        for text in (panel.evaluate_button.toolTip(), panel.status.text()):
            assert "shapes-run was trained on another dataset (shapes)" in text and "Data page" in text
        panel.evaluate()
        assert not panel._busy()
        # Its own photos on the Data page again: Evaluate works on it.
        session.index = validate_index(scan_folder(RunFolder(run).read_config().data))
        assert panel.evaluate_button.isEnabled() and panel.runs.currentText() == RunFolder(run).info().label
        assert panel.status.text().startswith("Press Evaluate")
    finally:
        panel.stop_background_work(30_000)


def test_a_stop_during_an_epoch_is_said_in_words(qtbot, tmp_path):
    from desktop_app.core.augment.spec import AugmentationSpec
    from desktop_app.core.events import BatchEnd
    from desktop_app.core.session import ModelSettings

    # Epochs of 60 batches: the Stop (sent from the window to the training process) lands
    # inside the epoch it was pressed in, or the next.
    window = MainWindow(data_folder=str(make_image_folder(tmp_path / "data", per_class=50)))
    qtbot.addWidget(window)
    wait_for_dataset(qtbot, window.session)
    window.session.model = ModelSettings("mobilenet", 0.25, 32, weights=None)
    window.session.augmentation = AugmentationSpec()
    window.session.update("training", epochs=50, batch_size=2, fast=False)
    train = window.train_panel

    def stop_in_epoch_two(event):
        if isinstance(event, BatchEnd) and event.epoch == 2 and event.batch == 1:
            train.stop()

    train.start()
    train.training.event.connect(stop_in_epoch_two)
    qtbot.waitUntil(lambda: not train.is_training(), timeout=180_000)
    cut = re.search(r"Stopped during epoch (\d+); it will run again on Resume", train.status.text())
    assert cut and int(cut[1]) in (2, 3), train.status.text()
    assert [row["epoch"] for row in RunFolder(window.session.run).read_history()] == list(range(1, int(cut[1])))
    window.close()


def test_preferences_show_and_clear_the_embedding_cache(qtbot, tmp_path):
    from desktop_app.core.train.embeddings import EmbeddingStore
    from desktop_app.ui.shell.preferences import GB, PreferencesDialog

    store = EmbeddingStore(tmp_path / "store")
    for i in range(10):
        store.put(f"k{i}", np.zeros(25_000, np.float32))  # 100 kB each
    dialog = PreferencesDialog(store=store)
    qtbot.addWidget(dialog)
    assert "1.0 MB of 2.0 GB" in dialog.size_label.text() and dialog.clear_button.isEnabled()
    dialog.limit_spin.setValue(0.1)
    assert store.limit_bytes == int(0.1 * GB)
    dialog.clear_button.click()
    assert store.size_bytes() == 0 and "0.0 MB" in dialog.size_label.text()
    assert not dialog.clear_button.isEnabled()


@pytest.fixture(autouse=True)
def no_modal_boxes(monkeypatch):
    monkeypatch.setattr(QMessageBox, "warning", lambda *_a, **_k: QMessageBox.StandardButton.Ok)
