"""The Evaluate page: a real evaluation in the engine, clickable confusion cells, curves, predict."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QLabel

from desktop_app.core.runs import RunFolder
from desktop_app.core.session import FinishedRun, Session
from desktop_app.ui.pages.evaluate import EvaluatePanel
from desktop_app.ui.pages.export import ExportPanel


def copy_run(trained_run: Path, target: Path) -> Path:
    """Another finished run (the same model), not evaluated yet."""
    shutil.copytree(trained_run, target, ignore=shutil.ignore_patterns("evaluation.json", "report.html", "export"))
    return target


@pytest.fixture
def panel(qtbot, trained_run, session):
    session.runs_folder = trained_run.parent
    session.run = trained_run
    panel = EvaluatePanel(session)
    qtbot.addWidget(panel)
    panel.resize(1000, 720)
    panel.show()
    yield panel
    panel.stop_background_work(30_000)


def _evaluate(qtbot, panel):
    with qtbot.waitSignal(panel.evaluationFinished, timeout=120_000) as blocker:
        qtbot.mouseClick(panel.evaluate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.evaluate_button.isEnabled(), timeout=30_000)
    return blocker.args[0]


def _click_cell(qtbot, panel, row: int, col: int) -> None:
    matrix = panel.matrix
    rect = matrix.visualItemRect(matrix.item(row, col))
    qtbot.mouseClick(matrix.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_evaluation_fills_table_matrix_and_gallery(qtbot, panel, trained_run):
    evaluation = _evaluate(qtbot, panel)
    saved = json.loads((trained_run / "evaluation.json").read_text())
    assert panel.class_table.rowCount() == 4
    assert [panel.class_table.item(r, 0).text() for r in range(4)] == saved["classes"]
    assert f"{saved['accuracy']:.1%}" in panel.accuracy_label.text()
    assert panel.matrix.rowCount() == panel.matrix.columnCount() == 4
    for i in range(4):
        for j in range(4):
            assert panel.matrix.item(i, j).text() == str(saved["confusion_matrix"][i][j])
    wrong = sum(saved["confusion_matrix"][i][j] for i in range(4) for j in range(4) if i != j)
    assert panel.wrong_gallery.model().rowCount() == min(12, wrong)
    assert "Evaluated on" in panel.status.text()
    assert evaluation.count == len(saved["predictions"])


def test_clicking_a_confusion_cell_lists_exactly_its_images(qtbot, panel, trained_run):
    _evaluate(qtbot, panel)
    saved = json.loads((trained_run / "evaluation.json").read_text())
    # What belongs in each cell, worked out from the saved per-image answers.
    cells: dict[tuple[int, int], list[Path]] = {}
    for row in saved["predictions"]:
        cells.setdefault((row["true"], int(np.argmax(row["probabilities"]))), []).append(Path(row["path"]))
    assert cells
    for (i, j), expected in list(cells.items())[:3]:
        _click_cell(qtbot, panel, i, j)
        assert panel.cell_images.paths() == expected
        assert panel.cell_label.text().startswith(f"{len(expected)} photo(s) of {saved['classes'][i]}")
    empty = next(((i, j) for i in range(4) for j in range(4) if (i, j) not in cells), None)
    if empty is not None:
        _click_cell(qtbot, panel, *empty)
        assert panel.cell_images.paths() == []


def test_second_run_overlays_its_curves(qtbot, panel, trained_run, tmp_path):
    other = tmp_path / "other-run"
    other.mkdir()
    for name in (RunFolder.CONFIG, RunFolder.HISTORY, RunFolder.METRICS):
        shutil.copy(trained_run / name, other / name)
    assert panel.curves.epoch_count() == 3
    assert len(panel.curves.markers) == 2  # fine-tuning marker on both plots
    panel.compare.refresh(other)
    assert len(panel.curves.overlays) == 2
    assert "Dashed" in panel.curves_note.text()
    panel.compare.setCurrentIndex(0)  # (no comparison)
    assert panel.curves.overlays == []


def test_dropped_folder_gets_top3_bars_and_csv(qtbot, panel, trained_run, tmp_path, monkeypatch):
    from desktop_app.ui.widgets import evaluation_views

    threads = set()
    decode = evaluation_views.decode_thumbnail

    def spy(path, side):
        threads.add(threading.current_thread())
        return decode(path, side)

    monkeypatch.setattr(evaluation_views, "decode_thumbnail", spy)
    data = RunFolder(trained_run).read_config().data
    folder = tmp_path / "new"
    shutil.copytree(data / "squares", folder)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(folder))])
    event = QDropEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(panel.predictionsFinished, timeout=120_000) as blocker:
        panel.dropEvent(event)
    result = blocker.args[0]
    assert len(result.predictions) == 12
    assert panel.tabs.currentIndex() == 3
    assert len(panel.prediction_rows.bars) == 12 and all(len(b) == 3 for b in panel.prediction_rows.bars)
    # The thumbnails were decoded on a worker thread, not on the GUI thread.
    assert threads and threading.main_thread() not in threads
    thumbs = panel.prediction_rows.findChildren(QLabel, "predictionThumbnail")
    assert len(thumbs) == 12 and all(not t.pixmap().isNull() for t in thumbs)
    first = result.predictions[0]
    assert panel.prediction_rows.bars[0][0].value() == round(first.top[0][1] * 1000)
    assert panel.save_csv_button.isEnabled()
    panel.save_csv(str(tmp_path / "p.csv"))
    assert len((tmp_path / "p.csv").read_text().splitlines()) == 13


def test_every_control_has_a_name_and_tooltip(panel):
    for widget in (panel.runs, panel.compare, panel.evaluate_button, panel.matrix, panel.class_table,
                   panel.cell_images, panel.wrong_gallery, panel.choose_images_button, panel.choose_folder_button,
                   panel.save_csv_button, panel.drop_zone):
        assert widget.objectName() and widget.accessibleName() and widget.toolTip()


def test_both_pages_list_the_runs_of_the_folder_the_session_names(qtbot, trained_run, tmp_path):
    """With a project open, runs go to PROJECT/runs; Evaluate and Export list those."""
    runs = tmp_path / "project" / "runs"
    first, second = copy_run(trained_run, runs / "run-a"), copy_run(trained_run, runs / "run-b")
    session = Session()
    evaluate, export = EvaluatePanel(session), ExportPanel(session)
    for page in (evaluate, export):
        qtbot.addWidget(page)
        assert page.runs.count() == 0  # the default runs folder is empty
    session.runs_folder = runs  # a project was opened
    for page in (evaluate, export):
        assert {r.path for r in page.runs.runs} == {first, second}
        assert page.runs.count() == 2 and page.current_run() is not None
    assert evaluate.compare.count() == 3  # (no comparison) and both runs
    assert evaluate.evaluate_button.isEnabled() and export.export_button.isEnabled()
    session.run = first  # chosen on another page: both pages show it
    assert evaluate.current_run().path == first == export.current_run().path
    export.runs.setCurrentIndex(export.runs.findData(str(second)))  # chosen here: the session follows
    assert session.run == second and evaluate.current_run().path == second
    third = copy_run(trained_run, runs / "run-c")  # trained meanwhile: a refresh shows it
    evaluate.refresh_runs()
    export.refresh_runs()
    assert third in {r.path for r in evaluate.runs.runs} and third in {r.path for r in export.runs.runs}
    session.runs_folder, session.run = None, None  # the project was closed (as ProjectController does)
    assert evaluate.runs.count() == export.runs.count() == 0


def test_a_finished_run_is_shown_and_evaluated(qtbot, trained_run, tmp_path, session):
    run = copy_run(trained_run, tmp_path / "runs" / "run-a")
    session.runs_folder = run.parent
    panel = EvaluatePanel(session)
    qtbot.addWidget(panel)
    try:
        with qtbot.waitSignal(panel.evaluationFinished, timeout=120_000):
            session.finished_run = FinishedRun(run, stopped=False)  # what the Train page says at the end
        assert panel.current_run().path == run and (run / RunFolder.EVALUATION).exists()
    finally:
        panel.stop_background_work(30_000)


def test_a_result_for_another_run_is_not_shown_under_the_run_chosen_now(qtbot, trained_run, tmp_path, session):
    runs = tmp_path / "runs"
    first, second = copy_run(trained_run, runs / "run-a"), copy_run(trained_run, runs / "run-b")
    session.runs_folder = runs
    panel = EvaluatePanel(session)
    qtbot.addWidget(panel)
    panel.show()
    panel.runs.setCurrentIndex(panel.runs.findData(str(first)))
    assert panel.current_run().path == first and panel.evaluation is None
    try:
        qtbot.mouseClick(panel.evaluate_button, Qt.MouseButton.LeftButton)
        assert panel.evaluations.is_running() and panel.task_run == first
        panel.runs.setCurrentIndex(panel.runs.findData(str(second)))  # while run-a is evaluated
        assert not panel.evaluate_button.isEnabled()
        qtbot.waitUntil(lambda: not panel.evaluations.is_running(), timeout=120_000)
        assert panel.current_run().path == second
        assert panel.evaluation is None and panel.accuracy_label.text() == "Not evaluated yet."
        assert panel.class_table.rowCount() == 0
        assert "run-a" in panel.status.text()
        assert (first / RunFolder.EVALUATION).exists() and not (second / RunFolder.EVALUATION).exists()
        assert panel.evaluate_button.isEnabled()
        panel.runs.setCurrentIndex(panel.runs.findData(str(first)))  # back to run-a: its saved result
        assert panel.evaluation is not None and panel.evaluation.count > 0
    finally:
        panel.stop_background_work(30_000)


def test_a_run_without_a_model_says_why_accurately(qtbot, trained_run, tmp_path, session):
    run = copy_run(trained_run, tmp_path / "runs" / "run-a")
    RunFolder(run).model_path.unlink()
    session.runs_folder = tmp_path / "runs"
    panel = EvaluatePanel(session)
    qtbot.addWidget(panel)
    assert "saves its model when its training ends" in panel.status.text()
    assert "still training" in panel.status.text()
    assert not panel.evaluate_button.isEnabled()


def test_font_sizes_are_points_so_presentation_mode_scales_them(panel):
    import re

    for widget in (panel.accuracy_label, panel.drop_zone):
        assert re.findall(r"font-size:\s*([\d.]+)(\w+)", widget.styleSheet())[0][1] == "pt"
