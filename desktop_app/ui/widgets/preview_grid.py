"""The original photo beside a grid of its augmented versions, scaled to the space there is."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

ACCENT = QColor("#2b5797")


def qimage_from_array(pixels: np.ndarray) -> QImage:
    """A QImage that owns a copy of ``pixels`` (uint8 HxWx3), safe after the array is gone."""
    pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
    h, w = pixels.shape[:2]
    return QImage(pixels.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class PreviewGrid(QWidget):
    """Paints the same arrangement as ``augment_preview.grid_image``: original left, variants right."""

    def __init__(self, columns: int = 3, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("augmentPreviewGrid")
        self.setAccessibleName(self.tr("Augmented versions of the photo"))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(300, 220)
        self.columns = columns
        self.original: QImage | None = None
        self.variants: list[QImage] = []
        self.variants_caption = ""
        self.original_caption: list[str] = []  # lines under the original: class, file name
        self.placeholder = self.tr("No photo yet.")
        self._dimmed = False

    def sizeHint(self) -> QSize:
        return QSize(620, 480)

    def set_images(self, original: QImage, variants: list[QImage], caption: str,
                   original_caption: list[str] | None = None) -> None:
        self.original, self.variants, self.variants_caption = original, variants, caption
        self.original_caption = list(original_caption or [])
        self._dimmed = False
        photo = ", ".join(self.original_caption)
        described = (self.tr("The original photo ({photo}) and {caption}") if photo
                     else self.tr("The original photo and {caption}"))
        self.setAccessibleDescription(described.format(photo=photo, caption=caption))
        self.update()

    def set_placeholder(self, text: str) -> None:
        self.original, self.variants, self.placeholder = None, [], text
        self.update()

    def set_dimmed(self, dimmed: bool) -> None:
        """Fade the images while new ones are being made, so a stale grid does not mislead."""
        if dimmed != self._dimmed:
            self._dimmed = dimmed
            self.update()

    def tile_rects(self) -> tuple[QRect, list[QRect], int]:
        """Where the original and each variant go, and the caption height, for the current size."""
        n = max(1, len(self.variants))
        rows = -(-n // self.columns)
        caption = QFontMetrics(self._caption_font()).height() + 6
        gap, divider = 6, 24
        tile_w = (self.width() - divider - (self.columns - 1) * gap) / (self.columns + 1)
        tile_h = (self.height() - caption - (rows - 1) * gap) / rows
        tile = max(16, int(min(tile_w, tile_h)))
        total_w = tile * (self.columns + 1) + divider + (self.columns - 1) * gap
        left = max(0, (self.width() - total_w) // 2)
        top = caption
        original = QRect(left, top, tile, tile)
        grid_left = left + tile + divider
        variants = [
            QRect(grid_left + (i % self.columns) * (tile + gap), top + (i // self.columns) * (tile + gap), tile, tile)
            for i in range(len(self.variants))
        ]
        return original, variants, caption

    def _caption_font(self) -> QFont:
        font = QFont(self.font())
        font.setBold(True)
        return font

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        if self.original is None:
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.placeholder)
            return
        original, variants, caption = self.tile_rects()
        painter.setFont(self._caption_font())
        metrics = QFontMetrics(painter.font())
        painter.setPen(ACCENT)
        painter.drawText(QRect(original.left(), 0, original.width(), caption), Qt.AlignmentFlag.AlignLeft
                         | Qt.AlignmentFlag.AlignVCenter,
                         metrics.elidedText(self.tr("Original"), Qt.TextElideMode.ElideRight, original.width()))
        if variants:
            width = variants[-1].right() - variants[0].left()
            painter.drawText(QRect(variants[0].left(), 0, width, caption),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             metrics.elidedText(self.variants_caption, Qt.TextElideMode.ElideRight, width))
        y = original.bottom() + 10
        for i, line in enumerate(self.original_caption):
            font = self._caption_font() if i == 0 else QFont(self.font())
            painter.setFont(font)
            painter.setPen(self.palette().text().color())
            line_metrics = QFontMetrics(font)
            painter.drawText(QRect(original.left(), y, original.width(), line_metrics.height()),
                             Qt.AlignmentFlag.AlignLeft,
                             line_metrics.elidedText(line, Qt.TextElideMode.ElideMiddle, original.width()))
            y += line_metrics.height() + 2
        if self._dimmed:
            painter.setOpacity(0.55)
        painter.drawImage(original, self.original)
        for rect, image in zip(variants, self.variants):
            painter.drawImage(rect, image)
        painter.setOpacity(1.0)
        painter.setPen(QPen(ACCENT, 3))
        painter.drawRect(original.adjusted(-2, -2, 1, 1))
