"""Run a TrainingJob in a child process.

TensorFlow holds Python's GIL for long stretches (importing, tracing the model, h5py
writing a checkpoint); in a thread of the app's own process that freezes the window
for up to a second at a time. In a child process the window's Python never waits on it.
Events cross over a queue, Stop over a shared flag, the result or the error at the end.
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from desktop_app.core.errors import UserError
from desktop_app.core.events import EventSink, EventThrottle
from desktop_app.core.training_config import TrainingConfig

POLL_SECONDS = 0.1


@dataclass(frozen=True)
class JobRequest:
    """A new run (``config``) or a resumed one (``resume_dir`` with ``changes``)."""

    config: TrainingConfig | None = None
    resume_dir: Path | None = None
    changes: dict = field(default_factory=dict)


def _child(request: JobRequest, events, stop) -> None:
    """The child's whole life: build the job, watch for Stop, run, hand back the outcome."""
    try:
        from desktop_app.core.training import TrainingJob

        sink = EventThrottle(events.put)
        if request.config is not None:
            job = TrainingJob(request.config, sink)
        else:
            job = TrainingJob.resume(request.resume_dir, sink, **request.changes)
        def watch() -> None:
            while not stop.value:
                time.sleep(POLL_SECONDS)
            job.request_stop()

        threading.Thread(target=watch, daemon=True).start()
        events.put(("result", job.run()))
    except UserError as e:
        events.put(("error", str(e)))
    except BaseException:  # a bug: the parent logs the child's traceback
        events.put(("crash", traceback.format_exc()))


def run_job_in_child(request: JobRequest, report: EventSink, should_stop: Callable[[], bool]):
    """Run ``request`` in a spawned process; returns its TrainingResult or raises UserError."""
    context = multiprocessing.get_context("spawn")  # fork would copy the GUI's threads and locks
    # A shared flag, not a multiprocessing.Event: Event.set() waits for the waiters to wake
    # and hangs for good when the waiting child has already exited.
    events, stop = context.Queue(), context.Value("b", False, lock=False)
    child = context.Process(target=_child, args=(request, events, stop), daemon=True, name="training")
    child.start()
    try:
        while True:
            if should_stop():
                stop.value = True
            try:
                item = events.get(timeout=POLL_SECONDS)
            except queue.Empty:
                if not child.is_alive():
                    raise UserError(f"Training ended unexpectedly (the training process exited with code "
                                    f"{child.exitcode}); the checkpoints saved so far are intact.") from None
                continue
            if not isinstance(item, tuple):
                report(item)
                continue
            kind, payload = item
            if kind == "result":
                return payload
            if kind == "error":
                raise UserError(payload)
            raise RuntimeError(f"Training failed in its process:\n{payload}")
    finally:
        stop.value = True
        child.join(timeout=30)
