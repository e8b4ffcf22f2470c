"""Live prediction: a camera (any ``FrameSource``) and one big bar per class, the model's
answer for the newest frame.

The model runs in the engine process. ``NewestFramePredictor`` keeps at most one frame
there at a time: a frame that arrives meanwhile takes the single pending slot (replacing
the one waiting, which is dropped, never queued), so the bars never lag the camera by more
than one inference however slow the computer is. Frames travel as small arrays, cropped
and resized here exactly as photos are for training (``core.results.live.model_input``).
"""

from __future__ import annotations

import time
from collections import deque
from pathlib import Path

import numpy as np
from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QObject, QRect, Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox, QDialog, QGridLayout, QHBoxLayout, QLabel, QProgressBar, QPushButton, QSizePolicy, QVBoxLayout,
    QWidget,
)

from desktop_app.core.data.edits import photo_folder
from desktop_app.core.data.frames import save_frame
from desktop_app.core.engine import Cancelled, Crashed, LivePredictRequest, Progressed, Refused, Succeeded
from desktop_app.core.results.live import LivePrediction, live_input_size, model_input
from desktop_app.core.runs import RunFolder
from desktop_app.ui.widgets.frame_sources import FrameSource, frame_pixels
from desktop_app.ui.widgets.run_chooser import of_another_dataset
from desktop_app.ui.widgets.step_page import named, presentation_scale, styled_label

NO_MODEL = QT_TRANSLATE_NOOP("LiveView", "This run has no trained model yet: train it on the Train page, then try it "
                                         "live.")
NO_RUN = QT_TRANSLATE_NOOP("LiveView", "Choose a run with a trained model first (train one on the Train page).")
FRAME_FAILED = QT_TRANSLATE_NOOP("LiveView", "The model could not look at the camera's picture; the details are in "
                                             "the log file.")
TOP_CLASS_PT, BAR_NAME_PT = 30, 16  # scaled again in presentation mode (apply_presentation_scale)
BAR_MIN_PX, BAR_MAX_PX = 32, 72


