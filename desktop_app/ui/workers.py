"""Run core work in a QThread and hand its progress and result back as queued signals.

Widgets are only touched in slots connected to these signals, which Qt runs on the GUI
thread because the worker object lives in another thread.
"""

from __future__ import annotations

import atexit
import logging
import os
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QDeadlineTimer, QObject, Qt, QThread, Signal, Slot

from desktop_app.core.errors import UserError

log = logging.getLogger(__name__)


class TaskWorker(QObject):
    """Calls ``fn(*args, report=..., should_stop=...)`` on its own thread."""

    progress = Signal(object)
    succeeded = Signal(object)
    failed = Signal(str)
    done = Signal()

    def __init__(self, fn: Callable[..., Any], *args: Any):
        super().__init__()
        self._fn, self._args = fn, args
        self._stop_requested = False

    def request_stop(self) -> None:
        self._stop_requested = True

    def should_stop(self) -> bool:
        return self._stop_requested

    @Slot()
    def run(self) -> None:
        try:
            result = self._fn(*self._args, report=self.progress.emit, should_stop=self.should_stop)
        except UserError as e:
            self.failed.emit(str(e))
        except Exception as e:  # a bug, not the user's fault: log it, keep the app alive
            log.error("Background task failed:\n%s", traceback.format_exc())
            self.failed.emit(self.tr("Something went wrong: {error}").format(error=e))
        else:
            self.succeeded.emit(result)
        finally:
            self.done.emit()


class Task(QObject):
    """A worker plus the thread it runs on; keep a reference until ``finished``.

    Its signals re-emit the worker's on the thread that created the Task (the GUI
    thread), so any callable connected to them, lambdas included, may touch widgets.
    """

    progress = Signal(object)
    succeeded = Signal(object)
    failed = Signal(str)
    finished = Signal()

    # Running tasks keep themselves alive: a QThread destroyed while it runs aborts the app.
    _running: set[Task] = set()

    def __init__(self, fn: Callable[..., Any], *args: Any, parent: QObject | None = None):
        super().__init__(parent)
        self.worker = TaskWorker(fn, *args)
        self.thread = QThread()
        self.thread.setObjectName(getattr(fn, "__name__", "task"))
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.run)
        # Signal-to-signal connections to an object of this thread are queued.
        self.worker.progress.connect(self.progress)
        self.worker.succeeded.connect(self.succeeded)
        self.worker.failed.connect(self.failed)
        # Direct: quit() is thread-safe, and a queued call would never run while the GUI
        # thread blocks in stop_and_wait().
        self.worker.done.connect(self.thread.quit, Qt.ConnectionType.DirectConnection)
        self.thread.finished.connect(lambda: Task._running.discard(self), Qt.ConnectionType.DirectConnection)
        self.thread.finished.connect(self.finished)
        # The finished QThread is deleted (on this, the GUI thread); the Task stays with its
        # owner, which may still ask is_running(). The worker is NOT deleteLater'd: that
        # would destroy it on its own thread, where PySide needs the GIL while Qt holds a
        # signal lock, and can deadlock against the GUI thread.
        self.thread.finished.connect(self.thread.deleteLater)

    def start(self) -> Task:
        Task._running.add(self)
        self.thread.start()
        return self

    def is_running(self) -> bool:
        return self in Task._running

    def request_stop(self) -> None:
        if self.is_running():
            self.worker.request_stop()

    def stop_and_wait(self, msecs: int) -> bool:
        """Ask the work to stop; True when the thread ended within ``msecs``."""
        if not self.is_running():
            return True
        self.worker.request_stop()
        return self.thread.wait(msecs)

    @classmethod
    def stop_all(cls, msecs: int) -> bool:
        """Ask every running task to stop; wait up to ``msecs`` in all. True when all ended."""
        tasks = list(cls._running)
        for task in tasks:
            task.request_stop()
        deadline = QDeadlineTimer(msecs)
        return all(task.thread.wait(deadline) for task in tasks if task.is_running())


def _wind_down_at_exit() -> None:
    """A QThread destroyed while it runs aborts the process, which looks like a crash:
    give running work time to stop, and leave quietly if it will not (checkpoints are
    written atomically, so nothing on disk is half-done)."""
    if not Task.stop_all(10_000):
        logging.shutdown()
        os._exit(0)


atexit.register(_wind_down_at_exit)
