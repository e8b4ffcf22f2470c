"""The engine: TensorFlow work for the window, in a process of its own.

TensorFlow holds Python's GIL for long stretches (importing, tracing, writing files),
and a native crash (a converter abort, running out of memory) ends its process. So the
window's process never imports it: everything TensorFlow does for the window runs in
a long-lived child process, the engine, which keeps TensorFlow imported and recent
models loaded. Training runs in a child process of its own with the same protocol.

Requests are frozen dataclasses; each has a ``lane``: requests of one lane run one
after another, lanes run side by side (a preview never waits for an evaluation). Each
request's ``run(report, should_stop)`` imports what it needs. What comes back is typed:
``Progressed`` (a core event), ``Succeeded`` (the result), ``Refused`` (a UserError's
sentence), ``Crashed`` (a bug's traceback), ``Cancelled``; the parent adds
``EngineDied`` when the process ends under it. No Qt here: ``ui/tasks.py`` wraps it.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import queue
import signal
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from desktop_app.core.augment.spec import AugmentationSpec
from desktop_app.core.errors import UserError
from desktop_app.core.session import ModelSettings, TrainingConfig

log = logging.getLogger(__name__)

# The app's own environment, sent with every request: a long-lived engine then works
# with the caches and weights folder the window uses at the time it asks.
ENV_KEYS = ("TRANSFER_STUDIO_DATA_DIR", "KERAS_HOME", "TRANSFER_STUDIO_WEIGHTS_MIRROR")
Report = Callable[[Any], None]
ShouldStop = Callable[[], bool]


# --------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class Request:
    lane: ClassVar[str] = "default"

    def run(self, report: Report, should_stop: ShouldStop) -> Any:
        raise NotImplementedError


@dataclass(frozen=True)
class EngineInfo:
    pid: int
    tensorflow: str
    keras: str


@dataclass(frozen=True)
class WarmUp(Request):
    """Import TensorFlow and Keras now, so the first real request does not wait for them."""

    lane: ClassVar[str] = "warm-up"

    def run(self, report, should_stop) -> EngineInfo:
        import keras
        import tensorflow as tf

        return EngineInfo(os.getpid(), tf.__version__, keras.__version__)


@dataclass(frozen=True)
class PreviewRequest(Request):
    """Augmented versions of one photo, made by the very block the model trains with."""

    image: Path
    spec: AugmentationSpec
    seed: int = 0
    count: int = 9
    size: int = 224
    lane: ClassVar[str] = "preview"

    def run(self, report, should_stop):
        from desktop_app.core.augment.preview import render_preview

        return render_preview(self.image, self.spec, self.seed, self.count, self.size)


@dataclass(frozen=True)
class SummaryRequest(Request):
    """The classifier as a summary tree (built with random weights: the counts are the same)."""

    model: ModelSettings
    n_classes: int
    augmentation: AugmentationSpec = field(default_factory=AugmentationSpec)
    lane: ClassVar[str] = "model"

    def run(self, report, should_stop):
        from desktop_app.core.model.builder import cached_summary

        return cached_summary(self.model, self.n_classes, self.augmentation)


@dataclass(frozen=True)
class EvaluateRequest(Request):
    run_dir: Path
    data: Path | None = None  # another folder to evaluate on
    relocated: Path | None = None  # where the run's dataset is now, if it moved
    class_map: dict = field(default_factory=dict)  # classes renamed since the run: old -> new
    save: bool = True  # False for a run the app may not write into
    lane: ClassVar[str] = "evaluate"

    def run(self, report, should_stop):
        from desktop_app.core.results.evaluation import evaluate_run

        return evaluate_run(self.run_dir, self.data, report=report, should_stop=should_stop, save=self.save,
                            relocated=self.relocated, class_map=self.class_map)


@dataclass(frozen=True)
class PredictRequest(Request):
    model: Path  # a .keras file or a run folder
    items: tuple[str, ...]  # image files or folders
    lane: ClassVar[str] = "predict"

    def run(self, report, should_stop):
        from desktop_app.core.events import Progress, Step
        from desktop_app.core.results.predict import predict_images

        return predict_images(self.model, list(self.items), should_stop=should_stop,
                              report=lambda done, total: report(Progress(Step.PREDICTING, done, total)))


@dataclass(frozen=True)
class LivePredictRequest(Request):
    """One camera frame (``results.live.model_input``: small uint8) through a run's model, which
    stays loaded between frames; the window keeps at most one of these in flight."""

    model: Path  # a run folder or a .keras file
    frame: Any = field(compare=False)  # np.ndarray (size, size, 3) uint8: arrays do not compare as bools
    frame_id: int = 0
    lane: ClassVar[str] = "live"

    def run(self, report, should_stop):
        from desktop_app.core.results.live import predict_frame

        return predict_frame(self.model, self.frame, self.frame_id)


@dataclass(frozen=True)
class ExportRequest(Request):
    run_dir: Path
    out: Path
    formats: tuple[str, ...]
    replace: bool = False  # the user agreed that what ``out`` holds goes to the trash
    lane: ClassVar[str] = "export"

    def run(self, report, should_stop):
        from desktop_app.core.export.exporter import export_run

        return export_run(self.run_dir, self.out, self.formats, report=report, should_stop=should_stop,
                          replace=self.replace)


@dataclass(frozen=True)
class ReportRequest(Request):
    run_dir: Path
    out: Path | None = None
    photos: bool = False  # example photos in the report (off by default: photos may show people)
    lane: ClassVar[str] = "export"

    def run(self, report, should_stop):
        from desktop_app.core.export.report import write_report

        return write_report(self.run_dir, self.out, report=report, should_stop=should_stop, photos=self.photos)


@dataclass(frozen=True)
class WeightsImportRequest(Request):
    """Find out which base and width a weights file is for, then copy it into Keras' cache;
    the result is its ``WeightsInfo``. A ``backbone`` refuses files for any other."""

    path: Path
    backbone: str | None = None
    alpha: float | None = None
    img_size: int | None = None
    lane: ClassVar[str] = "weights"

    def run(self, report, should_stop):
        from desktop_app.core.model.weights import import_weights

        return import_weights(self.path, self.backbone, self.alpha, self.img_size)


@dataclass(frozen=True)
class WeightsDownloadRequest(Request):
    backbone: str
    alpha: float | None
    img_size: int
    lane: ClassVar[str] = "weights"

    def run(self, report, should_stop):
        from desktop_app.core.model.weights import download

        return download(self.backbone, self.alpha, self.img_size, report=report, should_stop=should_stop)


@dataclass(frozen=True)
class TrainRequest(Request):
    """A new run (``config``) or a resumed one (``resume`` with ``changes`` to its training settings)."""

    config: TrainingConfig | None = None
    resume: Path | None = None
    changes: dict = field(default_factory=dict)
    relocated: Path | None = None  # a resumed run's dataset, if it moved
    class_map: dict = field(default_factory=dict)  # classes renamed since the run: old -> new
    lane: ClassVar[str] = "train"

    def run(self, report, should_stop):
        from desktop_app.core.events import EventThrottle
        from desktop_app.core.train.job import TrainingJob

        sink = EventThrottle(report)
        job = (TrainingJob(self.config, sink) if self.config is not None
               else TrainingJob.resume(self.resume, sink, self.relocated, self.class_map, **self.changes))
        done = threading.Event()

        def watch() -> None:
            while not done.wait(0.05):
                if should_stop():
                    job.request_stop()
                    return

        threading.Thread(target=watch, name="stop-watch", daemon=True).start()
        try:
            return job.run()
        finally:
            done.set()


# --------------------------------------------------------------------------- messages


@dataclass(frozen=True)
class Submit:
    ticket: int
    request: Request
    env: dict[str, str | None]


@dataclass(frozen=True)
class Cancel:
    ticket: int


@dataclass(frozen=True)
class Shutdown:
    pass


@dataclass(frozen=True)
class Progressed:
    ticket: int
    event: Any


@dataclass(frozen=True)
class Succeeded:
    ticket: int
    result: Any


@dataclass(frozen=True)
class Refused:
    """The request failed for a reason the user can act on: ``message`` is that sentence,
    ``error`` the UserError itself (its kind may offer a way out, e.g. ClassesChanged)."""

    ticket: int
    message: str
    error: UserError | None = None


@dataclass(frozen=True)
class Crashed:
    """A bug: the traceback, for the log."""

    ticket: int
    details: str


@dataclass(frozen=True)
class Cancelled:
    ticket: int


@dataclass(frozen=True)
class EngineDied:
    """Made by the parent when the process ended while it was still wanted."""

    exit_code: int | None


Outcome = Succeeded | Refused | Crashed | Cancelled


def env_snapshot() -> dict[str, str | None]:
    return {key: os.environ.get(key) for key in ENV_KEYS}


# --------------------------------------------------------------------------- the child


def _apply_env(env: dict[str, str | None]) -> None:
    for key, value in env.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _lane_worker(jobs: queue.Queue, send: Callable[[object], None]) -> None:
    while True:
        item = jobs.get()
        if item is None:
            return
        submit, stop = item
        ticket = submit.ticket
        if stop.is_set():
            send(Cancelled(ticket))
            continue
        _apply_env(submit.env)
        try:
            result = submit.request.run(lambda event, t=ticket: send(Progressed(t, event)), stop.is_set)
        except UserError as e:
            send(Refused(ticket, str(e), e))
        except Exception:  # a bug: its traceback goes to the parent's log
            send(Crashed(ticket, traceback.format_exc()))
        else:
            send(Cancelled(ticket) if result is None and stop.is_set() else Succeeded(ticket, result))


def serve(conn) -> None:
    """The child's main loop: requests from ``conn`` into their lanes, answers back."""
    lock = threading.Lock()
    lanes: dict[str, queue.Queue] = {}
    stops: dict[int, threading.Event] = {}

    def send(message: object) -> None:
        if isinstance(message, (Succeeded, Refused, Crashed, Cancelled)):
            stops.pop(message.ticket, None)
        try:
            with lock:
                conn.send(message)
        except (OSError, ValueError):  # the parent has gone: nobody to tell
            pass
        except Exception:  # a result that cannot be pickled is a bug worth a clear report
            if isinstance(message, Succeeded):
                send(Crashed(message.ticket, traceback.format_exc()))

    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            break
        if isinstance(message, Shutdown):
            break
        if isinstance(message, Cancel):
            if message.ticket in stops:
                stops[message.ticket].set()
        elif isinstance(message, Submit):
            stops[message.ticket] = threading.Event()
            lane = message.request.lane
            if lane not in lanes:
                lanes[lane] = queue.Queue()
                threading.Thread(target=_lane_worker, args=(lanes[lane], send), name=f"lane-{lane}",
                                 daemon=True).start()
            lanes[lane].put((message, stops[message.ticket]))
    for stop in list(stops.values()):
        stop.set()
    for jobs in lanes.values():
        jobs.put(None)


