"""The main window: workflow steps in a sidebar, one page per step, menus."""

from __future__ import annotations

import platform

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QListWidget, QListWidgetItem, QMainWindow, QMessageBox, QStackedWidget, QWidget

from desktop_app import APP_NAME, __version__
from desktop_app.ui.data_panel import DataPanel
from desktop_app.ui.page import UpcomingStepPage

STEPS = ("Data", "Augment", "Model", "Train", "Evaluate", "Export")


def _upcoming_pages() -> list[UpcomingStepPage]:
    return [
        UpcomingStepPage(
            "2. Augment: more variety from the same photos",
            "Augmentation shows the model slightly changed copies of your photos (flipped, turned, "
            "zoomed) while it learns, so it copes with new photos that are not framed exactly the same.",
            ["switches and sliders for flip, rotation, zoom, stretch, shift, contrast and brightness",
             "a live grid of augmented versions of your own photos"],
        ),
        UpcomingStepPage(
            "3. Model: borrow a network that already sees",
            "Transfer learning starts from a network trained on millions of photos (the base) and adds a "
            "small new layer (the head) that learns your classes.",
            ["a choice of pretrained bases, EfficientNetV2-B0 first",
             "the whole model as a tree of layers, with sizes and which layers are frozen",
             "downloading or importing pretrained weights"],
        ),
        UpcomingStepPage(
            "4. Train: teach the head, then fine-tune",
            "Training shows the model your photos again and again (each full pass is an epoch) and "
            "nudges its numbers to make fewer mistakes.",
            ["Start and Stop, with live loss and accuracy curves",
             "checkpoints you can go back to, and fine-tuning of the top of the base"],
        ),
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
        for page in [self.data_panel, *_upcoming_pages()]:
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

    def go_to_step(self, name: str) -> None:
        self.steps.setCurrentRow(STEPS.index(name))

    def closeEvent(self, event: QCloseEvent) -> None:
        self.data_panel.stop_background_work(3000)
        event.accept()
