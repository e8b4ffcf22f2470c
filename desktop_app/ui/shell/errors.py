"""Unexpected errors in the GUI: log them to a file, tell the user kindly, keep running.

``install_error_handling()`` replaces ``sys.excepthook`` (PySide6 routes exceptions
raised in slots and event handlers there, then carries on) and installs a Qt message
handler, so Qt's own warnings land in the same log. A ``UserError`` that escapes a
slot is shown as its sentence, without a traceback. The log file is ``core.logs``'s, in the per-user log
folder (``platformdirs.user_log_dir``), e.g. ~/.local/state/Transfer Studio/log on Linux.
"""

from __future__ import annotations

import logging
import sys
import traceback
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QCoreApplication, QtMsgType, QUrl, qInstallMessageHandler
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from desktop_app import APP_NAME, __version__
from desktop_app.core.errors import UserError
from desktop_app.core.logs import LOG_DIR_ENV, LOG_FILE, log_dir, log_file, setup_logging  # noqa: F401

log = logging.getLogger("desktop_app")


class ErrorDialog(QMessageBox):
    """A friendly message, the details folded away, and a button that copies them."""

    def __init__(self, summary: str, details: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("errorDialog")
        self.setIcon(QMessageBox.Icon.Warning)
        self.setWindowTitle(self.tr("{app}: something went wrong").format(app=APP_NAME))
        self.setText("<b>{}</b>".format(summary))  # markup only: the summary is already translated
        self.setInformativeText(self.tr(
            "Your work is still here and the app keeps running. If this happens again, "
            "please send the details to whoever looks after {app}.<br>"
            "They are also saved in the log file: {path}").format(app=APP_NAME, path=log_file()))
        self.setDetailedText(details)
        self.copy_button = self.addButton(self.tr("Copy details"), QMessageBox.ButtonRole.ActionRole)
        self.copy_button.setObjectName("copyDetailsButton")
        self.copy_button.setAccessibleName(self.tr("Copy details"))
        self.copy_button.setToolTip(self.tr("Copy the technical details to the clipboard, to paste into an e-mail."))
        self.log_button = self.addButton(self.tr("Open log folder"), QMessageBox.ButtonRole.ActionRole)
        self.log_button.setObjectName("openLogFolderButton")
        self.log_button.setAccessibleName(self.tr("Open log folder"))
        self.addButton(QMessageBox.StandardButton.Ok)
        self.details = details
        # Action buttons close the box by default; these should not.
        self.copy_button.clicked.disconnect()
        self.copy_button.clicked.connect(self.copy_details)
        self.log_button.clicked.disconnect()
        self.log_button.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(log_dir()))))

    def copy_details(self) -> None:
        QGuiApplication.clipboard().setText(self.details)
        self.copy_button.setText(self.tr("Copied"))


def show_error_dialog(summary: str, details: str) -> None:
    """Shows the dialog modally; tests replace this function."""
    parent = QApplication.activeWindow()
    ErrorDialog(summary, details, parent).exec()


def show_user_error(message: str) -> None:
    QMessageBox.warning(QApplication.activeWindow(), APP_NAME, message)


class _Handler:
    def __init__(self):
        self.showing = False  # an error inside the dialog must not open another

    def excepthook(self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        module = sys.modules[__name__]  # look the dialogs up at call time, so tests can replace them
        if isinstance(exc, UserError):
            log.info("User error: %s", exc)
            if QApplication.instance() is not None and not self.showing:
                self._show(module.show_user_error, str(exc))
            return
        details = (f"{APP_NAME} {__version__}, Python {sys.version.split()[0]}, {sys.platform}\n"
                   + "".join(traceback.format_exception(exc_type, exc, tb)))
        log.error("Unexpected error:\n%s", details)
        if QApplication.instance() is None or self.showing:
            sys.__excepthook__(exc_type, exc, tb)
            return
        summary = QCoreApplication.translate("ErrorDialog", "Something unexpected went wrong: {kind}: {error}").format(
            kind=exc_type.__name__, error=exc)
        self._show(module.show_error_dialog, summary, details)

    def _show(self, fn, *args) -> None:
        self.showing = True
        try:
            fn(*args)
        except Exception:  # the dialog itself must never take the app down
            log.exception("Could not show the error dialog")
        finally:
            self.showing = False


_QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG, QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING, QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}
# Harmless platform chatter that would only fill the log.
_QT_NOISE = ("propagateSizeHints", "QFont::setPointSize")


def qt_message_handler(mode: QtMsgType, context, message: str) -> None:
    if any(noise in message for noise in _QT_NOISE):
        return
    level = _QT_LEVELS.get(mode, logging.WARNING)
    logging.getLogger("desktop_app.qt").log(level, "%s", message)
    if level >= logging.WARNING:
        print(message, file=sys.stderr)


_handler: _Handler | None = None


def install_error_handling() -> Path | None:
    """Log to the user's log folder and show unexpected exceptions in a dialog; returns the log
    path, or None when the log folder cannot be written (the dialogs work all the same)."""
    global _handler
    path = setup_logging()
    _handler = _Handler()
    sys.excepthook = _handler.excepthook
    qInstallMessageHandler(qt_message_handler)
    return path


def uninstall_error_handling() -> None:
    global _handler
    sys.excepthook = sys.__excepthook__
    qInstallMessageHandler(None)
    _handler = None
