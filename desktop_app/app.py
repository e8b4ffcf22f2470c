"""The QApplication, its look, and ``run_gui``. Imports no TensorFlow."""

from __future__ import annotations

import sys

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from desktop_app import APP_NAME, __version__
from desktop_app.resources import resource_path


def create_application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setOrganizationName(APP_NAME)
    app.setDesktopFileName("transfer-studio")
    app.setWindowIcon(QIcon(str(resource_path("icons", "transfer-studio.svg"))))
    app.setStyle("Fusion")
    app.setStyleSheet(resource_path("style.qss").read_text(encoding="utf-8"))
    return app


def run_gui(data: str | None = None) -> int:
    from desktop_app.ui.main_window import MainWindow

    app = create_application()
    window = MainWindow(data_folder=data)
    window.show()
    return app.exec()
