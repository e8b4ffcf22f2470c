"""TrainingJob: feature extraction, then optional fine-tuning, on one epoch timeline.

image folder -> tf.data -> augmentation -> frozen pretrained base -> pooling -> softmax,
trained with Keras ``fit`` and checkpointed every epoch. Progress goes to ``on_event``
as plain dataclasses; ``request_stop()`` ends the run after the current batch, with the
checkpoints written. A stopped or crashed run resumes from its folder.
"""

from __future__ import annotations

import math
import threading
import time
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from desktop_app.core import checkpoints, features
from desktop_app.core.dataset import DatasetIndex, Split, make_split, scan_folder
from desktop_app.core.errors import UserError
from desktop_app.core.events import (
    BatchEnd, Estimate, EpochEnd, EventSink, Failed, Finished, Message, PhaseStarted, Progress, ignore_event,
)
from desktop_app.core.fileio import copy_atomic, write_json_atomic, write_text_atomic
from desktop_app.core.model_builder import (
    ModelSpec, build_classifier, compile_classifier, param_counts, summarize, unfreeze_top,
)
from desktop_app.core.pipeline import make_dataset
from desktop_app.core.training_config import (
    CONFIG_FILE, FEATURE_EXTRACTION, FINE_TUNING, HISTORY_FILE, METRIC_KEYS, TrainingConfig, fast_mode_decision,
    load_config, load_history,
)
from desktop_app.core.validation import validate_index

__all__ = ["TrainingConfig", "TrainingJob", "TrainingResult", "FEATURE_EXTRACTION", "FINE_TUNING"]


@dataclass
class TrainingResult:
    run_dir: Path
    history: list[dict]
    metrics: dict
    stopped_early: bool


class _ProgressCallback(keras.callbacks.Callback):
    """Turns Keras' callback protocol into core events and honours stop requests."""

    def __init__(self, job: TrainingJob, phase: str, last_epoch: int):
        super().__init__()
        self.job, self.phase, self.last_epoch = job, phase, last_epoch
        self.epoch = 0
        self.epoch_started = 0.0
        self.batch_times: list[float] = []
        self.estimated = False

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch + 1
        self.epoch_started = self.batch_started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        self.batch_times.append(now - self.batch_started)
        self.batch_started = now
        batches = self.params.get("steps") if self.params else None
        batches = batches or self.job.batches_per_epoch
        left = self._seconds_left(batch + 1, batches)
        self.job.on_event(BatchEnd(self.epoch, batch + 1, batches, _floats(logs), left))
        if left is not None and not self.estimated:
            self.estimated = True
            self.job.on_event(Estimate(self._seconds_per_batch() * batches, left))
        if self.job.stop_requested:
            self.model.stop_training = True

    def _seconds_per_batch(self) -> float:
        # The first batch includes tracing the graph; leave it out once there are others.
        timed = self.batch_times[1:] or self.batch_times
        return float(np.median(timed[-20:]))

    def _seconds_left(self, batch: int, batches: int | None) -> float | None:
        if not batches or len(self.batch_times) < 3:
            return None
        remaining = (batches - batch) + batches * (self.job.config.total_epochs - self.epoch)
        return remaining * self._seconds_per_batch()

    def on_epoch_end(self, epoch, logs=None):
        metrics = _floats(logs)
        row = {"epoch": epoch + 1, "phase": self.phase, **{k: metrics.get(k) for k in METRIC_KEYS},
               "seconds": round(time.perf_counter() - self.epoch_started, 3)}
        if self.model.stop_training:
            row["stopped"] = True  # cut short by Stop (or by a NaN loss)
        if not checkpoints.finite_loss(logs):
            row["nan"] = True
            row.update({k: None for k in METRIC_KEYS if row[k] is not None and not math.isfinite(row[k])})
        self.job.history.append(row)
        self.job.write_history()
        self.job.on_event(EpochEnd(epoch + 1, self.last_epoch, self.phase, metrics, row["seconds"]))
        if self.job.stop_requested:  # asked between epochs: don't start another
            self.model.stop_training = True


def _floats(logs) -> dict[str, float]:
    return {k: float(v) for k, v in (logs or {}).items()}


