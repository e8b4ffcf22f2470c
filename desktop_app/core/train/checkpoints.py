"""Checkpoints that a crash or a kill mid-write can never corrupt or mislabel.

Keras' own ``ModelCheckpoint`` writes into a staging folder; ``PublishCheckpoints`` then
puts the epoch's metadata (epoch, the history so far, optimizer steps) inside each new file and
renames it over the published one (``RunFolder.publish_checkpoint``), so the file and
what it says of itself change in one atomic step. An epoch that does not count (cut
short by Stop, or its loss NaN) publishes nothing.
"""

from __future__ import annotations

import math
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import keras

from desktop_app.core import crashpoints
from desktop_app.core.events import CheckpointSaved, EventSink, ignore_event
from desktop_app.core.runs import BEST, LAST, WHOLE, RunFolder
from desktop_app.core.train.plan import epoch_rank

EpochRow = Callable[[int], "dict | None"]  # the history row of a complete epoch (1-based); None if it does not count


def finite_loss(logs) -> bool:
    loss = (logs or {}).get("loss")
    return loss is None or math.isfinite(float(loss))


class ClassifierCheckpoint(keras.callbacks.ModelCheckpoint):
    """Keras' ModelCheckpoint of the model being fit, only for epochs that count. In fast mode
    that model is the head: the checkpoint is kilobytes, written in milliseconds, and
    ``RunFolder`` puts it into the whole classifier published as the phase began."""

    def __init__(self, *args, save_model=None, epoch_row: EpochRow = lambda epoch: None, **kwargs):
        super().__init__(*args, **kwargs)
        self._model_to_save = save_model
        self._epoch_row = epoch_row

    def set_model(self, model):
        super().set_model(self._model_to_save if self._model_to_save is not None else model)

    def on_epoch_end(self, epoch, logs=None):
        if self._epoch_row(epoch + 1) is not None:  # a cut-short epoch is not worth the write
            super().on_epoch_end(epoch, logs)


class BestCheckpoint(ClassifierCheckpoint):
    """Saves an epoch that beats the best so far by ``epoch_rank``: higher validation accuracy,
    or the same accuracy at a lower validation loss. Accuracy alone would keep the first epoch
    that got every validation photo right, however unsure it still was of them."""

    def __init__(self, filepath, best_so_far: tuple[float, float] | None, **kwargs):
        super().__init__(filepath, monitor="val_accuracy", mode="max", save_best_only=True, **kwargs)
        self.best_rank = best_so_far

    def _should_save_model(self, epoch, batch, logs, filepath) -> bool:
        rank = epoch_rank(logs or {})
        if rank is None or (self.best_rank is not None and rank <= self.best_rank):
            return False
        self.best_rank = rank
        return True


class _CopyOf:
    """Stands in for the model in the best-checkpoint callback: the epoch's model was just
    written as the staged last.keras, so saving it again is a file copy instead of a
    second serialization (which costs as much as the first: about 0.5 s for
    EfficientNetV2-B0, in every epoch)."""

    def __init__(self, source: Path):
        self.source = source

    def save(self, filepath, overwrite: bool = True, **_kwargs) -> None:
        shutil.copyfile(self.source, filepath)


class PublishCheckpoints(keras.callbacks.Callback):
    """Runs after the ModelCheckpoint callbacks and moves what they wrote into place.

    Only files written in the current epoch are published, only for an epoch that counts
    and whose loss is a number. The first checkpoint of a run is also its first best.
    """

    def __init__(self, run: RunFolder, on_event: EventSink = ignore_event, epoch_row: EpochRow = lambda epoch: None,
                 optimizer_steps: Callable[[], int] = lambda: 0, history: Callable[[], list[dict]] = list,
                 head_only: bool = False):
        super().__init__()
        self.run = run
        self.head_only = head_only
        self.on_event = on_event
        self.epoch_row = epoch_row
        self.optimizer_steps = optimizer_steps
        self.history = history

    def on_train_begin(self, logs=None) -> None:
        self.run.clear_staging()  # leftovers of a crash must never be published

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self.run.clear_staging()

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        row = self.epoch_row(epoch + 1)
        crashpoints.reached("checkpoint-staged")
        if row is None or not finite_loss(logs):
            self.run.clear_staging()
            return
        # The whole history travels with the checkpoint: a resume needs nothing else to know where it is.
        meta = {"epoch": epoch + 1, "saved_at": time.time(), "optimizer_steps": self.optimizer_steps(),
                "head": self.head_only,
                "metrics": {k: float(v) for k, v in (logs or {}).items()}, "row": row,
                "history": [r for r in self.history() if r["epoch"] <= epoch + 1]}
        for kind in (LAST, BEST):  # last first: a kill between the two leaves the older best
            if not self.run.checkpoint_path(kind, staged=True).exists():
                continue
            target = self.run.publish_checkpoint(kind, {**meta, "kind": kind})
            crashpoints.reached("checkpoint-published" if kind == LAST else "best-published")
            self.on_event(CheckpointSaved(kind, target, epoch + 1))


def checkpoint_callbacks(
    run: RunFolder, on_event: EventSink = ignore_event, best_so_far: tuple[float, float] | None = None,
    head_only: bool = False,
    epoch_row: EpochRow = lambda epoch: None, optimizer_steps: Callable[[], int] = lambda: 0,
    history: Callable[[], list[dict]] = list,
) -> list[keras.callbacks.Callback]:
    """last.keras, and best.keras (by ``epoch_rank``, not overwritten by a worse epoch after a
    resume; ``best_so_far`` is the rank of the run's best epoch before this fit), both by Keras'
    ModelCheckpoint; best copies the file last just wrote.
    ``head_only``: the model being fit is the head (see ``publish_whole``)."""
    run.staging_dir.mkdir(parents=True, exist_ok=True)
    last = run.checkpoint_path(LAST, staged=True)
    first_best = not run.checkpoint_path(BEST).exists()
    return [
        ClassifierCheckpoint(last, epoch_row=epoch_row),
        BestCheckpoint(run.checkpoint_path(BEST, staged=True), None if first_best else best_so_far,
                       save_model=_CopyOf(last), epoch_row=epoch_row),
        PublishCheckpoints(run, on_event, epoch_row, optimizer_steps, history, head_only),
    ]


def publish_whole(run: RunFolder, model, epoch: int) -> None:
    """The whole classifier, once, as a phase that trains only its head begins: the head
    checkpoints of that phase are put into it whenever a checkpoint is read."""
    run.make_heads_whole()  # an earlier phase's heads go with the whole model about to be replaced
    run.staging_dir.mkdir(parents=True, exist_ok=True)
    model.save(run.checkpoint_path(WHOLE, staged=True))
    run.publish_checkpoint(WHOLE, {"epoch": epoch, "saved_at": time.time(), "kind": WHOLE})
    crashpoints.reached("whole-published")
