"""The webcam as a ``FrameSource``: QtMultimedia's QCamera into a QVideoSink, one QImage per
frame. Everything here is asynchronous (the camera starts, fails and stops in its own time),
so the window never waits for it; every way it can go wrong ends in ``failed`` with one
sentence for the user, and the camera off.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QLoggingCategory, QObject, Qt, QTimer

from desktop_app.core.system_packages import debian_package
from desktop_app.ui.widgets.frame_sources import FrameSource

# Qt's FFmpeg back end lists every optional library it could not find (PipeWire, VA-API):
# noise for a user, who needs none of them for a webcam.
QLoggingCategory.setFilterRules("qt.multimedia.symbolsresolver=false\nqt.multimedia.ffmpeg.info=false")

try:
    from PySide6.QtMultimedia import QCamera, QCameraDevice, QMediaCaptureSession, QMediaDevices, QVideoSink
except ImportError as error:  # the wheel is there, a system library it links to is not
    MULTIMEDIA_ERROR: ImportError | None = error
else:
    MULTIMEDIA_ERROR = None

try:
    from PySide6.QtCore import QCameraPermission
except ImportError:  # Qt before 6.5: the system asks by itself
    QCameraPermission = None

NO_CAMERA = QT_TRANSLATE_NOOP("CameraSource", "No camera was found. Plug in a webcam (or switch on the built-in one), "
                                              "then turn the camera on again.")
PERMISSION_DENIED = QT_TRANSLATE_NOOP("CameraSource", "This computer does not let Transfer Studio use the camera. "
                                                      "Allow it in the system's privacy settings (Camera), then turn "
                                                      "the camera on again.")
CAMERA_BUSY = QT_TRANSLATE_NOOP("CameraSource", "Another program (a video call, perhaps) is using the camera. Close "
                                                "that program, then turn the camera on again.")
UNPLUGGED = QT_TRANSLATE_NOOP("CameraSource", "The camera was unplugged or switched off. Plug it in again, then turn "
                                              "the camera on again.")
NO_PICTURES = QT_TRANSLATE_NOOP("CameraSource", "The camera sends no pictures: another program may be using it. Close "
                                                "that program, then turn the camera on again.")
CAMERA_FAILED = QT_TRANSLATE_NOOP("CameraSource", "The camera stopped working ({detail}). Check that it is plugged "
                                                  "in, then turn the camera on again.")
MULTIMEDIA_MISSING = QT_TRANSLATE_NOOP("CameraSource", "The camera cannot be used because this computer lacks the "
                                                       "system package {package} (on Ubuntu or Debian: sudo apt "
                                                       "install {package}).")

FIRST_FRAME_WAIT_MS = 10_000  # a camera another program holds often "starts" and sends nothing
PREFERRED_HEIGHT = 720  # big enough for a 640 px photo, small enough to convert 30 times a second


def _text(sentence: str) -> str:
    return QCoreApplication.translate("CameraSource", sentence)


def missing_library_sentence(error: BaseException) -> str:
    """What to install when QtMultimedia cannot load, from the loader's message."""
    found = re.search(r"(lib[\w.+-]+\.so[\w.]*)", str(error))
    library = found.group(1) if found else "libpulse.so.0"  # the one most often missing on Linux
    return _text(MULTIMEDIA_MISSING).format(package=debian_package(library))


def camera_error_sentence(detail: str, unplugged: bool = False) -> str:
    """The sentence for a camera error: Qt gives one code for all and a system text, so the text decides."""
    text = detail.lower()
    if unplugged:
        return _text(UNPLUGGED)
    if any(word in text for word in ("permission", "denied", "not authorized", "not permitted")):
        return _text(PERMISSION_DENIED)
    if any(word in text for word in ("busy", "in use", "being used", "locked")):
        return _text(CAMERA_BUSY)
    if any(word in text for word in ("no camera", "not detected", "no such device", "not found")):
        return _text(NO_CAMERA)
    return _text(CAMERA_FAILED).format(detail=detail.strip().rstrip(".") or "?")


def video_inputs() -> list:
    """The cameras on this computer now (empty without QtMultimedia)."""
    return list(QMediaDevices.videoInputs()) if MULTIMEDIA_ERROR is None else []


def camera_permission() -> Qt.PermissionStatus:
    """Whether the system lets this app use a camera (Granted where the system never asks)."""
    app = QCoreApplication.instance()
    if QCameraPermission is None or app is None:
        return Qt.PermissionStatus.Granted
    return app.checkPermission(QCameraPermission())


def ask_camera_permission(context: QObject, answered) -> None:
    """Let the system ask the user (macOS); ``answered(granted)`` comes later, on the GUI thread."""
    QCoreApplication.instance().requestPermission(
        QCameraPermission(), context, lambda permission: answered(permission.status() == Qt.PermissionStatus.Granted))


def device_key(device) -> str:
    return bytes(device.id()).decode("utf-8", "backslashreplace")


