"""Step 1, Data: choose a folder of photos and see what is in it."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog, QHBoxLayout, QHeaderView, QLineEdit, QProgressBar, QPushButton, QTableWidget,
    QTableWidgetItem, QWidget,
)

from desktop_app.core.dataset import DatasetIndex, scan_folder
from desktop_app.core.demo_data import ensure_demo_dataset
from desktop_app.ui.page import StepPage, styled_label
from desktop_app.ui.workers import Task

SPLIT_TITLES = {"pool": "Images", "train": "Train", "val": "Validation", "test": "Test"}


def load_dataset(folder: str | None, report, should_stop) -> DatasetIndex:
    """Worker body: the demo dataset (generated on first use) or the user's folder."""
    if folder is None:
        report("Preparing the demo dataset...")
        folder = str(ensure_demo_dataset())
    report(f"Reading {folder}...")
    return scan_folder(folder)


class DataPanel(StepPage):
    datasetChanged = Signal(object)  # DatasetIndex

    def __init__(self, parent: QWidget | None = None):
        super().__init__(
            "1. Data: your photos",
            "Choose a folder that holds one sub-folder per class, for example cats/ and dogs/. "
            "Each sub-folder's name becomes a class the model learns to recognise.",
            parent,
        )
        self.index: DatasetIndex | None = None
        self._task: Task | None = None

        row = QHBoxLayout()
        self.path_edit = QLineEdit(readOnly=True, objectName="datasetPath", placeholderText="No folder chosen")
        self.path_edit.setAccessibleName("Dataset folder")
        self.choose_button = QPushButton("Choose folder…", objectName="chooseFolderButton")
        self.choose_button.setToolTip("Pick the folder whose sub-folders are your classes.")
        self.demo_button = QPushButton("Use demo dataset", objectName="demoButton")
        self.demo_button.setToolTip("Coloured shapes made by the app: circles, squares, stars and triangles.")
        for button in (self.choose_button, self.demo_button):
            button.setAccessibleName(button.text().rstrip("…"))
        row.addWidget(self.path_edit, 1)
        row.addWidget(self.choose_button)
        row.addWidget(self.demo_button)
        self.layout_.addLayout(row)

        self.busy = QProgressBar(objectName="scanProgress", maximum=0, textVisible=False)
        self.busy.setAccessibleName("Reading the folder")
        self.busy.setMaximumHeight(8)
        self.busy.hide()
        self.layout_.addWidget(self.busy)

        self.summary = styled_label("", "summary", "datasetSummary")
        self.summary.setStyleSheet("font-size: 13pt; font-weight: 600;")
        self.layout_.addWidget(self.summary)
        self.table = QTableWidget(objectName="classTable")
        self.table.setAccessibleName("Images per class")
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        self.layout_.addWidget(self.table, 1)
        self.message = styled_label("", "warning", "datasetMessage")
        self.layout_.addWidget(self.message)

        self.choose_button.clicked.connect(self.choose_folder)
        self.demo_button.clicked.connect(lambda: self.load(None))

    def choose_folder(self) -> None:
        start = str(self.index.root) if self.index else str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Choose a dataset folder", start)
        if folder:
            self.load(folder)

    def load(self, folder: str | None) -> None:
        """Scan ``folder`` (None: the demo dataset) in the background."""
        if self._task is not None and self._task.is_running():
            return
        self._set_busy(True)
        self.message.setProperty("role", "explain")
        self.message.setText("Preparing the demo dataset…" if folder is None else f"Reading {folder}…")
        self._task = Task(load_dataset, folder, parent=self)
        self._task.progress.connect(self.message.setText)
        self._task.succeeded.connect(self._show_index)
        self._task.failed.connect(self._show_error)
        self._task.finished.connect(lambda: self._set_busy(False))
        self._task.start()

    def _set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        self.choose_button.setEnabled(not busy)
        self.demo_button.setEnabled(not busy)

    def _show_error(self, text: str) -> None:
        self._set_message(text, "error")

    def _set_message(self, text: str, role: str) -> None:
        self.message.setProperty("role", role)
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)
        self.message.setText(text)

    def _show_index(self, index: DatasetIndex) -> None:
        self.index = index
        self.path_edit.setText(str(index.root))
        counts = index.counts()
        splits = [s for s in ("pool", "train", "val", "test") if s in counts]
        self.table.setColumnCount(1 + len(splits))
        self.table.setHorizontalHeaderLabels(["Class"] + [SPLIT_TITLES[s] for s in splits])
        self.table.setRowCount(len(index.classes))
        for row, name in enumerate(index.classes):
            self.table.setItem(row, 0, QTableWidgetItem(name))
            for col, split in enumerate(splits, start=1):
                item = QTableWidgetItem(f"{counts[split][name]:,}")
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, col, item)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in range(1, 1 + len(splits)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.summary.setText(f"{len(index.classes)} classes, {len(index.files):,} images")
        self._set_message(" ".join(index.warnings), "warning")
        self.datasetChanged.emit(index)

    def stop_background_work(self, msecs: int) -> None:
        if self._task is not None and self._task.is_running():
            self._task.stop_and_wait(msecs)
