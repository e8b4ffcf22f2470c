"""The Evaluate page: a real evaluation in the worker, clickable confusion cells, curves, predict."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDropEvent

from desktop_app.ui.evaluate_panel import EvaluatePanel


@pytest.fixture
def panel(qtbot, trained_run):
    panel = EvaluatePanel()
    qtbot.addWidget(panel)
    panel.resize(1000, 720)
    panel.show()
    panel.refresh_runs(trained_run)
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
    for name in ("config.json", "history.json", "metrics.json"):
        shutil.copy(trained_run / name, other / name)
    assert panel.curves.epoch_count() == 3
    assert len(panel.curves.markers) == 2  # fine-tuning marker on both plots
    panel.compare.refresh(other)
    assert len(panel.curves.overlays) == 2
    assert "Dashed" in panel.curves_note.text()
    panel.compare.setCurrentIndex(0)  # (no comparison)
    assert panel.curves.overlays == []


def test_dropped_folder_gets_top3_bars_and_csv(qtbot, panel, trained_run, tmp_path):
    data = Path(json.loads((trained_run / "config.json").read_text())["data"])
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
