"""Live loss and accuracy curves on one epoch timeline, with phase markers and overlays.

The legend is a label under both plots, never on top of the curves, and it grows with
the rest of the text in presentation mode; so do the lines and the fine-tuning note.
"""

from __future__ import annotations

import html

import pyqtgraph as pg
from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from desktop_app.core import palette
from desktop_app.ui.widgets.step_page import presentation_scale

LINE_WIDTH, SYMBOL_SIZE, MARKER_WIDTH = 3, 7, 2  # at scale 1; presentation mode multiplies them
LEGEND_GAP = " &nbsp;&nbsp; "  # rich-text space between the legend's entries
STEP_LOSS_WORDS = QT_TRANSLATE_NOOP("TrainingCurves", "training, average of recent steps")


class SmoothedStepLoss:
    """Per-step training loss, smoothed across epochs.

    Keras reports the loss of a step as the running mean of the epoch so far, and the
    window hears only every few steps (they are throttled): drawn as they come, the values
    restart from one noisy batch at each epoch and the line saw-tooths. Here the mean of
    the steps between two reports is recovered exactly from the running means, then
    folded into an exponential mean that spans about a quarter of an epoch (at least
    eight steps) and does not restart at epoch boundaries.
    """

    def __init__(self):
        self.xs: list[float] = []
        self.ys: list[float] = []
        self._epoch: int | None = None
        self._batch = 0  # steps of this epoch already taken into account
        self._epoch_mean = 0.0
        self._average: float | None = None

    def add(self, epoch: int, batch: int, batches: int, running_mean: float) -> None:
        if epoch != self._epoch or batch <= self._batch:  # a new epoch (or a resumed one)
            self._epoch, self._batch, self._epoch_mean = epoch, 0, 0.0
        steps = batch - self._batch
        segment_mean = (batch * running_mean - self._batch * self._epoch_mean) / steps
        span = max(8, batches // 4)
        kept = (1 - 2 / (span + 1)) ** steps  # the weight the old average keeps after ``steps`` steps
        if self._average is None:
            self._average = segment_mean
        else:
            self._average = kept * self._average + (1 - kept) * segment_mean
        self._batch, self._epoch_mean = batch, running_mean
        self.xs.append(epoch - 1 + batch / batches)
        self.ys.append(self._average)


def _plot(title: str, y_label: str) -> pg.PlotWidget:
    plot = pg.PlotWidget(background="w")
    plot.setTitle(title, color="#212529", size="11pt")
    plot.setLabel("bottom", QCoreApplication.translate("TrainingCurves", "epoch"))
    plot.setLabel("left", y_label)
    plot.showGrid(x=True, y=True, alpha=0.25)
    plot.setMenuEnabled(False)
    for axis in ("bottom", "left"):
        plot.getAxis(axis).setTextPen("#343a40")
    return plot


def _swatch(colour: str, text: str, dashed: bool = False) -> str:
    line = "\u254d\u254d" if dashed else "\u2501\u2501"  # box-drawing dashes or a solid bar
    return f"<span style='color:{colour}'>{line}</span>&nbsp;{html.escape(text)}"


class TrainingCurves(QWidget):
    """Curves are created once and fed with ``setData``: cheap even for long runs."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("trainingCurves")
        self.setAccessibleName(self.tr("Loss and accuracy curves"))
        self.loss_plot = _plot(self.tr("Loss (lower is better)"), self.tr("loss"))
        self.accuracy_plot = _plot(self.tr("Accuracy (higher is better)"), self.tr("accuracy"))
        self.accuracy_plot.setYRange(0, 1)
        self.accuracy_plot.setXLink(self.loss_plot)  # one epoch timeline: both plots show the same epochs
        self.legend = QLabel(objectName="curvesLegend")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setWordWrap(True)
        self.legend.setAccessibleName(self.tr("Legend of the curves"))
        plots = QHBoxLayout()
        plots.setContentsMargins(0, 0, 0, 0)
        plots.addWidget(self.loss_plot)
        plots.addWidget(self.accuracy_plot)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(plots, 1)
        layout.addWidget(self.legend)

        def curve(plot, colour, symbol="o"):
            return plot.plot([], [], pen=pg.mkPen(colour), symbol=symbol, symbolBrush=colour, symbolPen=None)

        self.batch_loss = curve(self.loss_plot, palette.PER_STEP, symbol=None)
        self.batch_loss.setClipToView(True)
        self.batch_loss.setDownsampling(auto=True, method="mean")
        self.curves = {
            "loss": curve(self.loss_plot, palette.TRAINING),
            "val_loss": curve(self.loss_plot, palette.VALIDATION),
            "accuracy": curve(self.accuracy_plot, palette.TRAINING),
            "val_accuracy": curve(self.accuracy_plot, palette.VALIDATION),
        }
        # (plot, item) pairs, so each can be taken off its plot again.
        self.markers: list[tuple[pg.PlotWidget, pg.InfiniteLine]] = []
        self.marker_notes: list[str] = []
        self.overlays: list[tuple[pg.PlotWidget, pg.PlotDataItem]] = []
        self.overlay_names: list[str] = []
        self.scale = 1.0
        self.clear()
        self.apply_presentation_scale(presentation_scale())

    def clear(self) -> None:
        self.points: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in self.curves}
        self.step_loss = SmoothedStepLoss()
        for key, item in self.curves.items():
            item.setData([], [])
        self.batch_loss.setData([], [])
        for plot, marker in self.markers:
            plot.removeItem(marker)
        self.markers, self.marker_notes = [], []
        self._update_legend()

    def add_epoch(self, epoch: int, metrics: dict) -> None:
        for key, item in self.curves.items():
            value = metrics.get(key)
            if value is None:
                continue
            xs, ys = self.points[key]
            xs.append(epoch)
            ys.append(value)
            item.setData(xs, ys)

    def add_batch(self, epoch: int, batch: int, batches: int | None, loss: float | None) -> None:
        if loss is None or not batches:
            return
        first = not self.step_loss.xs
        self.step_loss.add(epoch, batch, batches, loss)
        self.batch_loss.setData(self.step_loss.xs, self.step_loss.ys)
        if first:
            self._update_legend()

    def set_history(self, rows: list[dict]) -> None:
        """Draw a run's history.json, phase markers included (used when resuming)."""
        self.clear()
        phase = None
        for row in rows:
            if phase is not None and row.get("phase") != phase:
                text = row.get("phase", "").replace("_", "-")
                if row.get("unfreeze_layers") is not None:
                    text = self.tr("{phase}\ntop {layers} layers\nlearning rate {rate}").format(
                        phase=text, layers=row["unfreeze_layers"], rate=f"{row.get('learning_rate', 0):g}")
                self.mark_phase(row["epoch"] - 1, text)
            phase = row.get("phase")
            self.add_epoch(row["epoch"], row)

    def mark_phase(self, after_epoch: int, text: str) -> None:
        """A vertical line where a new phase (fine-tuning) starts, on both plots.

        ``text``'s first line labels the line; all of it goes into the legend below."""
        name, *details = text.splitlines() or [""]
        # The label hangs left of the line (fine-tuning comes late, the room is there), unless
        # the line is at the very start; at the top of the loss plot and the bottom of the
        # accuracy plot, where the curves are not once they have started to learn.
        side = 0 if after_epoch <= 1 else 1
        for plot, position, edge in ((self.loss_plot, 0.97, 0), (self.accuracy_plot, 0.03, 1)):
            anchor = (side, edge)
            line = pg.InfiniteLine(
                pos=after_epoch, angle=90, pen=pg.mkPen(palette.PHASE, width=MARKER_WIDTH * self.scale,
                                                         style=Qt.PenStyle.DashLine),
                label=name, labelOpts={"position": position, "color": palette.PHASE_TEXT,
                                       "fill": (255, 255, 255, 220), "movable": False, "anchors": [anchor, anchor]},
            )
            plot.addItem(line)
            self.markers.append((plot, line))
        note = self.tr("{name} from epoch {epoch}").format(name=name, epoch=after_epoch + 1)
        self.marker_notes.append(note + "".join(f", {d}" for d in details))
        self._style_markers()
        self._update_legend()

    def set_overlays(self, runs: dict[str, list[dict]]) -> None:
        """Earlier runs' validation curves, dashed, for comparison."""
        for plot, item in self.overlays:
            plot.removeItem(item)
        self.overlays, self.overlay_names = [], []
        for i, (name, rows) in enumerate(runs.items()):
            colour = palette.COMPARISON[i % len(palette.COMPARISON)]
            pen = pg.mkPen(colour, width=2 * self.scale, style=Qt.PenStyle.DashLine)
            for plot, key in ((self.loss_plot, "val_loss"), (self.accuracy_plot, "val_accuracy")):
                xs = [r["epoch"] for r in rows if r.get(key) is not None]
                ys = [r[key] for r in rows if r.get(key) is not None]
                self.overlays.append((plot, plot.plot(xs, ys, pen=pen)))
            self.overlay_names.append(name)
        self._update_legend()

    def apply_presentation_scale(self, scale: float) -> None:
        """Thicker lines and bigger points and notes in presentation mode (called by the theme)."""
        self.scale = scale
        for key, item in self.curves.items():
            colour = palette.TRAINING if key in ("loss", "accuracy") else palette.VALIDATION
            item.setPen(pg.mkPen(colour, width=LINE_WIDTH * scale))
            item.setSymbolSize(SYMBOL_SIZE * scale)
        self.batch_loss.setPen(pg.mkPen(palette.PER_STEP, width=1.5 * scale))
        for _plot, item in self.overlays:
            pen = pg.mkPen(item.opts["pen"])
            pen.setWidthF(2 * scale)
            item.setPen(pen)
        self._style_markers()

    def _style_markers(self) -> None:
        self.ensurePolished()  # the stylesheet's font size (larger in presentation mode)
        font = QFont(self.font())
        font.setBold(True)
        for _plot, line in self.markers:
            pen = pg.mkPen(line.pen)
            pen.setWidthF(MARKER_WIDTH * self.scale)
            line.setPen(pen)
            line.label.setFont(font)

    def _update_legend(self) -> None:
        items = [_swatch(palette.TRAINING, self.tr("training")), _swatch(palette.VALIDATION, self.tr("validation"))]
        if self.step_loss.xs:
            items.append(_swatch(palette.PER_STEP, self.tr(STEP_LOSS_WORDS)))
        items += [_swatch(palette.PHASE, note, dashed=True) for note in self.marker_notes]
        earlier = self.tr("{name} (validation)")
        items += [_swatch(palette.COMPARISON[i % len(palette.COMPARISON)], earlier.format(name=name), dashed=True)
                  for i, name in enumerate(self.overlay_names)]
        self.legend.setText(LEGEND_GAP.join(items))

    def epoch_count(self, key: str = "val_accuracy") -> int:
        return len(self.points[key][0])

    def batch_count(self) -> int:
        return len(self.step_loss.xs)
