"""TrainingJob: feature extraction, then optional fine-tuning, on one epoch timeline.

image folder -> tf.data -> augmentation -> frozen pretrained base -> pooling -> softmax,
trained with Keras ``fit`` and checkpointed every epoch. Progress goes to ``on_event``
as plain dataclasses; ``request_stop()`` ends the run after the current batch, with the
checkpoints written. A stopped or crashed run resumes from its folder.
"""

from __future__ import annotations

import json
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
    BatchEnd, EpochEnd, Estimate, EventSink, Failed, Finished, Message, PhaseStarted, Progress, ignore_event,
)
from desktop_app.core.fileio import copy_atomic, write_json_atomic, write_text_atomic
from desktop_app.core.model_builder import (
    ModelSpec, build_classifier, compile_classifier, param_counts, summarize, unfreeze_top,
)
from desktop_app.core.pipeline import make_dataset
from desktop_app.core.training_config import (
    CONFIG_FILE, FEATURE_EXTRACTION, FINE_TUNING, HISTORY_FILE, METRIC_KEYS, TrainingConfig, TrainingResult,
    fast_mode_decision, history_at_checkpoint, load_config, load_history,
)
from desktop_app.core.validation import ValidationStopped, validate_index

__all__ = ["TrainingConfig", "TrainingJob", "TrainingResult", "FEATURE_EXTRACTION", "FINE_TUNING"]

PREFLIGHT_BATCHES = 2


@dataclass(frozen=True)
class _Phase:
    name: str
    first_epoch: int  # 0-based, as Keras' initial_epoch
    last_epoch: int
    learning_rate: float
    unfreeze_layers: int = 0


