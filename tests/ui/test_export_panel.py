"""The Export page: export in the engine with per-format checks; the lab report opens."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from desktop_app.ui.pages.export import ExportPanel


@pytest.fixture
def panel(qtbot, trained_run, session, shared_weights):
    # A run trained with real weights: with random ones every photo gets nearly the same
    # answer and the agreement checks would pass whatever the exports did.
    session.runs_folder = trained_run.parent
    session.run = trained_run
    panel = ExportPanel(session)
    qtbot.addWidget(panel)
    panel.resize(1000, 720)
    panel.show()
    opened = []
    panel.open_url = opened.append
    panel.opened = opened
    yield panel
    panel.stop_background_work(30_000)


def test_export_shows_each_format_check(qtbot, panel, tmp_path, trained_run, monkeypatch):
    from desktop_app.core.results.evaluation import evaluate_run
    from desktop_app.ui.pages import export as export_page

    # The checks mean something only if the model tells photos apart.
    assert len(set(evaluate_run(trained_run, save=False).y_pred.tolist())) >= 3
    assert panel.out_edit.text().endswith("export")
    for key, check in panel.format_checks.items():
        check.setChecked(key in ("keras", "tflite-int8"))
    out = tmp_path / "out"
    out.mkdir()
    (out / "model.onnx").write_bytes(b"another run's model")
    panel.out_edit.setText(str(out))
    asked = []
    monkeypatch.setattr(export_page, "confirm_replace", lambda parent, folder, names: asked.append(names) or False)
    qtbot.mouseClick(panel.export_button, Qt.MouseButton.LeftButton)
    assert asked == [["model.onnx"]] and "Nothing exported" in panel.status.text()  # refused: nothing changes
    assert (out / "model.onnx").exists() and not panel.work.is_running()
    monkeypatch.setattr(export_page, "confirm_replace", lambda parent, folder, names: True)
    with qtbot.waitSignal(panel.exportFinished, timeout=180_000) as blocker:
        qtbot.mouseClick(panel.export_button, Qt.MouseButton.LeftButton)
        assert not panel.runs.isEnabled()  # the result in progress belongs to the run shown
    result = blocker.args[0]
    assert [c.format for c in result.checks] == ["keras", "tflite-int8"]
    assert panel.results.rowCount() == 2
    # The Check column gives the agreement in numbers, never a bare "passed".
    marks = [panel.results.item(r, 2).text() for r in range(2)]
    n = result.checks[0].images
    assert marks[0] == f"✔ agrees on 100 % of {n} photos" and marks[1].startswith(("✔ agrees on", "⚠ agrees on"))
    assert panel.results.item(0, 3).text().endswith(" %")  # how many it gets right
    detail = panel.results.item(0, 4).text()
    assert f"agrees with the trained model on 100 % of {result.checks[0].images} validation photos" in detail
    assert "the check needs 4 decimal places" in detail
    assert (out / "model_card.md").exists() and not (out / "model.onnx").exists()
    # (Into the trash: the engine process does that, tests/core/test_export.py proves it.)
    qtbot.waitUntil(lambda: panel.export_button.isEnabled(), timeout=30_000)
    assert "All checks passed" in panel.status.text()
    assert panel.runs.isEnabled()


def test_no_format_chosen_disables_export(panel):
    for check in panel.format_checks.values():
        check.setChecked(False)
    assert not panel.export_button.isEnabled()
    panel.format_checks["keras"].setChecked(True)
    assert panel.export_button.isEnabled()


def test_lab_report_is_written_and_opened(qtbot, panel, trained_run):
    assert not panel.report_photos_check.isChecked()  # photos may show children: off unless asked
    with qtbot.waitSignal(panel.reportWritten, timeout=180_000) as blocker:
        qtbot.mouseClick(panel.report_button, Qt.MouseButton.LeftButton)
    path = blocker.args[0]
    assert path == trained_run / "report.html" and path.exists()
    assert "<img" not in path.read_text(encoding="utf-8")
    assert [url.toLocalFile() for url in panel.opened] == [str(path)]
    qtbot.waitUntil(panel.open_report_button.isEnabled, timeout=10_000)  # ... and opens again later
    qtbot.mouseClick(panel.open_report_button, Qt.MouseButton.LeftButton)
    assert [url.toLocalFile() for url in panel.opened] == [str(path)] * 2
    for widget in (panel.runs, panel.export_button, panel.report_button, panel.open_report_button, panel.out_edit,
                   panel.report_photos_check, *panel.format_checks.values()):
        assert widget.objectName() and widget.accessibleName() and widget.toolTip()


def test_the_finished_lab_report_opens_from_a_button(qtbot, tmp_path, session):
    from desktop_app.core.runs import RunFolder
    from desktop_app.core.session import TrainingConfig

    run = RunFolder(tmp_path / "runs" / "run")
    run.create()
    run.write_config(TrainingConfig.of(tmp_path / "data", run.path))
    session.runs_folder, session.run = run.path.parent, run.path
    panel = ExportPanel(session)
    qtbot.addWidget(panel)
    opened = []
    panel.open_url = opened.append
    assert panel.open_report_button.accessibleName() and panel.open_report_button.toolTip()
    assert not panel.open_report_button.isEnabled()  # no report yet
    run.report_path.write_text("<html>lab report</html>", encoding="utf-8")  # e.g. by transfer-studio report
    panel.show()
    assert panel.open_report_button.isEnabled()
    qtbot.mouseClick(panel.open_report_button, Qt.MouseButton.LeftButton)
    assert [url.toLocalFile() for url in opened] == [str(run.report_path)]


def test_onnx_needs_its_add_on_and_says_so(qtbot, session, monkeypatch):
    from desktop_app.ui.pages import export as export_page

    monkeypatch.setattr(export_page, "available_formats", lambda: ("keras", "savedmodel", "tflite"))
    panel = ExportPanel(session)
    qtbot.addWidget(panel)
    onnx = panel.format_checks["onnx"]
    assert not onnx.isEnabled() and not onnx.isChecked()
    assert "transfer-studio[onnx]" in onnx.toolTip()
