"""Keras callbacks of a training job: progress events, history rows, Stop.

Stop ends the run after the current batch, training or validation. The epoch it cuts
short does not count: no history row, no checkpoint, its partial scores are never a
result; the run resumes from the last complete epoch and trains the cut one again.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Protocol

import keras
import numpy as np

from desktop_app.core import crashpoints
from desktop_app.core.events import BatchEnd, EpochCut, EpochEnd, Estimate, EventSink
from desktop_app.core.session import FINE_TUNING
from desktop_app.core.train.checkpoints import finite_loss
from desktop_app.core.train.devices import predict_batch
from desktop_app.core.train.plan import METRIC_KEYS


@dataclass(frozen=True)
class Phase:
    name: str
    first_epoch: int  # 0-based, as Keras' initial_epoch
    last_epoch: int
    learning_rate: float
    unfreeze_layers: int = 0


class Job(Protocol):
    on_event: EventSink
    history: list[dict]
    batches_per_epoch: int | None

    @property
    def stop_requested(self) -> bool: ...

    def optimizer_steps(self) -> int: ...


def floats(logs) -> dict[str, float]:
    return {k: float(v) for k, v in (logs or {}).items()}


class ProgressCallback(keras.callbacks.Callback):
    """Turns Keras' callback protocol into core events, records history rows, honours Stop."""

    def __init__(self, job: Job, phase: Phase):
        super().__init__()
        self.job, self.phase = job, phase
        self.epoch = 0
        self.epoch_started = self.batch_started = 0.0
        self.batch_times: list[float] = []
        self.epoch_times: list[float] = []
        self.estimated = False

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch + 1
        self.epoch_started = self.batch_started = time.perf_counter()
        self.cut_short = False

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        self.batch_times.append(now - self.batch_started)
        self.batch_started = now
        batches = (self.params or {}).get("steps") or self.job.batches_per_epoch
        left = self._seconds_left(batch + 1, batches)
        self.job.on_event(BatchEnd(self.epoch, batch + 1, batches, floats(logs), left))
        if left is not None and not self.estimated:
            self.estimated = True
            self.job.on_event(Estimate(self._seconds_per_batch() * batches, left))
        if self.job.stop_requested:
            self.model.stop_training = True
            self.cut_short = self.cut_short or batch + 1 != batches

    def on_test_batch_end(self, batch, logs=None):
        if self.job.stop_requested:  # don't sit through the whole validation pass
            self.model.stop_evaluating = True
            self.cut_short = True

    def _seconds_per_batch(self) -> float:
        # The first batch includes tracing the graph; leave it out once there are others.
        timed = self.batch_times[1:] or self.batch_times
        return float(np.median(timed[-20:]))

    def _seconds_left(self, batch: int, batches: int | None) -> float | None:
        """Time left in this phase: the rest of this epoch, then whole epochs (validation
        included) as long as the finished ones took."""
        if not batches or len(self.batch_times) < 3:
            return None
        this_epoch = (batches - batch) * self._seconds_per_batch()
        per_epoch = float(np.median(self.epoch_times)) if self.epoch_times else batches * self._seconds_per_batch()
        return this_epoch + per_epoch * (self.phase.last_epoch - self.epoch)

    def on_epoch_end(self, epoch, logs=None):
        crashpoints.reached("epoch-end")
        if self.cut_short:
            self.model.stop_training = True
            self.job.on_event(EpochCut(epoch + 1, self.phase.name))
            return
        metrics = floats(logs)
        seconds = time.perf_counter() - self.epoch_started
        self.epoch_times.append(seconds)
        row = {"epoch": epoch + 1, "phase": self.phase.name, **{k: metrics.get(k) for k in METRIC_KEYS},
               "seconds": round(seconds, 3), "learning_rate": self.phase.learning_rate,
               "optimizer_steps": int(self.job.optimizer_steps())}
        if self.phase.name == FINE_TUNING:
            row["unfreeze_layers"] = self.phase.unfreeze_layers
        if not finite_loss(logs):
            row["nan"] = True
            row.update({k: None for k in METRIC_KEYS if row[k] is not None and not math.isfinite(row[k])})
        self.job.history.append(row)
        self.job.on_event(EpochEnd(epoch + 1, self.phase.last_epoch, self.phase.name, metrics, row["seconds"]))
        if self.job.stop_requested:  # asked between epochs: don't start another
            self.model.stop_training = True


def mean_loss(loss: keras.losses.Loss, y, probabilities) -> float:
    """``loss(y, probabilities)``, by the same steps, in any strategy's scope: inside a
    MirroredStrategy's, Keras divides a loss by the number of replicas (to sum their shares)."""
    per_photo = loss.call(keras.ops.convert_to_tensor(y, loss.dtype), keras.ops.convert_to_tensor(probabilities,
                                                                                                  loss.dtype))
    return float(keras.ops.divide_no_nan(keras.ops.sum(per_photo), keras.ops.cast(keras.ops.size(per_photo),
                                                                                  per_photo.dtype)))


class CachedValidation(keras.callbacks.Callback):
    """Validation while the base is frozen: the head on the validation photos' stored
    embeddings, the same numbers as a pass of the whole model over the photos, in
    milliseconds. Comes first among the callbacks, so the others see its scores."""

    CHUNK = 4096  # rows per call: the head is small, and each call costs about a millisecond

    def __init__(self, head, x: np.ndarray, y: np.ndarray, loss):
        super().__init__()
        self.head, self.x, self.y, self.loss = head, x, y, loss

    def on_epoch_end(self, epoch, logs=None):
        if logs is None or not len(self.x):
            return
        probabilities = np.concatenate([predict_batch(self.head, self.x[start:start + self.CHUNK])
                                        for start in range(0, len(self.x), self.CHUNK)])
        logs["val_loss"] = mean_loss(self.loss, self.y, probabilities)
        # float32, as Keras' own metric: the best checkpoint compares these with Keras' numbers.
        right = np.argmax(probabilities, axis=1) == np.argmax(self.y, axis=1)
        logs["val_accuracy"] = float(np.mean(right, dtype=np.float32))
