"""The QApplication, its look, and ``run_gui``. Imports no TensorFlow."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from desktop_app import APP_NAME, __version__
from desktop_app.resources import resource_path
from desktop_app.ui.shell.theme import ThemeManager, theme_manager
from desktop_app.ui.translations import install_translators


def create_application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setOrganizationName(APP_NAME)
    app.setDesktopFileName("transfer-studio")
    app.setWindowIcon(QIcon(str(resource_path("icons", "transfer-studio.svg"))))
    app.setStyle("Fusion")
    if theme_manager(app) is None:
        install_translators(app)
        ThemeManager(app)  # palette and stylesheet: light / dark / system, presentation mode
    return app


GEOMETRY_KEY = "window/geometry"


def run_gui(data: str | None = None, project: str | None = None) -> int:
    from PySide6.QtCore import QSettings, QTimer

    from desktop_app.ui.shell.errors import install_error_handling
    from desktop_app.ui.shell.main_window import MainWindow
    from desktop_app.ui.shell.welcome import should_show_welcome

    app = create_application()
    install_error_handling()
    settings = QSettings()
    window = MainWindow(data_folder=data)
    geometry = settings.value(GEOMETRY_KEY)
    if geometry is not None:
        window.restoreGeometry(geometry)
    window.show()
    # An explicit project wins; otherwise continue where the last session ended, unless
    # a dataset folder was asked for on the command line.
    last = window.projects.last_project() if data is None else None
    if project is not None or last is not None:
        window.projects.open_project(Path(project) if project is not None else last, ask_first=False)
    elif data is None and should_show_welcome(settings):
        QTimer.singleShot(0, window.desktop.show_welcome)
    code = app.exec()
    settings.setValue(GEOMETRY_KEY, window.saveGeometry())
    return code
