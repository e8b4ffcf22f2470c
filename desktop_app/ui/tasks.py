"""The window's side of the engine: run a request there, the newest one wins, cancel.

``Engine`` owns one engine process (``core.engine.EngineProcess``) and hands its
messages to the GUI thread; if the process dies it says so in a sentence, fails what
was pending and starts a new one. ``LatestRequest`` is the one helper every page uses
for one kind of work: ``submit()`` supersedes the request before it (cancelled in the
engine, its late messages dropped), so only the newest one's progress and outcome
arrive. It runs local work too (a plain function on a thread), for the Data page.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

from desktop_app.core.engine import (
    Cancelled, Crashed, EngineDied, EngineInfo, EngineProcess, Progressed, Refused, Request, Succeeded, WarmUp,
)
from desktop_app.ui.workers import Task

log = logging.getLogger(__name__)

# Sentences are marked here and translated where they are shown, with ``engine_text``.
ENGINE_DIED = QT_TRANSLATE_NOOP(
    "Engine", "The part of the app that runs TensorFlow stopped unexpectedly (exit code {code}). It has been "
              "started again and your work is intact; try once more.")
ENGINE_BROKEN = QT_TRANSLATE_NOOP(
    "Engine", "The part of the app that runs TensorFlow cannot start (exit code {code}), so previews, models, "
              "evaluation and export do not work; the log file says why. Your settings and photos are intact.")
QUICK_DEATHS = 2  # dying this many times in a row without answering anything: stop restarting
TRAINING_DIED = QT_TRANSLATE_NOOP(
    "Engine", "Training ended unexpectedly (the training process exited with code {code}); the checkpoints "
              "saved so far are intact.")
BUG = QT_TRANSLATE_NOOP("Engine", "Something went wrong in the engine; the details are in the log file.")


def engine_text(sentence: str) -> str:
    """One of the sentences above in the user's language."""
    return QCoreApplication.translate("Engine", sentence)


class Engine(QObject):
    """An engine process whose messages arrive on the GUI thread."""

    _arrived = Signal(object)  # emitted on the reader thread, delivered queued
    died = Signal(str)  # the sentence to show
    warmChanged = Signal(bool)

    def __init__(self, name: str = "engine", restart: bool = True, died_text: str = ENGINE_DIED,
                 warm_up: bool = True, parent: QObject | None = None):
        super().__init__(parent)
        self.restart = restart
        self.died_text = died_text
        self.info: EngineInfo | None = None  # set once TensorFlow is loaded there
        self._receivers: dict[int, Callable[[object], None]] = {}
        self._closed = False
        self._deaths_without_answer = 0
        self.process = EngineProcess(self._hand_over, name=name, warm_up=False)
        self._warm_up = warm_up
        self._arrived.connect(self._dispatch)

    @property
    def warm(self) -> bool:
        return self.info is not None

    def _hand_over(self, message: object) -> None:
        """On the reader thread: to the GUI thread, unless the window is already gone (exit)."""
        try:
            self._arrived.emit(message)
        except RuntimeError:  # this QObject was deleted: nobody is listening any more
            pass

    def start(self) -> None:
        """Start the process now (in the background: it returns at once)."""
        if self._closed or self.process.is_alive():
            return
        self.process.start()
        if self._warm_up:
            self.submit(WarmUp(), self._warmed)

    def _warmed(self, message: object) -> None:
        if isinstance(message, Succeeded):
            self.info = message.result
            self.warmChanged.emit(True)

    def submit(self, request: Request, receiver: Callable[[object], None]) -> int:
        """Send ``request``; ``receiver(message)`` gets its messages on the GUI thread."""
        self.start()
        ticket = EngineProcess.new_ticket()
        self._receivers[ticket] = receiver
        self.process.submit(request, ticket)
        return ticket

    def cancel(self, ticket: int) -> None:
        self.process.cancel(ticket)

    def forget(self, ticket: int) -> None:
        """Drop whatever still comes for ``ticket``."""
        self._receivers.pop(ticket, None)

    def _dispatch(self, message: object) -> None:
        if isinstance(message, EngineDied):
            self._died(message.exit_code)
            return
        self._deaths_without_answer = 0  # it works: a later death is worth a restart
        ticket = getattr(message, "ticket", None)
        receiver = self._receivers.get(ticket)
        if not isinstance(message, Progressed):
            self._receivers.pop(ticket, None)
        if isinstance(message, Crashed):
            log.error("Engine request failed:\n%s", message.details)
        if receiver is not None:
            receiver(message)

    def _died(self, code: int | None) -> None:
        self._deaths_without_answer += 1
        broken = self.restart and self._deaths_without_answer >= QUICK_DEATHS
        text = engine_text(ENGINE_BROKEN if broken else self.died_text).format(code=code)
        log.error("The %s process died (exit code %s)", self.process.name, code)
        self.info = None
        self.warmChanged.emit(False)
        pending, self._receivers = self._receivers, {}
        for ticket, receiver in pending.items():
            receiver(Refused(ticket, text))
        self.died.emit(text)
        if self.restart and not broken and not self._closed:
            self.start()

    def close(self, timeout: float = 5.0, wait: bool = True) -> None:
        """End the process (the window is closing); ``wait=False`` does not block the window."""
        self._closed = True
        self._receivers.clear()
        self.process.stop(timeout, wait)


