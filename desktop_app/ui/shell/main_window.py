"""The main window: workflow steps in a sidebar, one page per step, menus.

The window owns the session and the engine and hands both to the pages; the pages
talk to each other only through the session.
"""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication, QHBoxLayout, QListWidget, QListWidgetItem, QMainWindow, QMessageBox, QStackedWidget, QWidget,
)

from desktop_app import APP_NAME
from desktop_app.core.session import Session
from desktop_app.ui.pages.augment import AugmentPanel
from desktop_app.ui.pages.data import DataPanel, dataset_choice
from desktop_app.ui.pages.evaluate import EvaluatePanel
from desktop_app.ui.pages.export import ExportPanel
from desktop_app.ui.pages.model import ModelPanel
from desktop_app.ui.pages.train import TrainPanel
from desktop_app.ui.shell.menus import about_html, install_desktop_actions
from desktop_app.ui.shell.project_controller import ProjectController
from desktop_app.ui.shell.steps import STEPS
from desktop_app.ui.tasks import Engine, shared_engine
from desktop_app.ui.widgets.bindings import follow
from desktop_app.ui.widgets.drops import dropped_folder


class MainWindow(QMainWindow):
    def __init__(self, data_folder: str | None = None, session: Session | None = None,
                 engine: Engine | None = None):
        super().__init__()
        self._closing_after_training = False
        self.setAcceptDrops(True)
        self.setWindowTitle(APP_NAME)
        self.resize(1200, 780)
        self.session = session if session is not None else Session()
        if data_folder is not None:
            self.session.dataset = dataset_choice(data_folder)
        # TensorFlow starts in the engine's own process now, while the user looks at the Data page.
        self.engine = engine if engine is not None else shared_engine()
        self.engine.start()
        self.engine.died.connect(lambda text: self.statusBar().showMessage(text, 15_000))

        self.steps = QListWidget(objectName="stepList")
        self.steps.setAccessibleName("Workflow steps")
        self.steps.setFixedWidth(210)
        self.steps.setIconSize(QSize(20, 20))
        for number, name in enumerate(STEPS, start=1):
            item = QListWidgetItem(f"{number}  {name}")
            item.setToolTip(f"Step {number}: {name} (Ctrl+{number})")
            self.steps.addItem(item)

        self.pages = QStackedWidget(objectName="pages")
        s, e = self.session, self.engine
        self.data_panel = DataPanel(s)
        self.augment_panel = AugmentPanel(s, e)
        self.model_panel = ModelPanel(s, e)
        self.train_panel = TrainPanel(s)
        self.evaluate_panel = EvaluatePanel(s, e)
        self.export_panel = ExportPanel(s, e)
        for page in self.all_pages():
            self.pages.addWidget(page)
        self.steps.currentRowChanged.connect(self.pages.setCurrentIndex)
        self.train_panel.stepRequested.connect(self.go_to_step)
        self.steps.setCurrentRow(0)

        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.steps)
        layout.addWidget(self.pages, 1)
        self.setCentralWidget(central)
        self._build_menus()
        self.projects = ProjectController(self, self.session)
        self.desktop = install_desktop_actions(self)
        self.statusBar().showMessage("Ready")
        follow(self.session.events.index, self._dataset_checked, self)
        self.data_panel.reload()

    def all_pages(self) -> list[QWidget]:
        return [self.data_panel, self.augment_panel, self.model_panel, self.train_panel, self.evaluate_panel,
                self.export_panel]

    def _dataset_checked(self, index, _old=None) -> None:
        if index is not None:
            self.statusBar().showMessage(f"Dataset: {index.root}")

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        open_action = QAction("Open &dataset folder…", self, shortcut=QKeySequence("Ctrl+Shift+O"))
        open_action.triggered.connect(self.data_panel.choose_folder)
        demo_action = QAction("Use the &demo dataset", self)
        demo_action.triggered.connect(lambda: self.data_panel.load(None))
        quit_action = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        for action in (open_action, demo_action):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(quit_action)

        go_menu = self.menuBar().addMenu("&Go")
        for number, name in enumerate(STEPS, start=1):
            action = QAction(f"&{number} {name}", self, shortcut=QKeySequence(f"Ctrl+{number}"))
            action.triggered.connect(lambda _=False, row=number - 1: self.steps.setCurrentRow(row))
            go_menu.addAction(action)

        help_menu = self.menuBar().addMenu("&Help")
        about = QAction(f"&About {APP_NAME}", self)
        about.triggered.connect(self.show_about)
        help_menu.addAction(about)

    def show_about(self) -> None:
        QMessageBox.about(self, f"About {APP_NAME}", about_html(self.engine.info))

    def go_to_step(self, name: str) -> None:
        self.steps.setCurrentRow(STEPS.index(name))

    # A folder dropped anywhere on the window (outside pages with drop zones of their own)
    # opens it as the dataset.
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        self.data_panel.dragEnterEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        if dropped_folder(event) is not None:
            self.go_to_step("Data")
        self.data_panel.dropEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        training = self.train_panel.training
        if self.train_panel.is_training():
            # Don't freeze the window while training winds down: stop it, close when it is done.
            event.ignore()
            if self._closing_after_training:
                self._offer_quit_anyway()
                return
            if not self.projects.confirm_close():
                return
            self._closing_after_training = True
            self.statusBar().showMessage("Stopping training after this batch; the window closes once the "
                                         "checkpoint is saved…")
            self.train_panel.stop()
            training.finished.connect(self.close)
            return
        if not self._closing_after_training and not self.projects.confirm_close():
            event.ignore()  # unsaved work: the user chose Cancel
            return
        for page in self.all_pages():
            page.stop_background_work(3000)
        event.accept()

    def _offer_quit_anyway(self) -> None:
        answer = QMessageBox.question(
            self, "Training is still stopping",
            "Training is finishing its batch and saving a checkpoint. Quit now anyway? The checkpoints "
            "saved before stay intact; only this last one may be lost.",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.train_panel.training.finished.disconnect(self.close)
            QApplication.instance().quit()
