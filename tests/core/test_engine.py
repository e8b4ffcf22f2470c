"""The engine process: typed requests in, typed outcomes out; cancel; a killed engine is reported."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from conftest import write_image
from desktop_app.core.augment.spec import AugmentationSpec
from desktop_app.core.engine import (
    Cancelled, EngineDied, EngineInfo, EngineProcess, PreviewRequest, Refused, Submit, Succeeded,
    SummaryRequest, WarmUp, serve,
)
from desktop_app.core.session import ModelSettings


class Recorder:
    """Collects what the engine sends, from its reader thread."""

    def __init__(self):
        self.messages: list[object] = []
        self.lock = threading.Condition()

    def __call__(self, message: object) -> None:
        with self.lock:
            self.messages.append(message)
            self.lock.notify_all()

    def wait_for(self, test, timeout: float = 120):
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                found = next((m for m in self.messages if test(m)), None)
                if found is not None:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"nothing matched in {timeout} s; got {self.messages}")
                self.lock.wait(left)


@pytest.fixture(scope="module")
def engine():
    recorder = Recorder()
    process = EngineProcess(recorder, name="test-engine")
    process.recorder = recorder
    process.start()
    yield process
    process.stop()


def test_requests_come_back_typed(engine, tmp_path):
    photo = write_image(tmp_path / "photo.png", (200, 40, 40), size=40)
    info = engine.call(WarmUp(), timeout=120)
    assert isinstance(info, Succeeded) and isinstance(info.result, EngineInfo)
    assert info.result.pid == engine.pid != os.getpid()
    outcome = engine.call(PreviewRequest(photo, AugmentationSpec.preset("strong"), seed=3, count=4, size=32),
                          timeout=120)
    assert isinstance(outcome, Succeeded)
    preview = outcome.result
    assert len(preview.variants) == 4 and preview.original.shape == (32, 32, 3) and preview.seed == 3
    summary = engine.call(SummaryRequest(ModelSettings("mobilenet", 0.25, 32, None), 3), timeout=120).result
    assert summary.counts.trainable == 256 * 3 + 3


def test_a_users_mistake_comes_back_as_its_sentence(engine, tmp_path):
    outcome = engine.call(PreviewRequest(tmp_path / "nope.jpg", AugmentationSpec()), timeout=60)
    assert isinstance(outcome, Refused) and "does not exist" in outcome.message


def test_progress_arrives_before_the_outcome(engine, trained_run):
    from desktop_app.core.engine import EvaluateRequest
    from desktop_app.core.events import Progress, Step

    events = []
    outcome = engine.call(EvaluateRequest(trained_run), report=events.append, timeout=180)
    assert isinstance(outcome, Succeeded) and outcome.result.count > 0
    steps = [e.step for e in events if isinstance(e, Progress)]
    assert Step.CHECKING_PHOTOS in steps and Step.LOADING_MODEL in steps and steps[-1] == Step.PREDICTING


class LocalConnection:
    """One end of an in-process pipe: the serving loop's side (nothing is pickled)."""

    def __init__(self):
        import queue

        self.inbox, self.outbox = queue.Queue(), queue.Queue()

    def recv(self):
        return self.inbox.get()

    def send(self, message) -> None:
        self.outbox.put(message)


def test_cancelled_before_it_starts_is_cancelled():
    """The serving loop itself, in this process: a request cancelled while it waits never runs."""
    child = LocalConnection()
    thread = threading.Thread(target=serve, args=(child,), daemon=True)
    thread.start()
    ran = threading.Event()
    release = threading.Event()

    class Slow(WarmUp):
        def run(self, report, should_stop):
            release.wait(30)
            return "slow"

    class Quick(WarmUp):
        def run(self, report, should_stop):
            ran.set()
            return "quick"

    from desktop_app.core.engine import Cancel, Shutdown

    child.inbox.put(Submit(1, Slow(), {}))
    child.inbox.put(Submit(2, Quick(), {}))  # the same lane: it waits behind the slow one
    child.inbox.put(Cancel(2))
    time.sleep(0.2)
    release.set()
    answers = {}
    while len(answers) < 2:
        message = child.outbox.get(timeout=30)
        answers[message.ticket] = message
    child.inbox.put(Shutdown())
    thread.join(10)
    assert answers[1] == Succeeded(1, "slow")
    assert answers[2] == Cancelled(2) and not ran.is_set()


def test_an_engine_killed_mid_request_is_reported_and_a_new_one_works(tmp_path):
    recorder = Recorder()
    process = EngineProcess(recorder, name="doomed-engine", warm_up=False)
    process.start()
    try:
        photo = write_image(tmp_path / "photo.png", (20, 200, 40), size=40)
        ticket = process.submit(PreviewRequest(photo, AugmentationSpec.preset("light"), size=32))
        time.sleep(0.5)  # it is importing TensorFlow for the request now
        os.kill(process.pid, signal.SIGKILL)
        died = recorder.wait_for(lambda m: isinstance(m, EngineDied), timeout=60)
        assert died.exit_code == -signal.SIGKILL
        assert not any(isinstance(m, Succeeded) and m.ticket == ticket for m in recorder.messages)
        outcome = process.call(PreviewRequest(photo, AugmentationSpec(), size=32), timeout=120)  # starts anew
        assert isinstance(outcome, Succeeded) and len(outcome.result.variants) == 9
    finally:
        process.stop()