class TrainingJob:
    def __init__(self, config: TrainingConfig, on_event: EventSink = ignore_event):
        self.config = config
        self.on_event = on_event
        self.run_dir = Path(config.out)
        self.history: list[dict] = []
        self.batches_per_epoch: int | None = None
        self.fast_mode, self.fast_mode_reason = fast_mode_decision(config)
        self._stop = threading.Event()

    @classmethod
    def resume(cls, run_dir: Path, on_event: EventSink = ignore_event, **changes) -> TrainingJob:
        """Continue a stopped or crashed run from its last checkpoint.

        ``changes`` may extend it, e.g. ``fine_tune_epochs=5`` after feature extraction.
        """
        config = replace(load_config(run_dir), out=Path(run_dir), **changes)
        if not checkpoints.checkpoint_path(Path(run_dir) / "checkpoints", checkpoints.LAST).exists():
            raise UserError(f"{run_dir} has no checkpoint to resume from yet.")
        job = cls(config, on_event)
        job.history = load_history(run_dir)
        return job

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def request_stop(self) -> None:
        """Thread-safe: the run ends after the current batch, checkpoints intact."""
        self._stop.set()

    def run(self, index: DatasetIndex | None = None) -> TrainingResult:
        """Train; ``index`` is the scanned ``config.data`` when the caller has it already."""
        try:
            return self._run(index)
        except UserError as e:
            self.on_event(Failed(str(e)))
            raise
        except tf.errors.ResourceExhaustedError:
            message = (f"The computer ran out of memory with batches of {self.config.batch_size} images. "
                       "Try a smaller batch size or smaller images; the checkpoints saved so far are intact.")
        except OSError as e:
            message = (f"Could not write to {self.run_dir} ({e.strerror or e}). The run stopped; checkpoints "
                       "saved before this are intact. Free some disk space or choose another output folder.")
        self.on_event(Failed(message))
        raise UserError(message)

    def _run(self, index: DatasetIndex | None) -> TrainingResult:
        config = self.config
        keras.utils.set_random_seed(config.seed)
        index = index if index is not None else scan_folder(config.data)
        # Train on exactly the images that decode; bad files are reported, never fatal.
        index = validate_index(index)
        if index.bad_files:
            self.on_event(Message(f"Left out {len(index.bad_files)} file(s) that are not usable images."))
        split = make_split(index, config.subset_percent, config.val_fraction, config.seed)
        self._prepare_run_dir(split)
        self.batches_per_epoch = math.ceil(len(split.train) / config.batch_size)

        resuming = bool(self.history)
        model = self._load_or_build(split, resuming)
        self.val_ds = make_dataset(split.val, len(split.classes), config.img_size, config.batch_size)

        done = len(self.history)
        if done < config.epochs and not self.stop_requested:
            if self.fast_mode:
                self._fit_fast(model, split, done)
            else:
                self._fit(model, split, FEATURE_EXTRACTION, done, config.epochs, config.learning_rate)
        done = len(self.history)
        if config.fine_tune_epochs and done < config.total_epochs and not self._aborted():
            in_fine_tuning = any(row["phase"] == FINE_TUNING for row in self.history)
            if not in_fine_tuning:  # a resumed fine-tuning keeps its optimizer state
                unfreeze_top(model, config.unfreeze_layers)
                compile_classifier(model, config.fine_tune_lr, config.optimizer)
            self._fit(model, split, FINE_TUNING, done, config.total_epochs, config.fine_tune_lr,
                      detail=f"top {config.unfreeze_layers} layers of the base unfrozen")
        return self._finish(split)

    def _aborted(self) -> bool:
        return self.stop_requested or any(row.get("nan") for row in self.history)

    def _load_or_build(self, split: Split, resuming: bool):
        config = self.config
        if resuming:
            self.on_event(Message(f"Resuming after epoch {len(self.history)}..."))
            path = checkpoints.checkpoint_path(self.run_dir / "checkpoints", checkpoints.LAST)
            return keras.saving.load_model(path)
        spec = ModelSpec(
            n_classes=len(split.classes), backbone=config.backbone, alpha=config.alpha, img_size=config.img_size,
            weights=config.weights, augmentation=config.augmentation, head=config.head, seed=config.seed,
        )
        self.on_event(Message(f"Building {config.backbone} for {len(split.classes)} classes..."))
        model = build_classifier(spec)
        compile_classifier(model, config.learning_rate, config.optimizer)
        write_text_atomic(self.run_dir / "summary.txt", summarize(model).to_text())
        return model

    def _callbacks(self, phase: str, last_epoch: int, save_model=None) -> list[keras.callbacks.Callback]:
        best_so_far = max((row["val_accuracy"] for row in self.history if row.get("val_accuracy") is not None),
                          default=None)
        return [
            _ProgressCallback(self, phase, last_epoch),
            keras.callbacks.TerminateOnNaN(),
            *checkpoints.checkpoint_callbacks(self.run_dir / "checkpoints", self.on_event, best_so_far, save_model),
        ]

    def _phase_started(self, model, phase: str, first: int, last: int, lr: float, detail: str = "") -> None:
        self.on_event(PhaseStarted(phase, first + 1, last, lr, param_counts(model).trainable, detail))

    def _fit(self, model, split: Split, phase: str, first: int, last: int, lr: float, detail: str = "") -> None:
        config = self.config
        self._phase_started(model, phase, first, last, lr, detail)
        train_ds = make_dataset(split.train, len(split.classes), config.img_size, config.batch_size,
                                shuffle=True, seed=config.seed)
        with warnings.catch_warnings():
            # ignore_errors() leaves the epoch length unknown, and Keras warns when
            # it discovers the end of the data; that end is expected here.
            warnings.filterwarnings("ignore", message="Your input ran out of data")
            model.fit(train_ds, validation_data=self.val_ds, initial_epoch=first, epochs=last,
                      callbacks=self._callbacks(phase, last), shuffle=False, verbose=0)
        self._check_nan()

    def _fit_fast(self, model, split: Split, first: int) -> None:
        config = self.config
        self.on_event(Message(self.fast_mode_reason))
        identity = {
            "backbone": config.backbone, "alpha": config.alpha, "img_size": config.img_size,
            "weights": features.weights_identity(config.weights), "seed": config.seed if config.weights is None else None,
            "pooling": config.head.pooling,
        }
        cached = []
        for name, files in (("training", split.train), ("validation", split.val)):
            result = features.compute_features(
                model, files, len(split.classes), config.img_size, config.batch_size, identity,
                report=lambda done, total, name=name: self.on_event(
                    Progress(f"Looking at the {name} images once", done, total)),
                should_stop=lambda: self.stop_requested,
            )
            if result is None:
                return
            cached.append(result)
        (train_x, train_y), (val_x, val_y) = cached
        head = features.head_model(model)
        # One optimizer for both: the full model's checkpoints then carry its state.
        compile_classifier(head, config.learning_rate, model.optimizer)
        self._phase_started(model, FEATURE_EXTRACTION, first, config.epochs, config.learning_rate, "fast mode")
        # Checkpoints hold the whole classifier, not the head that fit() sees.
        callbacks = self._callbacks(FEATURE_EXTRACTION, config.epochs, save_model=model)
        head.fit(train_x, train_y, validation_data=(val_x, val_y), batch_size=config.batch_size,
                 initial_epoch=first, epochs=config.epochs, callbacks=callbacks, shuffle=True, verbose=0)
        self._check_nan()

    def _check_nan(self) -> None:
        if self.history and self.history[-1].get("nan"):
            raise UserError(
                "The loss became NaN (not a number): training went unstable. Try a learning rate 10 times "
                "lower; the checkpoints from before this happened are intact."
            )

    def _prepare_run_dir(self, split: Split) -> None:
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            write_text_atomic(self.run_dir / "labels.txt", "\n".join(split.classes) + "\n")
            write_json_atomic(self.run_dir / CONFIG_FILE, self.config.to_dict())
        except OSError as e:
            raise UserError(f"Cannot write to the output folder {self.run_dir}: {e.strerror}.") from None

    def write_history(self) -> None:
        write_json_atomic(self.run_dir / HISTORY_FILE, self.history)

    def _finish(self, split: Split) -> TrainingResult:
        self.write_history()
        metrics = run_metrics(self.history, split)
        write_json_atomic(self.run_dir / "metrics.json", metrics)
        best = checkpoints.checkpoint_path(self.run_dir / "checkpoints", checkpoints.BEST)
        if best.exists():
            copy_atomic(best, self.run_dir / "model.keras")
        stopped = len(self.history) < self.config.total_epochs or any(r.get("stopped") for r in self.history)
        self.on_event(Finished(self.run_dir, metrics, stopped))
        return TrainingResult(self.run_dir, self.history, metrics, stopped)


def run_metrics(history: list[dict], split: Split) -> dict:
    counts = split.counts()
    metrics: dict = {
        "classes": split.classes,
        "num_train_images": len(split.train),
        "num_val_images": len(split.val),
        "train_images_per_class": counts["train"],
        "val_images_per_class": counts["val"],
        "epochs_completed": len(history),
    }
    scored = [row for row in history if row.get("val_accuracy") is not None and not row.get("nan")]
    if scored:
        final = scored[-1]
        best = max(scored, key=lambda row: row["val_accuracy"])
        metrics.update(
            final_val_accuracy=final["val_accuracy"],
            final_val_loss=final["val_loss"],
            best_val_accuracy=best["val_accuracy"],
            best_val_loss=min(row["val_loss"] for row in scored),
            best_epoch=best["epoch"],
        )
    return metrics
