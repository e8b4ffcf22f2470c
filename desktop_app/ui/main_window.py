"""The main window: workflow steps in a sidebar, one page per step, menus."""

from __future__ import annotations

import platform

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QSize
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QListWidget, QListWidgetItem, QMainWindow, QMessageBox, QStackedWidget, QWidget

from desktop_app import APP_NAME, __version__
from desktop_app.core.errors import UserError
from desktop_app.ui.augment_panel import AugmentPanel
from desktop_app.ui.data_panel import DataPanel
from desktop_app.ui.model_panel import ModelPanel
from desktop_app.ui.page import UpcomingStepPage
from desktop_app.ui.train_panel import QUICK_SUBSET, TrainPanel

STEPS = ("Data", "Augment", "Model", "Train", "Evaluate", "Export")


def _upcoming_pages() -> list[UpcomingStepPage]:
    return [
        UpcomingStepPage(
            "5. Evaluate: where does it go wrong?",
            "Test the model on photos it did not learn from, and see which classes it mixes up.",
            ["a confusion matrix you can click, per-class scores and the most-wrong photos",
             "predictions on new photos you drop onto the page"],
        ),
        UpcomingStepPage(
            "6. Export: take your model with you",
            "Save the trained model in formats other programs and phones can use, with a lab report.",
            ["Keras, SavedModel and TensorFlow Lite files, checked after writing",
             "a one-click HTML lab report"],
        ),
    ]


class MainWindow(QMainWindow):
    def __init__(self, data_folder: str | None = None):
        super().__init__()
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
        for page in [self.data_panel, self.augment_panel, self.model_panel, self.train_panel, *_upcoming_pages()]:
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
        self.statusBar().showMessage("Ready")
        self.data_panel.datasetChanged.connect(
            lambda index: self.statusBar().showMessage(f"Dataset: {index.root}")
        )
        self.data_panel.load(data_folder)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        open_action = QAction("&Open dataset folder…", self, shortcut=QKeySequence.StandardKey.Open)
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
        QMessageBox.about(
            self,
            f"About {APP_NAME}",
            f"<h3>{APP_NAME} {__version__}</h3>"
            "<p>Train image classifiers by transfer learning, without programming.</p>"
            f"<p>Python {platform.python_version()}, Qt for Python {pyside_version}</p>",
        )

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

    def closeEvent(self, event: QCloseEvent) -> None:
        # Training first: it stops after the current batch and writes its checkpoint.
        if self.train_panel.task is not None and self.train_panel.task.is_running():
            self.statusBar().showMessage("Stopping training and saving a checkpoint…")
        self.train_panel.stop_background_work(30_000)
        self.data_panel.stop_background_work(3000)
        self.augment_panel.stop_background_work(3000)
        self.model_panel.stop_background_work(3000)
        event.accept()
