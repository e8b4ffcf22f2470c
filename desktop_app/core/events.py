"""Progress events the core reports through a plain callable.

The CLI prints them; the GUI's worker re-emits them as Qt signals.
"""

from __future__ import annotations

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


@dataclass(frozen=True)
class BatchEnd:
    epoch: int  # 1-based
    batch: int  # 1-based
    batches: int | None  # per epoch, None while unknown
    metrics: dict[str, float] = field(default_factory=dict)


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
class Message:
    text: str


Event = PhaseStarted | BatchEnd | EpochEnd | CheckpointSaved | Message
EventSink = Callable[[Event], None]


def ignore_event(_event: Event) -> None:
    pass
