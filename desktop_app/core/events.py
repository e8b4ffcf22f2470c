"""Progress events the core reports through a plain callable.

The CLI prints them; the GUI's worker re-emits them as Qt signals.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
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
class DevicesInUse:
    """What the run trains on, said once before it starts."""

    words: str  # e.g. "CPU, 2 cores", "2 GPUs: NVIDIA H200"
    replicas: int = 1  # copies of the model side by side, each on its share of every batch
    mixed_precision: bool = False


@dataclass(frozen=True)
class Estimate:
    """How long an epoch and the rest of the run will take, from the first timed batches."""

    seconds_per_epoch: float
    seconds_left: float
    devices: str = ""  # the devices it was measured on (the pre-flight estimate), in words


@dataclass(frozen=True)
class EpochEnd:
    epoch: int  # 1-based, continuing across phases
    last_epoch: int
    phase: str
    metrics: dict[str, float]
    seconds: float


@dataclass(frozen=True)
class EpochCut:
    """Stop came during this epoch: it does not count, and Resume runs it again in full."""

    epoch: int  # 1-based
    phase: str


@dataclass(frozen=True)
class CheckpointSaved:
    kind: str  # "best" or "last"
    path: Path
    epoch: int


class Step(str, Enum):
    """What a long piece of work is doing now: a code for progress bars, with its words."""

    CHECKING_PHOTOS = "checking_photos"
    LOOKING_AT_TRAINING = "looking_at_training"  # the frozen base's one look at each photo (fast mode)
    LOOKING_AT_VALIDATION = "looking_at_validation"
    LOADING_MODEL = "loading_model"
    PREDICTING = "predicting"
    EXPORTING = "exporting"  # ``detail``: the format
    WRITING_MODEL_CARD = "writing_model_card"
    WRITING_REPORT = "writing_report"
    DONE = "done"

    @property
    def words(self) -> str:
        return STEP_WORDS[self]


STEP_WORDS = {
    Step.CHECKING_PHOTOS: "Checking the photos",
    Step.LOOKING_AT_TRAINING: "Looking at the training images once",
    Step.LOOKING_AT_VALIDATION: "Looking at the validation images once",
    Step.LOADING_MODEL: "Loading the model",
    Step.PREDICTING: "Looking at the images",
    Step.EXPORTING: "Writing and checking",
    Step.WRITING_MODEL_CARD: "Writing the model card",
    Step.WRITING_REPORT: "Writing the lab report",
    Step.DONE: "Done",
}


@dataclass(frozen=True)
class Progress:
    """How far a long piece of work (not training's batches) has come."""

    step: Step
    done: int
    total: int
    detail: str = ""  # e.g. the format being exported

    @property
    def words(self) -> str:
        return f"{self.step.words} {self.detail}".strip()


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


Event = (DevicesInUse | PhaseStarted | BatchEnd | Estimate | EpochEnd | EpochCut | CheckpointSaved | Progress
         | Message | Finished | Failed)
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
