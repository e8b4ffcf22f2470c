"""Views of an evaluation: clickable confusion matrix, captioned thumbnails, top-3 bars."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView, QFrame, QGridLayout, QHBoxLayout, QHeaderView, QLabel, QProgressBar, QScrollArea,
    QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from desktop_app.core.palette import sequential, text_on
from desktop_app.ui.widgets.thumbnail_grid import ThumbnailGrid, ThumbnailModel, decode_thumbnail

THUMB_SIDE = 72  # the thumbnail beside each prediction


def decode_prediction_thumbnails(predictions, side: int = THUMB_SIDE) -> dict[str, QImage]:
    """Worker side: {path: thumbnail} for ``PredictionRows.set_predictions`` (QImages are
    safe to make off the GUI thread; an undecodable file gets none)."""
    thumbnails = {}
    for p in predictions:
        image = decode_thumbnail(str(p.path), side)
        if not image.isNull():
            thumbnails[str(p.path)] = image
    return thumbnails


class ConfusionMatrixView(QTableWidget):
    """Rows: true class; columns: predicted class. Clicking a cell emits ``cellChosen(true, predicted)``."""

    cellChosen = Signal(int, int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("confusionMatrix")
        self.setAccessibleName(self.tr("Confusion matrix"))
        self.setToolTip(self.tr("Rows: the true class. Columns: what the model said. The diagonal holds the right "
                                "answers; click a cell to see its photos."))
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        # No selection highlight: it would hide the cell's colour; the label below says which cell.
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.horizontalHeader().setMinimumSectionSize(40)
        self.cellClicked.connect(self.cellChosen)

    def minimumSizeHint(self) -> QSize:
        """Room for every row at the current font (bigger in presentation mode), no more."""
        row = self.fontMetrics().height() + 8
        header = self.horizontalHeader().sizeHint().height()
        return QSize(super().minimumSizeHint().width(), header + max(4, self.rowCount()) * row + 2 * self.frameWidth())

    def set_matrix(self, matrix: np.ndarray, classes: list[str]) -> None:
        self.clear()
        cell_tip = self.tr("{count} photo(s) of {true} the model called {said}. Click to see them.")
        n = len(classes)
        self.setRowCount(n)
        self.setColumnCount(n)
        self.setHorizontalHeaderLabels(list(classes))
        self.setVerticalHeaderLabels(list(classes))
        for i in range(n):
            total = max(1, int(matrix[i].sum()))
            for j in range(n):
                value = int(matrix[i, j])
                colour = sequential(value / total)  # cividis: reads the same with any colour vision
                item = QTableWidgetItem(str(value))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                item.setBackground(QBrush(QColor(colour)))
                item.setForeground(QBrush(QColor(text_on(colour))))
                item.setToolTip(cell_tip.format(count=value, true=classes[i], said=classes[j]))
                font = item.font()
                font.setBold(True)
                item.setFont(font)
                self.setItem(i, j, item)


class _CaptionModel(ThumbnailModel):
    def __init__(self, loader, parent=None):
        super().__init__(loader, parent)
        self.captions: list[str] = []

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and index.isValid() and index.row() < len(self.captions):
            return self.captions[index.row()]
        return super().data(index, role)


class CaptionedThumbnails(ThumbnailGrid):
    """Thumbnails with a short caption each (e.g. "is stars, said circles 93 %")."""

    def __init__(self, name: str, accessible: str, tip: str, side: int = 96, parent: QWidget | None = None):
        super().__init__(side, parent)
        self.loader.signals.loaded.disconnect(self.model_._on_loaded)
        self.model_ = _CaptionModel(self.loader, self)
        self.setModel(self.model_)
        self.setGridSize(QSize(side + 64, side + 40))
        self.setWordWrap(True)
        self.setObjectName(name)
        self.setAccessibleName(accessible)
        self.setToolTip(tip)

    def set_items(self, paths: list[Path], captions: list[str], tooltips: list[str] | None = None) -> None:
        self.model_.captions = list(captions)
        self.set_files(paths, tooltips)

    def paths(self) -> list[Path]:
        return [Path(p) for p in self.model_.paths]


class PredictionRows(QScrollArea):
    """One row per image: a thumbnail, its name and its top classes as probability bars."""

    MAX_ROWS = 100  # more would only slow the page; the CSV holds them all

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("predictionRows")
        self.setAccessibleName(self.tr("Predictions for your photos"))
        self.setToolTip(self.tr("The three classes the model thinks most likely for each photo, with how sure it is."))
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.inner = QWidget()
        self.rows = QVBoxLayout(self.inner)
        self.rows.setContentsMargins(0, 0, 0, 0)
        self.rows.addStretch(1)
        self.setWidget(self.inner)
        self.bars: list[list[QProgressBar]] = []

    def clear(self) -> None:
        while self.rows.count() > 1:
            item = self.rows.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.bars = []

    def set_predictions(self, predictions, thumbnails: dict[str, QImage] | None = None) -> None:
        """One row per prediction (the first ``MAX_ROWS``); ``thumbnails`` from
        ``decode_prediction_thumbnails`` in the worker: nothing is decoded here."""
        self.clear()
        for p in predictions[: self.MAX_ROWS]:
            self.rows.insertWidget(self.rows.count() - 1, self._row(p, (thumbnails or {}).get(str(p.path))))

    def _row(self, prediction, image: QImage | None) -> QWidget:
        row = QFrame()
        row.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QHBoxLayout(row)
        thumb = QLabel()
        thumb.setObjectName("predictionThumbnail")
        thumb.setFixedSize(THUMB_SIDE, THUMB_SIDE)
        if image is not None and not image.isNull():
            thumb.setPixmap(QPixmap.fromImage(image).scaled(THUMB_SIDE, THUMB_SIDE,
                                                            Qt.AspectRatioMode.KeepAspectRatio))
        layout.addWidget(thumb)
        grid = QGridLayout()
        name = QLabel("<b>{}</b>".format(prediction.path.name))
        name.setToolTip(str(prediction.path))
        grid.addWidget(name, 0, 0, 1, 2)
        bars = []
        if prediction.error:
            grid.addWidget(QLabel(self.tr("Could not read this file: {error}.").format(error=prediction.error)),
                           1, 0, 1, 2)
        for r, (cls, probability) in enumerate(prediction.top, start=1):
            label = QLabel(cls)
            label.setMinimumWidth(120)
            bar = QProgressBar()
            bar.setRange(0, 1000)
            bar.setValue(round(probability * 1000))
            percent = format(probability, ".1%")
            bar.setFormat(percent)
            bar.setAccessibleName(self.tr("{name}: {percent}").format(name=cls, percent=percent))
            bar.setToolTip(self.tr("The model is {percent} sure this photo shows {name}.").format(percent=percent,
                                                                                                  name=cls))
            bar.setAlignment(Qt.AlignmentFlag.AlignCenter)
            if r > 1:  # the runners-up in grey: the top answer stands out
                bar.setStyleSheet("QProgressBar { text-align: center; } QProgressBar::chunk { background: #adb5bd; }")
            grid.addWidget(label, r, 0)
            grid.addWidget(bar, r, 1)
            bars.append(bar)
        grid.setColumnStretch(1, 1)
        layout.addLayout(grid, 1)
        self.bars.append(bars)
        return row
