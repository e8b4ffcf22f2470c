"""Live loss and accuracy curves on one epoch timeline, with phase markers and overlays."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QWidget

TRAIN_COLOUR, VAL_COLOUR, BATCH_COLOUR = "#2b5797", "#e8590c", "#91a7ff"
OVERLAY_COLOURS = ("#868e96", "#2f9e44", "#ae3ec9", "#1098ad")


def _plot(title: str, y_label: str, legend_offset: tuple[int, int]) -> pg.PlotWidget:
    plot = pg.PlotWidget(background="w")
    plot.setTitle(title, color="#212529", size="12pt")
    plot.setLabel("bottom", "epoch")
    plot.setLabel("left", y_label)
    plot.showGrid(x=True, y=True, alpha=0.25)
    plot.addLegend(offset=legend_offset, labelTextSize="10pt", brush=(255, 255, 255, 200))
    plot.setMenuEnabled(False)
    for axis in ("bottom", "left"):
        plot.getAxis(axis).setTextPen("#343a40")
    return plot


class TrainingCurves(QWidget):
    """Curves are created once and fed with ``setData``: cheap even for long runs."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("trainingCurves")
        self.setAccessibleName("Loss and accuracy curves")
        # Legends sit where the curves usually are not: loss falls, accuracy rises.
        self.loss_plot = _plot("Loss (lower is better)", "loss", (-10, 10))
        self.accuracy_plot = _plot("Accuracy (higher is better)", "accuracy", (-10, -40))
        self.accuracy_plot.setYRange(0, 1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.loss_plot)
        layout.addWidget(self.accuracy_plot)

        def curve(plot, colour, name, width=3, style=Qt.PenStyle.SolidLine, symbol="o"):
            return plot.plot([], [], pen=pg.mkPen(colour, width=width, style=style), name=name,
                             symbol=symbol, symbolSize=7, symbolBrush=colour, symbolPen=None)

        self.batch_loss = curve(self.loss_plot, BATCH_COLOUR, "training loss, each step", width=1, symbol=None)
        self.batch_loss.setClipToView(True)
        self.batch_loss.setDownsampling(auto=True, method="mean")
        self.curves = {
            "loss": curve(self.loss_plot, TRAIN_COLOUR, "training"),
            "val_loss": curve(self.loss_plot, VAL_COLOUR, "validation"),
            "accuracy": curve(self.accuracy_plot, TRAIN_COLOUR, "training"),
            "val_accuracy": curve(self.accuracy_plot, VAL_COLOUR, "validation"),
        }
        # (plot, item) pairs, so each can be taken off its plot again.
        self.markers: list[tuple[pg.PlotWidget, pg.InfiniteLine]] = []
        self.overlays: list[tuple[pg.PlotWidget, pg.PlotDataItem]] = []
        self.clear()

    def clear(self) -> None:
        self.points: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in self.curves}
        self.batch_points: tuple[list[float], list[float]] = ([], [])
        for key, item in self.curves.items():
            item.setData([], [])
        self.batch_loss.setData([], [])
        for plot, marker in self.markers:
            plot.removeItem(marker)
        self.markers = []

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
        xs, ys = self.batch_points
        xs.append(epoch - 1 + batch / batches)
        ys.append(loss)
        self.batch_loss.setData(xs, ys)

    def set_history(self, rows: list[dict]) -> None:
        """Draw a run's history.json, phase markers included (used when resuming)."""
        self.clear()
        phase = None
        for row in rows:
            if phase is not None and row.get("phase") != phase:
                text = row.get("phase", "").replace("_", " ")
                if row.get("unfreeze_layers") is not None:
                    text += f"\ntop {row['unfreeze_layers']} layers\nlearning rate {row.get('learning_rate', 0):g}"
                self.mark_phase(row["epoch"] - 1, text)
            phase = row.get("phase")
            self.add_epoch(row["epoch"], row)

    def mark_phase(self, after_epoch: int, text: str) -> None:
        """A vertical line where a new phase (fine-tuning) starts, on both plots."""
        for plot in (self.loss_plot, self.accuracy_plot):
            line = pg.InfiniteLine(
                pos=after_epoch, angle=90, pen=pg.mkPen("#2f9e44", width=2, style=Qt.PenStyle.DashLine),
                # The label hangs left of the line: fine-tuning comes late, so there is room.
                label=text, labelOpts={"position": 0.5, "color": "#2b8a3e", "fill": (255, 255, 255, 210),
                                       "movable": False, "anchors": [(1, 0.5), (1, 0.5)]},
            )
            plot.addItem(line)
            self.markers.append((plot, line))

    def set_overlays(self, runs: dict[str, list[dict]]) -> None:
        """Earlier runs' validation curves, dashed, for comparison."""
        for plot, item in self.overlays:
            plot.removeItem(item)
            plot.plotItem.legend.removeItem(item)
        self.overlays = []
        for i, (name, rows) in enumerate(runs.items()):
            colour = OVERLAY_COLOURS[i % len(OVERLAY_COLOURS)]
            pen = pg.mkPen(colour, width=2, style=Qt.PenStyle.DashLine)
            for plot, key in ((self.loss_plot, "val_loss"), (self.accuracy_plot, "val_accuracy")):
                xs = [r["epoch"] for r in rows if r.get(key) is not None]
                ys = [r[key] for r in rows if r.get(key) is not None]
                self.overlays.append((plot, plot.plot(xs, ys, pen=pen, name=f"{name} (validation)")))

    def epoch_count(self, key: str = "val_accuracy") -> int:
        return len(self.points[key][0])

    def batch_count(self) -> int:
        return len(self.batch_points[0])
