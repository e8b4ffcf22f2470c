"""Progress events the core reports through a plain callable.

The CLI prints them; the GUI's worker re-emits them as Qt signals.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class PhaseStarted:
    phase: str  # "feature_extraction" or "fine_tuning"
    first_epoch: int  # 1-based
    last_epoch: int
    learning_rate: float
    trainable_params: int
    detail: str = ""  # e.g. "top 10 layers unfrozen", "fast mode"
    continues: bool = False  # a resumed phase that was already under way


@dataclass(frozen=True)
class BatchEnd:
    epoch: int  # 1-based
    batch: int  # 1-based
    batches: int | None  # per epoch, None while unknown
    metrics: dict[str, float] = field(default_factory=dict)
    seconds_left: float | None = None  # for the whole run, once a few batches were timed


@dataclass(frozen=True)
class Estimate:
    """How long an epoch and the rest of the run will take, from the first timed batches."""

    seconds_per_epoch: float
    seconds_left: float


@dataclass(frozen=True)
class EpochEnd:
    epoch: int  # 1-based, continuing across phases
    last_epoch: int
    phase: str
    metrics: dict[str, float]
    seconds: float


@dataclass(frozen=True)
class CheckpointSaved:
    kind: str  # "best" or "last"
    path: Path
    epoch: int


@dataclass(frozen=True)
class Progress:
    """Work before training proper, e.g. computing the base's features for fast mode."""

    task: str
    done: int
    total: int


@dataclass(frozen=True)
class Message:
    text: str


@dataclass(frozen=True)
class Finished:
    run_dir: Path
    metrics: dict
    stopped: bool


@dataclass(frozen=True)
class Failed:
    message: str  # one sentence for the user: what happened, what to do


Event = PhaseStarted | BatchEnd | Estimate | EpochEnd | CheckpointSaved | Progress | Message | Finished | Failed
EventSink = Callable[[Event], None]


def ignore_event(_event: Event) -> None:
    pass


class EventThrottle:
    """Passes events on, but batch and progress updates at most every ``interval`` seconds.

    A fast model can finish hundreds of batches a second; a window needs about ten
    updates a second. The last batch of an epoch always goes through.
    """

    def __init__(self, emit: EventSink, interval: float = 0.1):
        self.emit, self.interval = emit, interval
        self._last = float("-inf")

    def __call__(self, event: Event) -> None:
        if isinstance(event, (BatchEnd, Progress)):
            now = time.monotonic()
            final = event.batch == event.batches if isinstance(event, BatchEnd) else event.done == event.total
            if now - self._last < self.interval and not final:
                return
            self._last = now
        self.emit(event)
