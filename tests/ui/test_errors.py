"""Unexpected exceptions in the GUI: a friendly dialog, a log file, and the app keeps going."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QPushButton

from desktop_app.core.errors import UserError
from desktop_app.ui.shell import errors


@pytest.fixture
def handling(tmp_path, monkeypatch):
    monkeypatch.setenv(errors.LOG_DIR_ENV, str(tmp_path / "logs"))
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(errors, "show_error_dialog", lambda summary, details: shown.append((summary, details)))
    user: list[str] = []
    monkeypatch.setattr(errors, "show_user_error", user.append)
    path = errors.install_error_handling()
    yield path, shown, user
    errors.uninstall_error_handling()


@pytest.mark.qt_no_exception_capture
def test_exception_in_a_slot_shows_the_dialog_is_logged_and_the_app_keeps_running(qtbot, handling):
    log_path, shown, _ = handling
    button = QPushButton("boom")
    qtbot.addWidget(button)
    clicks = []

    def broken_slot():
        clicks.append(1)
        raise ZeroDivisionError("the slot divided by zero")

    button.clicked.connect(broken_slot)
    QTimer.singleShot(0, button.click)
    qtbot.waitUntil(lambda: len(shown) == 1, timeout=3000)
    summary, details = shown[0]
    assert "ZeroDivisionError" in summary and "the slot divided by zero" in summary
    assert "broken_slot" in details and "Traceback" in details
    # The event loop is still alive: the same button works again, and so does the handler.
    QTimer.singleShot(0, button.click)
    qtbot.waitUntil(lambda: len(shown) == 2, timeout=3000)
    assert len(clicks) == 2
    for handler in errors.log.handlers:
        handler.flush()
    text = log_path.read_text()
    assert log_path.parent == errors.log_dir()
    assert "Unexpected error" in text and "the slot divided by zero" in text


@pytest.mark.qt_no_exception_capture
def test_user_error_escaping_a_slot_shows_its_sentence_only(qtbot, handling):
    _, shown, user = handling
    QTimer.singleShot(0, lambda: (_ for _ in ()).throw(UserError("Choose a folder first.")))
    qtbot.waitUntil(lambda: user == ["Choose a folder first."], timeout=3000)
    assert shown == []


def test_error_dialog_copies_the_details(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv(errors.LOG_DIR_ENV, str(tmp_path))
    dialog = errors.ErrorDialog("Something broke", "Traceback: line 1")
    qtbot.addWidget(dialog)
    dialog.copy_button.click()
    assert QApplication.clipboard().text() == "Traceback: line 1"
    assert dialog.copy_button.text() == "Copied"
    assert str(tmp_path) in dialog.informativeText()


def test_qt_warnings_go_to_the_log(tmp_path, monkeypatch, qapp):
    monkeypatch.setenv(errors.LOG_DIR_ENV, str(tmp_path / "logs"))
    path = errors.install_error_handling()
    try:
        from PySide6.QtCore import qWarning

        qWarning("a Qt warning for the log")
    finally:
        errors.uninstall_error_handling()
    for handler in errors.log.handlers:
        handler.flush()
    assert "a Qt warning for the log" in path.read_text()


@pytest.mark.qt_no_exception_capture
def test_unwritable_log_folder_does_not_stop_the_app(qtbot, tmp_path, monkeypatch, capsys):
    # The log folder cannot be created (even as root): a file stands where a folder should be.
    (tmp_path / "home").write_text("not a folder")
    monkeypatch.setenv(errors.LOG_DIR_ENV, str(tmp_path / "home" / "logs"))
    shown = []
    monkeypatch.setattr(errors, "show_error_dialog", lambda summary, details: shown.append(summary))
    try:
        assert errors.install_error_handling() is None
        assert "cannot write the log file" in capsys.readouterr().err
        # Without a file log, unexpected errors are still shown and the app keeps running.
        QTimer.singleShot(0, lambda: 1 / 0)
        qtbot.waitUntil(lambda: len(shown) == 1, timeout=3000)
        assert "ZeroDivisionError" in shown[0]
    finally:
        errors.uninstall_error_handling()
