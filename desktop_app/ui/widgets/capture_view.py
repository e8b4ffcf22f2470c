"""Take photos for a class with the camera (or any ``FrameSource``): the live picture, a
camera chooser, a mirror for the view, "Hold to record" (about 5 photos a second), one
photo at a time with an optional 3-2-1 countdown, and a "camera on" light.

The camera runs only while this view is on screen. Photos are the frame as the camera
saw it (never mirrored), cut to the same centre square live prediction uses
(``core.data.frames``), and each one is announced with ``photoSaved`` so the Data page
shows it at once.
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QObject, QRectF, QRunnable, QSignalBlocker, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget,
)

from desktop_app.core.data.frames import save_frame
from desktop_app.ui.widgets.frame_sources import FrameSource, frame_pixels
from desktop_app.ui.widgets.step_page import named, set_role, styled_label

PHOTOS_PER_SECOND = 5
MAX_SAVING = 3  # photos waiting for the disk at most
COUNTDOWN_FROM = 3
# The camera light: grey when off, red while the camera runs (readable in light and dark themes).
STYLE = """
QPushButton#cameraOnIndicator { background: #868e96; color: white; border: none; border-radius: 4px;
                                padding: 4px 10px; }
QPushButton#cameraOnIndicator[on="true"] { background: #c92a2a; font-weight: 600; }
"""


def webcam() -> FrameSource:
    """The computer's camera; imported only when a view first needs it (QtMultimedia is big)."""
    from desktop_app.ui.widgets.camera_source import CameraSource

    return CameraSource()


