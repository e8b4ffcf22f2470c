"""A grid of image thumbnails that stays smooth for thousands of files.

The view only asks for the pictures it shows; each missing one is queued for a small
pool of background threads (newest request first, so the pictures on screen come
first after a fast scroll). Workers make ``QImage``s, which are safe off the GUI
thread; the GUI thread turns them into pixmaps and keeps a bounded cache.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from pathlib import Path

from PySide6.QtCore import (
    QAbstractListModel, QCoreApplication, QModelIndex, QObject, QRunnable, QSize, Qt, QThreadPool, Signal,
)
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QListView, QWidget

from PIL import Image

from desktop_app.core.data.images import open_rgb

THUMB_SIDE = 112
MAX_QUEUED = 400  # requests beyond this are for pictures long scrolled past: dropped
CACHE_SIZE = 3000


def decode_thumbnail(path: str, side: int = THUMB_SIDE) -> QImage:
    """Worker side: a QImage of at most ``side`` pixels, upright; null when undecodable."""
    try:
        image = open_rgb(path, max_side=side)
    except Exception:
        return QImage()
    if max(image.size) < side:  # tiny pictures: enlarge, sharp pixels, so they can be seen
        scale = side / max(image.size)
        image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                             Image.Resampling.NEAREST)
    data = image.tobytes()
    qimage = QImage(data, image.width, image.height, 3 * image.width, QImage.Format.Format_RGB888)
    return qimage.copy()  # own the pixels: ``data`` dies with this function


class _Signals(QObject):
    loaded = Signal(int, str, QImage)  # generation, path, image


class _Drain(QRunnable):
    def __init__(self, loader: ThumbnailLoader):
        super().__init__()
        self.loader = loader

    def run(self) -> None:
        while (job := self.loader.next_job()) is not None:
            generation, path = job
            self.loader.signals.loaded.emit(generation, path, decode_thumbnail(path, self.loader.side))


class ThumbnailLoader(QObject):
    """Decodes requested files on background threads; ``loaded`` arrives on the GUI thread."""

    def __init__(self, side: int = THUMB_SIDE, threads: int = 2, parent: QObject | None = None):
        super().__init__(parent)
        self.side = side
        self.signals = _Signals()
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)
        self._lock = threading.Lock()
        self._queue: deque[tuple[int, str]] = deque()
        self._queued: set[str] = set()
        self._draining = 0
        self.generation = 0

    def request(self, path: str) -> None:
        with self._lock:
            if path in self._queued:
                return
            self._queue.append((self.generation, path))
            self._queued.add(path)
            while len(self._queue) > MAX_QUEUED:
                _, old = self._queue.popleft()
                self._queued.discard(old)
            start = self._draining < self.pool.maxThreadCount()
            if start:
                self._draining += 1
        if start:
            self.pool.start(_Drain(self))

    def next_job(self) -> tuple[int, str] | None:
        with self._lock:
            if not self._queue:
                self._draining -= 1
                return None
            job = self._queue.pop()  # newest first: what is on screen now
            self._queued.discard(job[1])
            return job

    def clear(self) -> None:
        """Forget queued work (a new folder); results of running work are ignored."""
        with self._lock:
            self._queue.clear()
            self._queued.clear()
            self.generation += 1

    def wait(self, msecs: int = 3000) -> bool:
        self.clear()
        return self.pool.waitForDone(msecs)


class ThumbnailModel(QAbstractListModel):
    def __init__(self, loader: ThumbnailLoader, parent: QObject | None = None):
        super().__init__(parent)
        self.loader = loader
        self.paths: list[str] = []
        self.tooltips: list[str] = []
        self.row_of: dict[str, int] = {}
        self.cache: OrderedDict[str, QPixmap] = OrderedDict()
        self.failed: set[str] = set()
        self.placeholder = _placeholder(loader.side, QColor("#e3e8ef"))
        self.broken = _placeholder(loader.side, QColor("#f4d4d4"), "?")
        loader.signals.loaded.connect(self._on_loaded)

    def set_files(self, paths: list[Path], tooltips: list[str] | None = None) -> None:
        self.beginResetModel()
        self.loader.clear()
        self.paths = [str(p) for p in paths]
        self.tooltips = tooltips or [Path(p).name for p in self.paths]
        self.row_of = {p: i for i, p in enumerate(self.paths)}
        self.endResetModel()

    def add_files(self, paths: list[Path]) -> None:
        """Append new files (a photo just taken) without reloading the others."""
        new = [str(p) for p in paths if str(p) not in self.row_of]
        if not new:
            return
        self.beginInsertRows(QModelIndex(), len(self.paths), len(self.paths) + len(new) - 1)
        for path in new:
            self.row_of[path] = len(self.paths)
            self.paths.append(path)
            self.tooltips.append(Path(path).name)
        self.endInsertRows()

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.paths)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        path = self.paths[index.row()]
        if role == Qt.ItemDataRole.DecorationRole:
            pixmap = self.cache.get(path)
            if pixmap is not None:
                self.cache.move_to_end(path)
                return pixmap
            if path in self.failed:
                return self.broken
            self.loader.request(path)  # only asked for rows the view shows: lazy by nature
            return self.placeholder
        if role == Qt.ItemDataRole.DisplayRole:
            return Path(path).name
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tooltips[index.row()]
        if role == Qt.ItemDataRole.UserRole:
            return path
        return None

    def loaded_count(self) -> int:
        return sum(1 for p in self.paths if p in self.cache)

    def _on_loaded(self, generation: int, path: str, image: QImage) -> None:
        if image.isNull():
            self.failed.add(path)
        else:
            self.cache[path] = QPixmap.fromImage(image)
            while len(self.cache) > CACHE_SIZE:
                self.cache.popitem(last=False)
        row = self.row_of.get(path)
        if row is not None:
            index = self.index(row)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])


def _placeholder(side: int, colour: QColor, text: str = "") -> QPixmap:
    pixmap = QPixmap(side, side)
    pixmap.fill(colour)
    if text:
        painter = QPainter(pixmap)
        painter.setPen(QColor("#a33"))
        font = painter.font()
        font.setPointSize(24)
        painter.setFont(font)
        painter.drawText(pixmap.rect(), Qt.AlignmentFlag.AlignCenter, text)
        painter.end()
    return pixmap


class ThumbnailGrid(QListView):
    """Icon-mode list of thumbnails with file names underneath."""

    def __init__(self, side: int = THUMB_SIDE, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("thumbnailGrid")
        # An explicit context: subclasses (CaptionedThumbnails) run this too, and self.tr would use their name.
        self.setAccessibleName(QCoreApplication.translate("ThumbnailGrid", "Photos of the chosen class"))
        self.setToolTip(QCoreApplication.translate(
            "ThumbnailGrid", "Photos of the class chosen on the left; hover over one to see its file name."))
        self.loader = ThumbnailLoader(side, parent=self)
        self.model_ = ThumbnailModel(self.loader, self)
        self.setModel(self.model_)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setIconSize(QSize(side, side))
        self.setGridSize(QSize(side + 20, side + 34))
        self.setUniformItemSizes(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setWrapping(True)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setSpacing(4)
        self.setLayoutMode(QListView.LayoutMode.Batched)  # thousands of items lay out in steps
        self.setBatchSize(200)
        self.setSelectionMode(QListView.SelectionMode.SingleSelection)

    def set_files(self, paths: list[Path], tooltips: list[str] | None = None) -> None:
        self.model_.set_files(paths, tooltips)
        self.scrollToTop()

    def add_files(self, paths: list[Path]) -> None:
        """Show new files at the end, in view (photos as the camera takes them)."""
        self.model_.add_files(paths)
        self.scrollToBottom()

    def stop(self, msecs: int = 3000) -> bool:
        return self.loader.wait(msecs)