def shared_engine() -> Engine:
    """The application's engine, made and started on first use."""
    app = QApplication.instance()
    engine = app.findChild(Engine, "sharedEngine") if app is not None else None
    if engine is None:
        engine = Engine(parent=app)
        engine.setObjectName("sharedEngine")
        if app is not None:
            app.aboutToQuit.connect(engine.close)
    engine.start()
    return engine


class LocalWork:
    """A plain function to run on a thread of the window's process: ``fn(*args, report, should_stop)``."""

    def __init__(self, fn: Callable[..., Any], *args: Any):
        self.fn, self.args = fn, args


class LatestRequest(QObject):
    """One kind of work for one page: each ``submit`` supersedes the one before.

    Only the newest request's messages come out, as ``progress(event)``, then one of
    ``succeeded(result)``, ``failed(sentence)`` or ``cancelled()``, then ``finished()``.
    """

    progress = Signal(object)
    succeeded = Signal(object)
    failed = Signal(str)
    refused = Signal(object)  # the UserError behind ``failed``, when the engine sent one
    cancelled = Signal()
    finished = Signal()

    def __init__(self, engine: Engine | None = None, debounce_ms: int = 0, parent: QObject | None = None):
        super().__init__(parent)
        self._engine = engine
        self._ticket: int | None = None
        self._task: Task | None = None
        self._stopping: set[Task] = set()  # superseded local work that has not ended yet
        self._waiting: Request | LocalWork | None = None
        self._debounce = QTimer(self, singleShot=True, interval=debounce_ms)
        self._debounce.timeout.connect(self._send_waiting)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = shared_engine()
        return self._engine

    def is_running(self) -> bool:
        return self._ticket is not None or self._task is not None or self._debounce.isActive()

    def submit(self, work: Request | LocalWork) -> None:
        """Run ``work`` (after the debounce interval, if any), superseding what runs now."""
        self._waiting = work
        if self._debounce.interval() > 0:
            self._debounce.start()
        else:
            self._send_waiting()

    def _send_waiting(self) -> None:
        work, self._waiting = self._waiting, None
        if work is None:
            return
        self._drop_current()
        if isinstance(work, LocalWork):
            self._start_local(work)
        else:
            holder: list[int] = []
            me = weakref.ref(self)

            def receive(message: object) -> None:
                owner = me()
                if owner is not None and shiboken6.isValid(owner):  # its page may be gone by now
                    owner._on_message(holder[0], message)

            self._ticket = self.engine.submit(work, receive)
            holder.append(self._ticket)

    def _start_local(self, work: LocalWork) -> None:
        task = Task(work.fn, *work.args, parent=self)
        task.progress.connect(lambda event: self._task is task and self.progress.emit(event))
        task.succeeded.connect(lambda result: self._task is task and self._local_done(self.succeeded, result))
        task.failed.connect(lambda text: self._task is task and self._local_done(self.failed, text))
        task.finished.connect(lambda: self._stopping.discard(task))
        task.finished.connect(task.deleteLater)
        self._task = task
        task.start()

    def _local_done(self, signal, value) -> None:
        self._task = None
        signal.emit(value)
        self.finished.emit()

    def _on_message(self, ticket: int, message: object) -> None:
        if ticket != self._ticket:
            return  # superseded
        if isinstance(message, Progressed):
            self.progress.emit(message.event)
            return
        self._ticket = None
        if isinstance(message, Succeeded):
            self.succeeded.emit(message.result)
        elif isinstance(message, Refused):
            self.failed.emit(message.message)
            if message.error is not None:
                self.refused.emit(message.error)
        elif isinstance(message, Crashed):
            self.failed.emit(engine_text(BUG))
        elif isinstance(message, Cancelled):
            self.cancelled.emit()
        self.finished.emit()

    def _drop_current(self) -> None:
        if self._ticket is not None:
            self.engine.cancel(self._ticket)
            self.engine.forget(self._ticket)
            self._ticket = None
        if self._task is not None:
            self._task.request_stop()
            self._stopping.add(self._task)
            self._task = None

    def cancel(self) -> None:
        """Stop the current request; nothing more comes out for it."""
        self._debounce.stop()
        self._waiting = None
        running = self._ticket is not None or self._task is not None
        self._drop_current()
        if running:
            self.cancelled.emit()
            self.finished.emit()

    def request_stop(self) -> None:
        """Ask the current request to stop but still hear its outcome (a Stop button)."""
        if self._ticket is not None:
            self.engine.cancel(self._ticket)
        elif self._task is not None:
            self._task.request_stop()

    def wait(self, msecs: int) -> bool:
        """Local work only: stop it and wait for its threads to end (the window is closing)."""
        tasks = [t for t in (*self._stopping, self._task) if t is not None]
        return all([t.stop_and_wait(msecs) for t in tasks])
