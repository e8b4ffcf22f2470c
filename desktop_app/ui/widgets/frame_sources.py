"""Where camera frames come from: the protocol the capture and live views take, and the
sources that need no camera (generated frames, image files), for tests, benchmarks and
demos. ``camera_source.CameraSource`` is the one backed by QtMultimedia.

A source delivers each new frame as a QImage through ``frameReady``; whoever listens takes
the newest and drops the rest (a slow listener never makes frames queue up). ``failed``
carries one sentence for the user (no camera, permission denied, camera unplugged).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QImage


def frame_pixels(frame: QImage) -> np.ndarray:
    """A frame as an RGB uint8 array (height x width x 3) that owns its memory: what
    ``core.data.frames`` (centre crop, saving) and the model take."""
    rgb = frame.convertToFormat(QImage.Format.Format_RGB888)
    rows = np.frombuffer(rgb.constBits(), np.uint8, rgb.bytesPerLine() * rgb.height())
    return rows.reshape(rgb.height(), rgb.bytesPerLine())[:, : rgb.width() * 3].reshape(
        rgb.height(), rgb.width(), 3).copy()


class FrameSource(QObject):
    """Base of every source: ``start()`` begins delivering frames, ``stop()`` ends it (and turns a
    camera off); ``active`` says whether it runs now, which the "camera on" indicator shows."""

    frameReady = Signal(QImage)
    failed = Signal(str)
    activeChanged = Signal(bool)
    choicesChanged = Signal()  # the cameras on offer changed (one plugged in or out)

    name = "frames"

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._active = False

    @property
    def active(self) -> bool:
        return self._active

    def _set_active(self, on: bool) -> None:
        if on != self._active:
            self._active = on
            self.activeChanged.emit(on)

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    # A chooser (the capture view's camera list) offers these; a source with one choice hides it.
    def choices(self) -> list[tuple[str, str]]:
        """(key, name shown) for each device this source can show."""
        return [("", self.name)]

    def current_choice(self) -> str:
        return ""

    def choose(self, key: str) -> None:
        """Show the device ``key`` from now on (restarting if running)."""


class TimedSource(FrameSource):
    """Frames made by ``make(n)`` (the n-th frame, or None when the sequence ends), ``fps`` a second."""

    def __init__(self, make: Callable[[int], QImage | None], fps: float = 15.0, name: str = "generated frames",
                 parent: QObject | None = None):
        super().__init__(parent)
        self.name = name
        self._make = make
        self._n = 0
        self._timer = QTimer(self, interval=max(1, round(1000 / fps)))
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self._timer.start()
        self._set_active(True)

    def stop(self) -> None:
        self._timer.stop()
        self._set_active(False)

    def _tick(self) -> None:
        frame = self._make(self._n)
        self._n += 1
        if frame is None:
            self.stop()
            return
        self.frameReady.emit(frame)


class FileSource(TimedSource):
    """Plays image files in a loop, like a camera pointed at them."""

    def __init__(self, paths: Sequence[Path], fps: float = 15.0, parent: QObject | None = None):
        images = [QImage(str(p)) for p in paths]
        images = [i for i in images if not i.isNull()]
        super().__init__(lambda n: images[n % len(images)] if images else None, fps, "image files", parent)