def centre_square_image(image: QImage) -> QImage:
    """The centre square of a frame, in Qt (cheap: the big frame is never converted whole)."""
    side = min(image.width(), image.height())
    return image.copy(QRect((image.width() - side) // 2, (image.height() - side) // 2, side, side))


class NewestFramePredictor(QObject):
    """Sends frames to the engine, newest first: one in flight, one waiting, the rest dropped.

    ``predicted(prediction, frame, latency)`` gives each answer with the frame it is about and
    the seconds from that frame's arrival to now; ``failed(sentence)`` when the engine refuses.
    """

    predicted = Signal(object, QImage, float)
    failed = Signal(str)

    def __init__(self, model: Path, size: int, engine, parent: QObject | None = None):
        super().__init__(parent)
        self.model, self.size = Path(model), size
        self.engine = engine  # ui.tasks.Engine (or anything with its submit and forget)
        self._next_id = 0
        self._pending: tuple[int, QImage, float] | None = None  # (frame id, frame, arrival)
        self._in_flight: tuple[int, QImage, float, int] | None = None  # ... and its ticket
        self.offered = self.sent = self.dropped = 0
        self.sent_ids: list[int] = []  # ids of the frames sent, in order (for tests and the bench)
        self.newest_when_sent: list[int] = []  # the newest frame's id at each send

    @property
    def busy(self) -> bool:
        return self._in_flight is not None

    def offer(self, frame: QImage) -> None:
        """A new frame from the camera: send it now, or keep it as the one to send next."""
        self._next_id += 1
        self.offered += 1
        if self._pending is not None:
            self.dropped += 1  # a newer frame replaces it: never a queue
        self._pending = (self._next_id, frame, time.perf_counter())
        if self._in_flight is None:
            self._send()

    def _send(self) -> None:
        if self._pending is None:
            return
        frame_id, frame, arrived = self._pending
        self._pending = None
        pixels = model_input(frame_pixels(centre_square_image(frame)), self.size)
        self.sent += 1
        self.sent_ids.append(frame_id)
        self.newest_when_sent.append(self._next_id)
        holder: list[int] = []
        ticket = self.engine.submit(LivePredictRequest(self.model, pixels, frame_id),
                                    lambda message: self._on_message(holder[0], message))
        holder.append(ticket)
        self._in_flight = (frame_id, frame, arrived, ticket)

    def _on_message(self, ticket: int, message: object) -> None:
        if isinstance(message, Progressed) or self._in_flight is None or self._in_flight[3] != ticket:
            return
        _, frame, arrived, _ = self._in_flight
        self._in_flight = None
        if isinstance(message, Succeeded):
            self.predicted.emit(message.result, frame, time.perf_counter() - arrived)
        elif isinstance(message, Refused):
            self.failed.emit(message.message)
        elif isinstance(message, Crashed):
            self.failed.emit(QCoreApplication.translate("LiveView", FRAME_FAILED))
        if not isinstance(message, Cancelled):
            self._send()  # the newest frame that came meanwhile, if any

    def stop(self) -> None:
        """Send nothing more; an answer still on its way is ignored."""
        self._pending = None
        if self._in_flight is not None:
            self.engine.forget(self._in_flight[3])
            self._in_flight = None


class ClassBars(QWidget):
    """One big bar per class, the most likely class named above them in large text."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.top_label = named(QLabel(""), "liveTopClass", self.tr("Most likely class"),
                               self.tr("The class the model thinks it sees now, and how sure it is."))
        self.top_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.top_label.setWordWrap(True)
        self.top_label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.grid = QGridLayout()
        self.grid.setColumnStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.top_label)
        layout.addLayout(self.grid, 1)  # the bars grow with the room, up to BAR_MAX_PX each
        self.classes: list[str] = []
        self.names: list[QLabel] = []
        self.bars: list[QProgressBar] = []
        self.apply_presentation_scale(presentation_scale())

    def set_classes(self, classes: list[str]) -> None:
        """``classes`` in the model's output order, as they are called now (renamed ones by their new name)."""
        self.classes = list(classes)
        for widget in [*self.names, *self.bars]:
            widget.deleteLater()
        self.names, self.bars = [], []
        for row, name in enumerate(classes):
            label = QLabel(name)
            bar = named(QProgressBar(), f"liveBar{row}", self.tr("Probability of {name}").format(name=name),
                        self.tr("How sure the model is that the camera shows {name}.").format(name=name))
            bar.setRange(0, 1000)
            bar.setValue(0)
            bar.setFormat("")
            bar.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
            self.grid.addWidget(label, row, 0)
            self.grid.addWidget(bar, row, 1)
            self.names.append(label)
            self.bars.append(bar)
        self.top_label.setText("")
        self.apply_presentation_scale(presentation_scale())

    def show_prediction(self, prediction: LivePrediction) -> None:
        for bar, p in zip(self.bars, prediction.probabilities):
            bar.setValue(round(p * 1000))
            bar.setFormat(format(p, ".0%"))
        self.top_label.setText(self.tr("{name} ({percent})").format(name=self.classes[prediction.best],
                                                                    percent=format(prediction.confidence, ".0%")))

    def top_class(self) -> str:
        """The class named in large text now (empty before the first answer)."""
        return self.top_label.text().rsplit(" (", 1)[0]

    def apply_presentation_scale(self, scale: float) -> None:
        """Set here, not in a stylesheet the theme scales: these widgets may be made after the switch."""
        self.top_label.setStyleSheet(f"font-size: {TOP_CLASS_PT * scale:.0f}pt; font-weight: 700; "
                                     "color: palette(link);")
        for label, bar in zip(self.names, self.bars):
            label.setStyleSheet(f"font-size: {BAR_NAME_PT * scale:.0f}pt; font-weight: 600;")
            bar.setMinimumHeight(round(BAR_MIN_PX * scale))
            bar.setMaximumHeight(round(BAR_MAX_PX * scale))
            bar.setStyleSheet(f"font-size: {BAR_NAME_PT * scale:.0f}pt;")


class LiveView(QWidget):
    """The camera, the class bars, Freeze and "Add this frame to class X", for one run.

    ``class_folder(name)`` says where a new photo of class ``name`` goes (None: nowhere, with
    ``no_folder_text`` saying why). The source starts with ``start()`` and stops (the camera
    turns off) with ``stop()``, which closing the view's window calls.
    """

    frameAdded = Signal(object)  # the path of a photo saved by "Add this frame"
    predictionShown = Signal(object)  # LivePrediction

    def __init__(self, source: FrameSource | None, run: Path | None, classes: list[str], size: int,
                 has_model: bool, class_folder=None, no_folder_text: str = "", engine=None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.source, self.run, self.classes = source, run, list(classes)
        self.class_folder = class_folder
        self.no_folder_text = no_folder_text
        self.frozen = False
        self.frame: QImage | None = None  # the newest frame shown
        self.shown: tuple[LivePrediction, QImage] | None = None  # the answer on the bars and its frame
        self.latencies: deque[float] = deque(maxlen=30)
        self.answer_times: deque[float] = deque(maxlen=30)
        self.predictor = (NewestFramePredictor(run, size, engine, self) if run is not None and has_model else None)

        self.picture = named(QLabel(), "liveFrame", self.tr("Camera picture"),
                             self.tr("The square the model looks at: the middle of the camera's picture."))
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setMinimumSize(240, 240)
        self.picture.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.picture.setStyleSheet("QLabel#liveFrame { background: palette(dark); border-radius: 6px; }")
        self.camera_on = named(QLabel(self.tr("● Camera on")), "liveCameraOn", self.tr("Camera on"),
                               self.tr("The camera is on while this view is open; it turns off when you close it."))
        self.camera_on.setStyleSheet("color: #e03131; font-weight: 700;")
        self.camera_on.setVisible(False)
        self.bars = ClassBars()
        self.bars.set_classes(self.classes)

        self.freeze_button = named(QPushButton(self.tr("Freeze")), "liveFreezeButton", self.tr("Freeze the picture"),
                                   self.tr("Hold this picture and its bars still, e.g. to talk about a wrong answer "
                                           "or add the picture to the right class."))
        self.freeze_button.setCheckable(True)
        self.class_choice = named(QComboBox(), "liveClassChoice", self.tr("Class for this frame"),
                                  self.tr("The class this picture really shows."))
        self.class_choice.addItems(self.classes)
        self.add_button = named(QPushButton(self.tr("Add this frame to the class")), "liveAddButton",
                                self.tr("Add this frame to the chosen class"),
                                self.tr("Save the picture into the chosen class's folder, so the next training "
                                        "learns from it."))
        self.status = styled_label("", "explain", "liveStatus")
        self.speed = styled_label("", "explain", "liveSpeed")

        left = QVBoxLayout()
        left.addWidget(self.camera_on)
        left.addWidget(self.picture, 1)
        right = QVBoxLayout()
        right.addWidget(self.bars, 1)
        right.addWidget(self.speed)
        top = QHBoxLayout()
        top.addLayout(left, 1)
        top.addLayout(right, 1)
        actions = QHBoxLayout()
        actions.addWidget(self.freeze_button)
        actions.addStretch(1)
        actions.addWidget(QLabel(self.tr("Class:")))
        actions.addWidget(self.class_choice)
        actions.addWidget(self.add_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top, 1)
        layout.addLayout(actions)
        layout.addWidget(self.status)

        self.freeze_button.toggled.connect(self.set_frozen)
        self.add_button.clicked.connect(self.add_frame)
        self.class_choice.currentTextChanged.connect(self._name_add_button)
        self._name_add_button(self.class_choice.currentText())
        if self.predictor is not None:
            self.predictor.predicted.connect(self._on_predicted)
            self.predictor.failed.connect(self.status.setText)
        if source is not None:
            source.frameReady.connect(self._on_frame)
            source.failed.connect(self._on_source_failed)
            source.activeChanged.connect(self.camera_on.setVisible)
        self._update_buttons()
        if run is None:
            self.status.setText(self.tr(NO_RUN))
        elif not has_model:
            self.status.setText(self.tr(NO_MODEL))
        elif source is None:
            self.status.setText(self.tr("No camera can be used on this computer, so live prediction cannot start."))
        else:
            self.status.setText(self.tr("Starting the camera and loading the model…"))

    # ----- the camera -----
    def start(self) -> None:
        """Turn the camera on (only when there is a model to show it to)."""
        if self.source is not None and self.predictor is not None:
            self.source.start()

    def stop(self) -> None:
        """Turn the camera off and send no more frames."""
        if self.source is not None:
            self.source.stop()
        if self.predictor is not None:
            self.predictor.stop()

    def _on_source_failed(self, sentence: str) -> None:
        self.status.setText(sentence)
        self._update_buttons()

    def _on_frame(self, frame: QImage) -> None:
        if frame.isNull():
            return
        self.frame = frame
        if self.frozen:
            return
        self._show_picture(frame)
        if self.predictor is not None:
            self.predictor.offer(frame)
        self._update_buttons()

    def _show_picture(self, frame: QImage) -> None:
        square = centre_square_image(frame)
        side = max(1, min(self.picture.width(), self.picture.height()) - 8)
        self.picture.setPixmap(QPixmap.fromImage(square).scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio,
                                                                Qt.TransformationMode.SmoothTransformation))

    # ----- answers -----
    def _on_predicted(self, prediction: LivePrediction, frame: QImage, latency: float) -> None:
        now = time.perf_counter()
        self.answer_times.append(now)
        if self.frozen:
            return
        self.shown = (prediction, frame)
        self.bars.show_prediction(prediction)
        self.latencies.append(time.perf_counter() - now + latency)
        if len(self.answer_times) >= 2:
            rate = (len(self.answer_times) - 1) / max(1e-6, self.answer_times[-1] - self.answer_times[0])
            self.speed.setText(self.tr("{rate} answers a second, {ms} ms from camera to bars").format(
                rate=format(rate, ".1f"), ms=round(1000 * float(np.median(self.latencies)))))
        if self.status.text() == self.tr("Starting the camera and loading the model…"):
            self.status.setText(self.tr("Hold something in front of the camera: the bars show what the model "
                                        "thinks it is."))
        self.predictionShown.emit(prediction)

    # ----- freeze and add -----
    def set_frozen(self, on: bool) -> None:
        """Hold the picture whose answer the bars show (or go live again)."""
        self.frozen = on
        self.freeze_button.blockSignals(True)
        self.freeze_button.setChecked(on)
        self.freeze_button.blockSignals(False)
        self.freeze_button.setText(self.tr("Go live again") if on else self.tr("Freeze"))
        if on and self.shown is not None:
            self._show_picture(self.shown[1])
        elif not on and self.frame is not None:
            self._show_picture(self.frame)

    def current_frame(self) -> QImage | None:
        """The frame "Add this frame" saves: the frozen one, else the newest."""
        if self.frozen and self.shown is not None:
            return self.shown[1]
        return self.frame

    def add_frame(self) -> Path | None:
        frame, name = self.current_frame(), self.class_choice.currentText()
        folder = self.class_folder(name) if self.class_folder is not None and name else None
        if frame is None or folder is None:
            self.status.setText(self.no_folder_text or self.tr("There is no picture to add yet."))
            return None
        try:
            path = save_frame(folder, frame_pixels(frame))
        except OSError as e:
            self.status.setText(self.tr("Could not save the picture in {folder} ({why}).").format(
                folder=folder, why=e.strerror or e))
            return None
        self.status.setText(self.tr("Added the picture to {name} ({file}); the next training learns from it.").format(
            name=name, file=path.name))
        self.frameAdded.emit(path)
        return path

    def _name_add_button(self, name: str) -> None:
        self.add_button.setText(self.tr("Add this frame to {name}").format(name=name) if name
                                else self.tr("Add this frame to the class"))

    def _update_buttons(self) -> None:
        ready = self.predictor is not None and self.frame is not None
        self.freeze_button.setEnabled(ready)
        self.add_button.setEnabled(ready and self.class_folder is not None)
        self.class_choice.setEnabled(self.class_folder is not None and bool(self.classes))
        if self.class_folder is None and self.no_folder_text:
            self.add_button.setToolTip(self.no_folder_text)


class LiveDialog(QDialog):
    """The live view in a window of its own; full-screen in presentation mode. Closing it turns
    the camera off."""

    def __init__(self, view: LiveView, title: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("liveDialog")
        self.setWindowTitle(title)
        self.view = view
        self.close_button = named(QPushButton(self.tr("Close")), "liveCloseButton", self.tr("Close live prediction"),
                                  self.tr("Close this view; the camera turns off."))
        self.close_button.clicked.connect(self.close)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(view, 1)
        layout.addLayout(row)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    def open_live(self) -> None:
        if presentation_scale() > 1:
            self.showFullScreen()
        else:
            self.resize(960, 600)
            self.show()
        self.view.start()

    def closeEvent(self, event) -> None:
        self.view.stop()
        super().closeEvent(event)

    def done(self, result: int) -> None:  # Escape, too
        self.view.stop()
        super().done(result)


def camera_source(parent: QObject | None = None) -> FrameSource | None:
    """The webcam (None where QtMultimedia cannot be loaded at all: the view says so)."""
    try:
        from desktop_app.ui.widgets.camera_source import CameraSource
    except ImportError:
        return None
    return CameraSource(parent)


def live_dialog_for_run(run: Path | None, class_renames: dict, index, source: FrameSource | None, engine=None,
                        parent: QWidget | None = None) -> LiveDialog:
    """The live view of ``run`` in its dialog: its classes (renamed ones by their new name), and
    "Add this frame" saving into ``index``'s class folders when the run is of that dataset."""
    folder = RunFolder(run) if run is not None else None
    has_model = folder is not None and folder.has_model()
    classes = [class_renames.get(c, c) for c in folder.read_labels()] if has_model else []
    size = live_input_size(run) if has_model else 0
    info = folder.info() if folder is not None else None
    if index is None:
        where, why = None, QCoreApplication.translate("LiveView", "Open the dataset on the Data page first to add "
                                                                  "pictures to its classes.")
    elif info is not None and of_another_dataset(info, index):
        where, why = None, QCoreApplication.translate("LiveView", "This run learned from another dataset than the one "
                                                                  "on the Data page, so its pictures cannot be added "
                                                                  "there.")
    else:
        def where(name: str) -> Path:
            return photo_folder(index.root, name)
        why = ""
    view = LiveView(source, run, classes, size, has_model, where, why, engine)
    title = QCoreApplication.translate("LiveView", "Live prediction: {run}").format(
        run=info.name if info is not None else "")
    dialog = LiveDialog(view, title, parent)
    if source is not None:
        source.setParent(dialog)  # it goes (and the camera with it) when the dialog closes
    return dialog
