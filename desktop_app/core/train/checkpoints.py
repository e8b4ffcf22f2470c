"""Checkpoints that a crash or a kill mid-write can never corrupt.

Keras' own ``ModelCheckpoint`` writes into a staging folder; ``PublishCheckpoints``
then renames each new file over the published one, an atomic step on every platform.
"""

from __future__ import annotations

import math
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import keras

from desktop_app.core.events import CheckpointSaved, EventSink, ignore_event
from desktop_app.core.runs import BEST, LAST, RunFolder


def finite_loss(logs) -> bool:
    loss = (logs or {}).get("loss")
    return loss is None or math.isfinite(float(loss))


class ClassifierCheckpoint(keras.callbacks.ModelCheckpoint):
    """Keras' ModelCheckpoint, optionally saving another model than the one being fit.

    Fast mode fits a head on cached features; the checkpoint must still be the whole
    classifier, which shares the head's layers.
    """

    def __init__(self, *args, save_model=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._model_to_save = save_model

    def set_model(self, model):
        super().set_model(self._model_to_save if self._model_to_save is not None else model)


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

    Only files written in the current epoch are published. An epoch whose loss went NaN
    publishes nothing; an epoch cut short by Stop publishes ``last`` but not ``best`` (its
    validation score may rest on part of the data), unless there is no best yet. Next to
    each checkpoint, a ``.json`` file records the epoch and its history row, so a resume
    can tell exactly where the checkpoint stands.
    """

    def __init__(self, run: RunFolder, on_event: EventSink = ignore_event,
                 epoch_row: Callable[[int], dict | None] = lambda epoch: None):
        super().__init__()
        self.run = run
        self.on_event = on_event
        self.epoch_row = epoch_row

    def _clear_staging(self) -> None:
        for kind in (BEST, LAST):
            self.run.checkpoint_path(kind, staged=True).unlink(missing_ok=True)

    def on_train_begin(self, logs=None) -> None:
        self._clear_staging()  # leftovers of a crash must never be published

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self._clear_staging()

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        row = self.epoch_row(epoch + 1)
        publish = {LAST} if finite_loss(logs) else set()
        first_best = not self.run.checkpoint_path(BEST).exists()
        if publish and (first_best or not (row or {}).get("stopped")):
            publish.add(BEST)
        for kind in (BEST, LAST):
            staged = self.run.checkpoint_path(kind, staged=True)
            if not staged.exists():
                continue
            if kind not in publish:
                staged.unlink()
                continue
            target = self.run.checkpoint_path(kind)
            os.replace(staged, target)
            self.run.write_checkpoint_meta(kind, {
                "kind": kind, "epoch": epoch + 1, "saved_at": time.time(),
                "metrics": {k: float(v) for k, v in (logs or {}).items()}, "row": row,
            })
            self.on_event(CheckpointSaved(kind, target, epoch + 1))


def checkpoint_callbacks(
    run: RunFolder, on_event: EventSink = ignore_event, best_so_far: float | None = None, save_model=None,
    epoch_row: Callable[[int], dict | None] = lambda epoch: None,
) -> list[keras.callbacks.Callback]:
    """last.keras, and best.keras (by val_accuracy, not overwritten by a worse epoch after a
    resume), both by Keras' ModelCheckpoint; best copies the file last just wrote."""
    run.staging_dir.mkdir(parents=True, exist_ok=True)
    last = run.checkpoint_path(LAST, staged=True)
    return [
        ClassifierCheckpoint(last, save_model=save_model),
        ClassifierCheckpoint(
            run.checkpoint_path(BEST, staged=True), monitor="val_accuracy", mode="max", save_best_only=True,
            initial_value_threshold=best_so_far, save_model=_CopyOf(last),
        ),
        PublishCheckpoints(run, on_event, epoch_row),
    ]