def _child_main(conn) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in a terminal is for the window
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ chatter stays out of the terminal
    serve(conn)
    conn.close()
    # Lanes still busy (a long export) must not keep a process nobody listens to.
    os._exit(0)


# --------------------------------------------------------------------------- the parent


class EngineProcess:
    """One engine child process, seen from the parent. Thread-safe; no Qt.

    ``on_message`` is called on a reader thread with every message from the child, and
    with ``EngineDied`` if the process ends before ``stop()``.
    """

    _tickets = itertools.count(1)  # unique across engines, so a ticket names one request

    def __init__(self, on_message: Callable[[object], None], name: str = "engine", warm_up: bool = True):
        self.on_message = on_message
        self.name = name
        self.warm_up = warm_up
        self._process = None
        self._conn = None
        self._lock = threading.Lock()
        self._stopping = False

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def is_alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def start(self) -> None:
        with self._lock:
            if self.is_alive():
                return
            context = multiprocessing.get_context("spawn")  # fork would copy the window's threads and locks
            parent, child = context.Pipe()
            process = context.Process(target=_child_main, args=(child,), name=self.name, daemon=True)
            process.start()
            child.close()
            self._process, self._conn, self._stopping = process, parent, False
            threading.Thread(target=self._read, args=(process, parent), name=f"{self.name}-reader",
                             daemon=True).start()
        if self.warm_up:
            self.submit(WarmUp())

    def _read(self, process, conn) -> None:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                break
            except Exception:  # a message that cannot be unpickled here: report it as the bug it is
                log.exception("Could not read a message from the %s process", self.name)
                continue
            self.on_message(message)
        process.join(5)
        with self._lock:
            wanted = not self._stopping and self._process is process
        if wanted:
            self.on_message(EngineDied(process.exitcode))

    @staticmethod
    def new_ticket() -> int:
        return next(EngineProcess._tickets)

    def submit(self, request: Request, ticket: int | None = None) -> int:
        """Send ``request``; returns its ticket. Starts the process if it is not running.

        Take the ticket from ``new_ticket()`` first to listen for it before anything arrives."""
        self.start()
        ticket = self.new_ticket() if ticket is None else ticket
        self._send(Submit(ticket, request, env_snapshot()))
        return ticket

    def cancel(self, ticket: int) -> None:
        self._send(Cancel(ticket))

    def _send(self, message: object) -> None:
        with self._lock:
            conn = self._conn
            try:
                if conn is not None:
                    conn.send(message)
            except (OSError, ValueError):
                pass  # the process died: the reader reports it

    def stop(self, timeout: float = 5.0, wait: bool = True) -> None:
        """Ask the process to end; kill it if it does not within ``timeout`` seconds.

        ``wait=False`` returns at once and waits on a helper thread (a window must not)."""
        with self._lock:
            process, conn = self._process, self._conn
            self._stopping = True
        if process is None:
            return
        try:
            conn.send(Shutdown())
        except (OSError, ValueError):
            pass

        def wait_for_it() -> None:
            process.join(timeout)
            if process.is_alive():
                process.kill()
                process.join(5)
            conn.close()

        if wait:
            wait_for_it()
        else:
            threading.Thread(target=wait_for_it, name=f"{self.name}-stop", daemon=True).start()

    def call(self, request: Request, report: Report | None = None, timeout: float | None = None) -> Outcome:
        """Submit and wait for the outcome (scripts, tests). ``on_message`` still sees everything."""
        done = threading.Event()
        box: dict[str, object] = {}
        previous = self.on_message

        def listen(message: object) -> None:
            if getattr(message, "ticket", None) == box.get("ticket"):
                if isinstance(message, Progressed):
                    if report is not None:
                        report(message.event)
                else:
                    box["outcome"] = message
                    done.set()
            elif isinstance(message, EngineDied):
                box["outcome"] = message
                done.set()
            previous(message)

        box["ticket"] = ticket = self.new_ticket()
        self.on_message = listen
        try:
            self.submit(request, ticket)
            if not done.wait(timeout):
                raise TimeoutError(f"the {self.name} process did not answer within {timeout} s")
        finally:
            self.on_message = previous
        return box["outcome"]  # type: ignore[return-value]
