"""The main window: workflow steps in a sidebar, one page per step, menus."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication, QHBoxLayout, QListWidget, QListWidgetItem, QMainWindow, QMessageBox, QStackedWidget, QWidget,
)

from desktop_app import APP_NAME
from desktop_app.core.errors import UserError
from desktop_app.ui.augment_panel import AugmentPanel
from desktop_app.ui.data_panel import DataPanel
from desktop_app.ui.model_panel import ModelPanel
from desktop_app.ui.evaluate_panel import EvaluatePanel
from desktop_app.ui.export_panel import ExportPanel
from desktop_app.ui.train_panel import QUICK_SUBSET, TrainPanel
from desktop_app.ui.project_controller import ProjectController
from desktop_app.ui.window_actions import about_html, install_desktop_actions

STEPS = ("Data", "Augment", "Model", "Train", "Evaluate", "Export")


class MainWindow(QMainWindow):
    def __init__(self, data_folder: str | None = None):
        super().__init__()
        self._closing_after_training = False
        self.setAcceptDrops(True)
        self.setWindowTitle(APP_NAME)
        self.resize(1200, 780)

        self.steps = QListWidget(objectName="stepList")
        self.steps.setAccessibleName("Workflow steps")
        self.steps.setFixedWidth(210)
        self.steps.setIconSize(QSize(20, 20))
        for number, name in enumerate(STEPS, start=1):
            item = QListWidgetItem(f"{number}  {name}")
            item.setToolTip(f"Step {number}: {name} (Ctrl+{number})")
            self.steps.addItem(item)

        self.pages = QStackedWidget(objectName="pages")
        self.data_panel = DataPanel()
        self.augment_panel = AugmentPanel()
        self.data_panel.datasetChanged.connect(self.augment_panel.set_dataset)
        self.model_panel = ModelPanel()
        self.data_panel.datasetChanged.connect(lambda index: self.model_panel.set_class_count(len(index.classes)))
        self.augment_panel.specChanged.connect(self.model_panel.set_augmentation)
        self.train_panel = TrainPanel(config_source=self.training_fields)
        self.train_panel.quickExperimentRequested.connect(self.data_panel.subset_buttons[QUICK_SUBSET].click)
        self.train_panel.learning_rate.valueChanged.connect(self.model_panel.set_learning_rate)
        self.model_panel.unfreeze_spin.valueChanged.connect(self.train_panel.set_unfreeze_layers)
        for signal in (self.data_panel.datasetChanged, self.data_panel.splitChanged, self.augment_panel.specChanged):
            signal.connect(self.train_panel.update_mode)
        self.evaluate_panel = EvaluatePanel()
        self.export_panel = ExportPanel()
        # The Evaluate and Export pages follow the latest run.
        self.train_panel.runFinished.connect(self.evaluate_panel.set_run)
        self.train_panel.runFinished.connect(self.export_panel.set_run)
        for page in [self.data_panel, self.augment_panel, self.model_panel, self.train_panel, self.evaluate_panel,
                     self.export_panel]:
            self.pages.addWidget(page)
        self.steps.currentRowChanged.connect(self.pages.setCurrentIndex)
        self.steps.setCurrentRow(0)

        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.steps)
        layout.addWidget(self.pages, 1)
        self.setCentralWidget(central)
        self._build_menus()
        self.projects = ProjectController(self, start_dataset=data_folder)
        self.projects.projectChanged.connect(self._follow_runs_folder)
        self._follow_runs_folder()
        self.desktop = install_desktop_actions(self)
        self.statusBar().showMessage("Ready")
        self.data_panel.datasetChanged.connect(
            lambda index: self.statusBar().showMessage(f"Dataset: {index.root}")
        )
        self.data_panel.load(data_folder)

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

    def _follow_runs_folder(self, _project=None) -> None:
        """The Evaluate and Export pages list the runs where the Train page puts them: the open
        project's runs/ folder, else the default runs folder."""
        for panel in (self.evaluate_panel, self.export_panel):
            panel.set_runs_source(lambda: self.train_panel.runs_parent)

    def show_about(self) -> None:
        QMessageBox.about(self, f"About {APP_NAME}", about_html())

    def training_fields(self) -> dict:
        """What the Data, Augment and Model steps decided, as TrainingConfig fields."""
        index = self.data_panel.index
        if index is None:
            raise UserError("Choose a dataset on the Data page first.")
        split = self.data_panel.split_settings()
        model = self.model_panel
        return dict(
            data=index.root, backbone=model.backbone, alpha=model.alpha, weights=model.weights,
            img_size=model.img_size, head=model.head, augmentation=self.augment_panel.spec(),
            subset_percent=split.subset_percent, val_fraction=split.val_fraction, seed=split.seed,
        )

    def go_to_step(self, name: str) -> None:
        self.steps.setCurrentRow(STEPS.index(name))

    # A folder dropped anywhere on the window (outside pages with drop zones of their own)
    # opens it as the dataset.
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        self.data_panel.dragEnterEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        if self.data_panel.dropped_folder(event) is not None:
            self.go_to_step("Data")
        self.data_panel.dropEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        task = self.train_panel.task
        if task is not None and task.is_running():
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
            task.finished.connect(self.close)
            return
        if not self._closing_after_training and not self.projects.confirm_close():
            event.ignore()  # unsaved work: the user chose Cancel
            return
        for panel in (self.data_panel, self.augment_panel, self.model_panel, self.evaluate_panel,
                      self.export_panel):
            panel.stop_background_work(3000)
        event.accept()

    def _offer_quit_anyway(self) -> None:
        answer = QMessageBox.question(
            self, "Training is still stopping",
            "Training is finishing its batch and saving a checkpoint. Quit now anyway? The checkpoints "
            "saved before stay intact; only this last one may be lost.",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.train_panel.task.finished.disconnect(self.close)
            QApplication.instance().quit()