class _ProgressCallback(keras.callbacks.Callback):
    """Turns Keras' callback protocol into core events, records history rows, honours Stop."""

    def __init__(self, job: TrainingJob, phase: _Phase):
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

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        self.batch_times.append(now - self.batch_started)
        self.batch_started = now
        batches = (self.params or {}).get("steps") or self.job.batches_per_epoch
        left = self._seconds_left(batch + 1, batches)
        self.job.on_event(BatchEnd(self.epoch, batch + 1, batches, _floats(logs), left))
        if left is not None and not self.estimated:
            self.estimated = True
            self.job.on_event(Estimate(self._seconds_per_batch() * batches, left))
        if self.job.stop_requested:
            self.model.stop_training = True

    def on_test_batch_end(self, batch, logs=None):
        if self.job.stop_requested:  # don't sit through the whole validation pass
            self.model.stop_evaluating = True

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
        metrics = _floats(logs)
        seconds = time.perf_counter() - self.epoch_started
        self.epoch_times.append(seconds)
        row = {"epoch": epoch + 1, "phase": self.phase.name, **{k: metrics.get(k) for k in METRIC_KEYS},
               "seconds": round(seconds, 3), "learning_rate": self.phase.learning_rate}
        if self.phase.name == FINE_TUNING:
            row["unfreeze_layers"] = self.phase.unfreeze_layers
        if self.model.stop_training:
            row["stopped"] = True  # cut short by Stop (or by a NaN loss)
        if not checkpoints.finite_loss(logs):
            row["nan"] = True
            row.update({k: None for k in METRIC_KEYS if row[k] is not None and not math.isfinite(row[k])})
        self.job.history.append(row)
        self.job.on_event(EpochEnd(epoch + 1, self.phase.last_epoch, self.phase.name, metrics, row["seconds"]))
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

        ``changes`` may extend it, e.g. ``training_config.plan_fine_tuning(...)``.
        """
        run_dir = Path(run_dir)
        config = replace(load_config(run_dir), out=run_dir, **changes)
        last = checkpoints.checkpoint_path(run_dir / "checkpoints", checkpoints.LAST)
        try:
            meta = json.loads(last.with_suffix(".json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            meta = None
        if not last.exists() or meta is None:
            raise UserError(f"{run_dir} has no checkpoint to resume from yet.")
        job = cls(config, on_event)
        job.history = history_at_checkpoint(load_history(run_dir), meta.get("row"))
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
            where = e.filename or self.run_dir
            message = (f"Could not write {where} ({e.strerror or e}). The run stopped; checkpoints saved "
                       "before this are intact. Free some disk space or choose another output folder.")
        self.on_event(Failed(message))
        raise UserError(message)

    def _run(self, index: DatasetIndex | None) -> TrainingResult:
        config = self.config
        keras.utils.set_random_seed(config.seed)
        index = index if index is not None else scan_folder(config.data)
        # Train on exactly the images that decode; bad files are reported, never fatal.
        try:
            index = validate_index(index, should_stop=lambda: self.stop_requested)
        except ValidationStopped:
            self.on_event(Message("Stopped before training began."))
            return TrainingResult(self.run_dir, self.history, {}, True)
        if index.bad_files:
            self.on_event(Message(f"Left out {len(index.bad_files)} file(s) that are not usable images."))
        split = make_split(index, config.subset_percent, config.val_fraction, config.seed)
        self._prepare_run_dir(index)
        self.batches_per_epoch = math.ceil(len(split.train) / config.batch_size)

        model = self._load_or_build(split)
        done = len(self.history)
        if done < config.epochs and not self.stop_requested:
            phase = _Phase(FEATURE_EXTRACTION, done, config.epochs, config.learning_rate)
            if self.fast_mode:
                self._fit_fast(model, split, phase)
            else:
                self._fit(model, split, phase)
        done = len(self.history)
        if config.fine_tune_epochs and done < config.total_epochs and not self._aborted():
            phase = _Phase(FINE_TUNING, done, config.total_epochs, config.fine_tune_lr, config.unfreeze_layers)
            applied = [row.get("unfreeze_layers") for row in self.history if row.get("phase") == FINE_TUNING]
            # A resumed fine-tuning keeps its optimizer state, unless the user asks for another cut.
            continues = bool(applied) and applied[-1] == config.unfreeze_layers
            if not continues:
                unfreeze_top(model, config.unfreeze_layers)
                compile_classifier(model, config.fine_tune_lr, config.optimizer)
            self._fit(model, split, phase, continues=continues)
        return self._finish(split)

    def _aborted(self) -> bool:
        return self.stop_requested or any(row.get("nan") for row in self.history)

    def _load_or_build(self, split: Split):
        config = self.config
        if self.history:
            self.on_event(Message(f"Resuming after epoch {len(self.history)}..."))
            return keras.saving.load_model(checkpoints.checkpoint_path(self.run_dir / "checkpoints",
                                                                       checkpoints.LAST))
        spec = ModelSpec(
            n_classes=len(split.classes), backbone=config.backbone, alpha=config.alpha, img_size=config.img_size,
            weights=config.weights, augmentation=config.augmentation, head=config.head, seed=config.seed,
        )
        self.on_event(Message(f"Building {config.backbone} for {len(split.classes)} classes..."))
        model = build_classifier(spec)
        compile_classifier(model, config.learning_rate, config.optimizer)
        write_text_atomic(self.run_dir / "summary.txt", summarize(model).to_text())
        return model

    def _epoch_row(self, epoch: int) -> dict | None:
        return next((row for row in reversed(self.history) if row["epoch"] == epoch), None)

    def _callbacks(self, phase: _Phase, save_model=None) -> list[keras.callbacks.Callback]:
        best_so_far = max((row["val_accuracy"] for row in self.history
                           if row.get("val_accuracy") is not None and not row.get("stopped")), default=None)
        return [
            _ProgressCallback(self, phase),
            keras.callbacks.TerminateOnNaN(),
            *checkpoints.checkpoint_callbacks(self.run_dir / "checkpoints", self.on_event, best_so_far,
                                              save_model, self._epoch_row),
            # history.json is written only after last.keras is in place (a resume trusts the checkpoint).
            keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: self.write_history()),
        ]

    def _phase_started(self, model, phase: _Phase, detail: str, continues: bool = False) -> None:
        self.on_event(PhaseStarted(phase.name, phase.first_epoch + 1, phase.last_epoch, phase.learning_rate,
                                   param_counts(model).trainable, detail, continues))

    def _preflight(self, model, dataset, batches: int, val_batches: float) -> None:
        """Time a few forward passes before the first epoch: a first estimate of the run."""
        times = []
        for images, _ in dataset.take(PREFLIGHT_BATCHES + 1):
            started = time.perf_counter()
            model.predict_on_batch(images)
            times.append(time.perf_counter() - started)
        if len(times) > 1:
            # Training a batch costs about a forward pass with the base frozen; validation is extra.
            per_epoch = float(np.median(times[1:])) * (batches + val_batches)
            self.on_event(Estimate(per_epoch, per_epoch * (self.config.total_epochs - len(self.history))))

    def _fit(self, model, split: Split, phase: _Phase, continues: bool = False) -> None:
        config = self.config
        detail = f"top {phase.unfreeze_layers} layers unfrozen" if phase.name == FINE_TUNING else ""
        self._phase_started(model, phase, detail, continues)
        n = len(split.classes)
        train_ds = make_dataset(split.train, n, config.img_size, config.batch_size, shuffle=True, seed=config.seed)
        val_ds = make_dataset(split.val, n, config.img_size, config.batch_size)
        if not self.history:
            self._preflight(model, train_ds, self.batches_per_epoch, len(split.val) / config.batch_size)
        with warnings.catch_warnings():
            # ignore_errors() leaves the epoch length unknown, and Keras warns when
            # it discovers the end of the data; that end is expected here.
            warnings.filterwarnings("ignore", message="Your input ran out of data")
            model.fit(train_ds, validation_data=val_ds, initial_epoch=phase.first_epoch, epochs=phase.last_epoch,
                      callbacks=self._callbacks(phase), shuffle=False, verbose=0)
        self._check_nan()

    def _fit_fast(self, model, split: Split, phase: _Phase) -> None:
        config = self.config
        self.on_event(Message(self.fast_mode_reason))
        identity = {
            "backbone": config.backbone, "alpha": config.alpha, "img_size": config.img_size,
            "weights": features.weights_identity(config.weights),
            "seed": config.seed if config.weights is None else None, "pooling": config.head.pooling,
        }
        total = len(split.train) + len(split.val)
        started = time.perf_counter()
        estimated = False

        def progress(name: str, offset: int):
            def report(done: int, _count: int) -> None:
                nonlocal estimated
                self.on_event(Progress(f"Looking at the {name} images once", offset + done, total))
                if offset + done >= 2 * config.batch_size and not estimated:
                    # The base's one look at every image is most of a fast run's time.
                    estimated = True
                    rate = (time.perf_counter() - started) / (offset + done)
                    self.on_event(Estimate(0.0, rate * (total - offset - done)))
            return report

        cached = []
        for name, files, offset in (("training", split.train, 0), ("validation", split.val, len(split.train))):
            result = features.compute_features(
                model, files, len(split.classes), config.img_size, config.batch_size, identity,
                report=progress(name, offset), should_stop=lambda: self.stop_requested,
            )
            if result is None:
                return
            cached.append(result)
        (train_x, train_y), (val_x, val_y) = cached
        head = features.head_model(model)
        # One optimizer for both: the full model's checkpoints then carry its state.
        compile_classifier(head, config.learning_rate, model.optimizer)
        self._phase_started(model, phase, "fast mode")
        # Checkpoints hold the whole classifier, not the head that fit() sees.
        head.fit(train_x, train_y, validation_data=(val_x, val_y), batch_size=config.batch_size,
                 initial_epoch=phase.first_epoch, epochs=phase.last_epoch,
                 callbacks=self._callbacks(phase, save_model=model), shuffle=True, verbose=0)
        self._check_nan()

    def _check_nan(self) -> None:
        if self.history and self.history[-1].get("nan"):
            raise UserError(
                "The loss became NaN (not a number): training went unstable. Try a learning rate 10 times "
                "lower; the checkpoints from before this happened are intact."
            )

    def _prepare_run_dir(self, index: DatasetIndex) -> None:
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            index.write_labels(self.run_dir)
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
        stopped = self._aborted() or len(self.history) < self.config.total_epochs
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