class FrameView(QWidget):
    """The newest frame, fitted to the widget, optionally mirrored; the centre square that
    becomes a photo (and that the model sees) stays bright, the rest is dimmed."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.frame: QImage | None = None
        self.mirrored = False
        self.overlay = ""  # big text over the picture: the countdown
        self.placeholder = ""
        self.setMinimumSize(200, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def show_frame(self, frame: QImage | None) -> None:
        self.frame = frame
        self.update()

    def set_mirrored(self, on: bool) -> None:
        self.mirrored = on
        self.update()

    def set_overlay(self, text: str) -> None:
        self.overlay = text
        self.update()

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#1e1f22"))
        if self.frame is None or self.frame.isNull():
            painter.setPen(QColor("#c8cacd"))
            painter.drawText(self.rect().adjusted(12, 12, -12, -12), Qt.AlignmentFlag.AlignCenter
                             | Qt.TextFlag.TextWordWrap, self.placeholder)
            return
        size = self.frame.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        target = QRectF((self.width() - size.width()) / 2, (self.height() - size.height()) / 2,
                        size.width(), size.height())
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.save()
        if self.mirrored:  # flip the painter, not the frame: no copy 30 times a second
            painter.translate(self.width(), 0)
            painter.scale(-1, 1)
        painter.drawImage(target, self.frame)  # centred, so mirrored it lands on the same rectangle
        painter.restore()
        side = min(target.width(), target.height())  # the centre square is the same mirrored or not
        square = QRectF(target.center().x() - side / 2, target.center().y() - side / 2, side, side)
        shade = QColor(0, 0, 0, 110)
        painter.fillRect(QRectF(target.left(), target.top(), square.left() - target.left(), target.height()), shade)
        painter.fillRect(QRectF(square.right(), target.top(), target.right() - square.right(), target.height()), shade)
        painter.fillRect(QRectF(square.left(), target.top(), side, square.top() - target.top()), shade)
        painter.fillRect(QRectF(square.left(), square.bottom(), side, target.bottom() - square.bottom()), shade)
        painter.setPen(QPen(QColor(255, 255, 255, 200), 2, Qt.PenStyle.DashLine))
        painter.drawRect(square)
        if self.overlay:
            font = QFont(self.font())
            font.setPixelSize(max(24, int(side * 0.45)))
            font.setBold(True)
            painter.setFont(font)
            painter.setPen(QColor(255, 255, 255, 230))
            painter.drawText(square, Qt.AlignmentFlag.AlignCenter, self.overlay)


class _SaveSignals(QObject):
    done = Signal(object, object, object)  # path (None if it failed), folder, why it failed


class _SaveJob(QRunnable):
    def __init__(self, folder: Path, frame: QImage, signals: _SaveSignals):
        super().__init__()
        self.folder, self.frame, self.signals = folder, frame, signals

    def run(self) -> None:
        try:
            path = save_frame(self.folder, frame_pixels(self.frame))
        except OSError as e:  # disk full, folder gone, no permission
            self.signals.done.emit(None, self.folder, e.strerror or str(e))
        else:
            self.signals.done.emit(path, self.folder, None)


class CaptureView(QWidget):
    """Photos into one class folder (``set_target``) from ``source`` (None: the webcam, made
    the first time the view is shown)."""

    photoSaved = Signal(Path)

    def __init__(self, source: FrameSource | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self._source: FrameSource | None = None
        self.folder: Path | None = None
        self.class_name = ""
        self.frame: QImage | None = None
        self._frame_number = 0  # counts frames, so one frame is never saved twice
        self._saved_number = -1
        self.saved_count = 0  # photos saved into _counted_folder
        self._counted_folder: Path | None = None
        self._why_not = ""
        self._countdown_left = 0
        self.record_timer = QTimer(self, interval=round(1000 / PHOTOS_PER_SECOND))
        self.record_timer.timeout.connect(self._save_newest)
        self.countdown_timer = QTimer(self, interval=1000)
        self.countdown_timer.timeout.connect(self._count_down)
        self.saver = QThreadPool(self)
        self.saver.setMaxThreadCount(1)  # one at a time: photos land in the order they were taken
        self._saving = 0
        self._saved = _SaveSignals(self)
        self._saved.done.connect(self._photo_done)
        self._build()
        if source is not None:
            self.set_source(source)
        self._update_controls()

    # ------------------------------------------------------------------ building

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        # The light is also the switch: one control, so it can never say "on" beside an "on" button.
        self.camera_light = QPushButton()
        named(self.camera_light, "cameraOnIndicator", self.tr("Camera on or off"),
              self.tr("Red while the camera runs; click to turn it off or on. It runs only while this view is "
                      "open."))
        self.camera_light.setStyleSheet(STYLE)
        self.chooser = QComboBox()
        named(self.chooser, "cameraChooser", self.tr("Camera"), self.tr("Which camera to use."))
        self.chooser.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.chooser.setMinimumContentsLength(6)
        self.mirror_box = QCheckBox(self.tr("Mirror"), checked=True)
        named(self.mirror_box, "mirrorCheck", self.tr("Mirror the view"),
              self.tr("Show the picture like a mirror, which makes it easier to hold things in place. "
                      "Saved photos are never mirrored."))
        top.addWidget(self.camera_light)
        top.addWidget(self.chooser, 1)
        top.addWidget(self.mirror_box)
        layout.addLayout(top)

        self.view = FrameView()
        self.view.setObjectName("cameraView")
        self.view.setAccessibleName(self.tr("Camera picture"))
        self.view.setToolTip(self.tr("The bright square in the middle is what each photo keeps."))
        layout.addWidget(self.view, 1)

        buttons = QHBoxLayout()
        self.record_button = QPushButton(self.tr("● Hold to record"))
        self.record_button.setAutoRepeat(False)
        named(self.record_button, "holdToRecordButton", self.tr("Hold to record"),
              self.tr("Keep this button pressed (mouse or space bar): about {rate} photos a second go into "
                      "the class.").format(rate=PHOTOS_PER_SECOND))
        self.shot_button = QPushButton(self.tr("Take a photo"))
        named(self.shot_button, "takePhotoButton", self.tr("Take a photo"),
              self.tr("Save one photo of what the camera sees now into the class."))
        self.countdown_box = QCheckBox(self.tr("3-2-1"))
        named(self.countdown_box, "countdownCheck", self.tr("Count down before a photo"),
              self.tr("Take a photo counts 3, 2, 1 first, so you have time to hold the object up."))
        buttons.addWidget(self.record_button, 1)
        buttons.addWidget(self.shot_button)
        buttons.addWidget(self.countdown_box)
        layout.addLayout(buttons)
        self.target_label = QLabel(objectName="captureTarget")
        self.target_label.setWordWrap(True)
        layout.addWidget(self.target_label)
        self.status = styled_label("", "explain", "captureStatus")  # what went wrong, when something did
        self.status.hide()
        layout.addWidget(self.status)

        self.mirror_box.toggled.connect(self.view.set_mirrored)
        self.view.set_mirrored(self.mirror_box.isChecked())
        self.chooser.activated.connect(self._chosen)
        self.camera_light.clicked.connect(lambda: self.stop_camera() if self.camera_on() else self.start_camera())
        self.record_button.pressed.connect(self.start_recording)
        self.record_button.released.connect(self.stop_recording)
        self.shot_button.clicked.connect(self.take_photo)

    # ------------------------------------------------------------------ source and target

    @property
    def source(self) -> FrameSource | None:
        return self._source

    def set_source(self, source: FrameSource) -> None:
        """Take frames from ``source`` from now on (the previous one is stopped)."""
        if self._source is not None:
            self.stop_camera()
            for signal, slot in self._source_connections():
                signal.disconnect(slot)
        self._source = source
        if source.parent() is None:
            source.setParent(self)  # goes with the view
        for signal, slot in self._source_connections():
            signal.connect(slot)
        self._fill_chooser()
        self._update_controls()

    def _source_connections(self):
        s = self._source
        return [(s.frameReady, self._frame_arrived), (s.failed, self._source_failed),
                (s.activeChanged, self._active_changed), (s.choicesChanged, self._choices_changed)]

    def set_target(self, folder: Path | None, class_name: str = "", why_not: str = "") -> None:
        """Save into ``folder`` (a class folder); None: nothing can be saved (``why_not`` says why,
        if not for want of a class)."""
        folder = Path(folder) if folder is not None else None
        if folder != self.folder:
            self.stop_recording()
        if folder is not None and folder != self._counted_folder:  # a rescan passes through None: keep counting
            self.saved_count, self._counted_folder = 0, folder
        self.folder = folder
        self.class_name = class_name or (self.folder.name if self.folder else "")
        self._why_not = why_not
        self._update_controls()

    def camera_on(self) -> bool:
        return self._source is not None and self._source.active

    def start_camera(self) -> None:
        if self._source is None:
            self.set_source(webcam())
        self._show_status("", "explain")
        self.view.placeholder = self.tr("Starting the camera…")
        self.view.update()
        self._source.start()

    def stop_camera(self) -> None:
        self.stop_recording()
        self._cancel_countdown()
        if self._source is not None:
            self._source.stop()

    def _fill_chooser(self) -> None:
        with QSignalBlocker(self.chooser):
            self.chooser.clear()
            if self._source is None:
                return
            for key, name in self._source.choices():
                self.chooser.addItem(name, key)
            current = self.chooser.findData(self._source.current_choice())
            self.chooser.setCurrentIndex(max(current, 0))
        self.chooser.setEnabled(self.chooser.count() > 1)

    def _choices_changed(self) -> None:
        self._fill_chooser()
        failed = self.status.property("role") == "error" and self.frame is None
        if failed and self.isVisible() and not self.camera_on():  # a camera plugged (back) in: try it
            self.start_camera()

    def _chosen(self, row: int) -> None:
        if self._source is not None and row >= 0:
            self._source.choose(self.chooser.itemData(row))

    # ------------------------------------------------------------------ frames and failures

    def _frame_arrived(self, frame: QImage) -> None:
        self.frame = frame
        self._frame_number += 1
        self.view.show_frame(frame)

    def _active_changed(self, _on: bool) -> None:
        if not self.camera_on():  # nothing the camera saw stays on screen once it is off
            self.stop_recording()
            self._cancel_countdown()
            self.frame = None
            self.view.placeholder = self.tr("The camera is off.")
            self.view.show_frame(None)
        self._update_controls()

    def _source_failed(self, sentence: str) -> None:
        self.stop_camera()
        self.frame = None
        self.view.show_frame(None)
        self.view.placeholder = sentence
        self._show_status(sentence, "error")
        self.view.update()

    def _show_status(self, text: str, role: str) -> None:
        set_role(self.status, role)
        self.status.setText(text)
        self.status.setVisible(bool(text))

    def _update_controls(self) -> None:
        on = self.camera_on()
        self.camera_light.setText(self.tr("● Camera on") if on else self.tr("Camera off"))
        if self.camera_light.property("on") != on:
            self.camera_light.setProperty("on", on)
            self.camera_light.style().unpolish(self.camera_light)
            self.camera_light.style().polish(self.camera_light)
        if not self.view.placeholder:
            self.view.placeholder = self.tr("The camera is off.")
        can_save = on and self.folder is not None
        for button in (self.record_button, self.shot_button):
            button.setEnabled(can_save)
        if self.folder is None:
            self.target_label.setText(self._why_not or self.tr("Choose or make a class first: photos go into "
                                                               "the chosen class."))
        elif self.saved_count:
            self.target_label.setText(self.tr("Photos go into <b>{name}</b>: {count} taken so far.").format(
                name=html.escape(self.class_name), count=self.saved_count))
        else:
            self.target_label.setText(self.tr("Photos go into <b>{name}</b>.").format(
                name=html.escape(self.class_name)))

    # ------------------------------------------------------------------ saving

    def start_recording(self) -> None:
        if not self.record_button.isEnabled() or self.record_timer.isActive():
            return
        self._cancel_countdown()
        self._show_status("", "explain")  # an earlier problem is old news
        self.record_button.setText(self.tr("● Recording… (let go to stop)"))
        self._save_newest()
        self.record_timer.start()

    def stop_recording(self) -> None:
        if self.record_timer.isActive():
            self.record_timer.stop()
            self.record_button.setText(self.tr("● Hold to record"))

    def take_photo(self) -> None:
        """One photo now, or after 3-2-1 when the countdown is on."""
        if not self.shot_button.isEnabled() or self.countdown_timer.isActive():
            return
        self._show_status("", "explain")
        if not self.countdown_box.isChecked():
            self._save_newest()
            return
        self._countdown_left = COUNTDOWN_FROM
        self.view.set_overlay(str(self._countdown_left))
        self.countdown_timer.start()

    def _count_down(self) -> None:
        self._countdown_left -= 1
        if self._countdown_left > 0:
            self.view.set_overlay(str(self._countdown_left))
            return
        self._cancel_countdown()
        self._save_newest()

    def _cancel_countdown(self) -> None:
        self.countdown_timer.stop()
        self.view.set_overlay("")

    def _save_newest(self) -> None:
        """Save the newest frame (if it is new) into the class folder, on the saver's thread (a
        slow disk's sync never stalls the picture): the unmirrored frame's centre square."""
        if self.frame is None or self.folder is None or self._frame_number == self._saved_number:
            return
        if self._saving >= MAX_SAVING:  # the disk is behind: skip this one rather than queue frames
            return
        self._saved_number = self._frame_number
        self._saving += 1
        self.saver.start(_SaveJob(self.folder, self.frame, self._saved))

    def _photo_done(self, path: object, folder: object, reason: object) -> None:
        self._saving -= 1
        if path is None:
            self.stop_recording()
            self._show_status(self.tr("The photo could not be saved in {folder}: {reason}").format(
                folder=folder, reason=reason), "error")
            return
        if Path(folder) == self._counted_folder:
            self.saved_count += 1
        self._update_controls()
        self.photoSaved.emit(path)

    def wait_for_saving(self, msecs: int = 5000) -> bool:
        """Wait until every photo asked for is on disk (tests, closing)."""
        return self.saver.waitForDone(msecs)

    # ------------------------------------------------------------------ the camera runs only while shown

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self.camera_on():
            self.start_camera()

    def hideEvent(self, event) -> None:
        self.stop_camera()
        super().hideEvent(event)

    def closeEvent(self, event) -> None:
        self.stop_camera()
        super().closeEvent(event)
