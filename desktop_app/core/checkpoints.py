"""Checkpoints that a crash or a kill mid-write can never corrupt.

Keras' own ``ModelCheckpoint`` writes into a staging folder; ``PublishCheckpoints``
then renames each new file over the published one, an atomic step on every platform.
"""

from __future__ import annotations

import os
from pathlib import Path

import keras

from desktop_app.core.events import CheckpointSaved, EventSink, ignore_event

BEST = "best"
LAST = "last"
STAGING = ".incoming"


def checkpoint_path(checkpoint_dir: Path, kind: str) -> Path:
    return Path(checkpoint_dir) / f"{kind}.keras"


class PublishCheckpoints(keras.callbacks.Callback):
    """Runs after the ModelCheckpoint callbacks and moves what they wrote into place."""

    def __init__(self, checkpoint_dir: Path, on_event: EventSink = ignore_event):
        super().__init__()
        self.checkpoint_dir = Path(checkpoint_dir)
        self.on_event = on_event

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        for kind in (BEST, LAST):
            staged = checkpoint_path(self.checkpoint_dir / STAGING, kind)
            if staged.exists():
                target = checkpoint_path(self.checkpoint_dir, kind)
                os.replace(staged, target)
                self.on_event(CheckpointSaved(kind, target, epoch + 1))


def checkpoint_callbacks(checkpoint_dir: Path, on_event: EventSink = ignore_event) -> list[keras.callbacks.Callback]:
    staging = Path(checkpoint_dir) / STAGING
    staging.mkdir(parents=True, exist_ok=True)
    return [
        keras.callbacks.ModelCheckpoint(
            checkpoint_path(staging, BEST), monitor="val_accuracy", mode="max", save_best_only=True
        ),
        keras.callbacks.ModelCheckpoint(checkpoint_path(staging, LAST)),
        PublishCheckpoints(checkpoint_dir, on_event),
    ]