def preferred_format(device):
    """The camera's mode nearest 720 lines at 15 frames a second or more (None: the camera's own choice)."""
    formats = [f for f in device.videoFormats() if f.maxFrameRate() >= 15]
    if not formats:
        return None
    return min(formats, key=lambda f: (abs(f.resolution().height() - PREFERRED_HEIGHT),
                                       f.resolution().width() * f.resolution().height(), -f.maxFrameRate()))


class CameraSource(FrameSource):
    """A webcam. ``choose(key)`` picks one of ``choices()``; without a choice, the system's default."""

    name = "camera"

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._chosen = ""
        self._camera = self._session = self._sink = None
        self._device_key = ""
        self._last_stamp = None
        self._asking = False  # waiting for the user's answer to the system's permission question
        self._first_frame = QTimer(self, singleShot=True, interval=FIRST_FRAME_WAIT_MS)
        self._first_frame.timeout.connect(lambda: self._fail(_text(NO_PICTURES)))
        if MULTIMEDIA_ERROR is None:
            self._devices = QMediaDevices(self)
            self._devices.videoInputsChanged.connect(self._inputs_changed)

    # ------------------------------------------------------------------ choosing

    def choices(self) -> list[tuple[str, str]]:
        return [(device_key(d), d.description()) for d in video_inputs()]

    def current_choice(self) -> str:
        keys = [key for key, _name in self.choices()]
        if self._chosen in keys:
            return self._chosen
        default = QMediaDevices.defaultVideoInput() if MULTIMEDIA_ERROR is None else None
        if default is not None and not default.isNull() and device_key(default) in keys:
            return device_key(default)
        return keys[0] if keys else ""

    def choose(self, key: str) -> None:
        if key == self._chosen:
            return
        self._chosen = key
        if self.active:
            self.stop()
            self.start()

    # ------------------------------------------------------------------ running

    def start(self) -> None:
        if self.active or self._asking:
            return
        if MULTIMEDIA_ERROR is not None:
            self.failed.emit(missing_library_sentence(MULTIMEDIA_ERROR))
            return
        if not video_inputs():
            self.failed.emit(_text(NO_CAMERA))
            return
        status = camera_permission()
        if status == Qt.PermissionStatus.Denied:
            self.failed.emit(_text(PERMISSION_DENIED))
            return
        if status == Qt.PermissionStatus.Undetermined:  # macOS asks the user; the answer comes later
            self._asking = True
            ask_camera_permission(self, self._permission_answered)
            return
        self._open()

    def _permission_answered(self, granted: bool) -> None:
        self._asking = False
        if granted:
            self._open()
        else:
            self.failed.emit(_text(PERMISSION_DENIED))

    def _open(self) -> None:
        key = self.current_choice()
        device = next((d for d in video_inputs() if device_key(d) == key), None)
        if device is None:
            self.failed.emit(_text(NO_CAMERA))
            return
        self._device_key, self._last_stamp = key, None
        self._camera = QCamera(device, self)
        if self._camera.error() != QCamera.Error.NoError:  # some back ends refuse at once, without a signal
            self._fail(camera_error_sentence(self._camera.errorString()))
            return
        mode = preferred_format(device)
        if mode is not None:
            self._camera.setCameraFormat(mode)
        self._sink = QVideoSink(self)
        self._session = QMediaCaptureSession(self)
        self._session.setCamera(self._camera)
        self._session.setVideoSink(self._sink)
        self._sink.videoFrameChanged.connect(self._frame_arrived)
        self._camera.errorOccurred.connect(self._camera_error)
        self._set_active(True)  # the indicator goes on as soon as the camera is asked for
        self._first_frame.start()
        self._camera.start()  # returns at once; frames or an error follow

    def stop(self) -> None:
        self._first_frame.stop()
        if self._camera is not None:
            if self._sink is not None:
                self._sink.videoFrameChanged.disconnect(self._frame_arrived)
                self._camera.errorOccurred.disconnect(self._camera_error)
            self._camera.stop()
            for part in (self._session, self._sink, self._camera):
                if part is not None:
                    part.deleteLater()
            self._camera = self._session = self._sink = None
        self._set_active(False)

    def _frame_arrived(self, _frame) -> None:
        if self._sink is None:
            return
        frame = self._sink.videoFrame()  # the newest: frames queued behind a busy window are skipped
        stamp = frame.startTime()
        if not frame.isValid() or (stamp >= 0 and stamp == self._last_stamp):
            return
        self._last_stamp = stamp
        image = frame.toImage()
        if image.isNull():
            return
        self._first_frame.stop()
        self.frameReady.emit(image)

    def _camera_error(self, _error, detail: str) -> None:
        gone = self._device_key not in [key for key, _name in self.choices()]
        self._fail(camera_error_sentence(detail, unplugged=gone))

    def _inputs_changed(self) -> None:
        self.choicesChanged.emit()
        if self.active and self._device_key not in [key for key, _name in self.choices()]:
            self._fail(_text(UNPLUGGED))

    def _fail(self, sentence: str) -> None:
        self.stop()
        self.failed.emit(sentence)
