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
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from desktop_app.core.data.pipeline import make_dataset
from desktop_app.core.data.scan import DatasetIndex, scan_folder
from desktop_app.core.data.split import Split, make_split
from desktop_app.core.data.validate import ValidationStopped, validate_index
from desktop_app.core.errors import UserError
from desktop_app.core.events import (
    Estimate, EventSink, Failed, Finished, Message, PhaseStarted, Progress, Step, ignore_event,
)
from desktop_app.core.model.builder import build_classifier, compile_classifier, param_counts, summarize, unfreeze_top
from desktop_app.core.runs import BEST, LAST, RunFolder
from desktop_app.core.session import FEATURE_EXTRACTION, FINE_TUNING, TrainingConfig
from desktop_app.core.train import checkpoints, embeddings
from desktop_app.core.train.callbacks import Phase, ProgressCallback
from desktop_app.core.train.plan import TrainingResult, fast_mode_decision, history_at_checkpoint

__all__ = ["TrainingConfig", "TrainingJob", "TrainingResult", "FEATURE_EXTRACTION", "FINE_TUNING"]

PREFLIGHT_BATCHES = 2


class TrainingJob:
    def __init__(self, config: TrainingConfig, on_event: EventSink = ignore_event):
        self.config = config
        self.on_event = on_event
        self.run_dir = Path(config.out)
        self.run_folder = RunFolder(self.run_dir)
        self.history: list[dict] = []
        self.batches_per_epoch: int | None = None
        self.fast_mode, self.fast_mode_reason = fast_mode_decision(config)
        self._stop = threading.Event()

    @classmethod
    def resume(cls, run_dir: Path, on_event: EventSink = ignore_event, **changes) -> TrainingJob:
        """Continue a stopped or crashed run from its last checkpoint.

        ``changes`` may extend it, e.g. ``training_config.plan_fine_tuning(...)``.
        """
        run = RunFolder(run_dir)
        config = run.read_config()
        if changes:
            config = config.with_changes("training", **changes)
        meta = run.read_checkpoint_meta(LAST)
        if not run.checkpoint_path(LAST).exists() or meta is None:
            raise UserError(f"{run.path} has no checkpoint to resume from yet.")
        job = cls(config, on_event)
        job.history = history_at_checkpoint(run.read_history(), meta.get("row"))
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
            message = (f"The computer ran out of memory with batches of {self.config.training.batch_size} images. "
                       "Try a smaller batch size or smaller images; the checkpoints saved so far are intact.")
        except OSError as e:
            where = e.filename or self.run_dir
            message = (f"Could not write {where} ({e.strerror or e}). The run stopped; checkpoints saved "
                       "before this are intact. Free some disk space or choose another output folder.")
        self.on_event(Failed(message))
        raise UserError(message)

    def _run(self, index: DatasetIndex | None) -> TrainingResult:
        config = self.config
        settings = config.training
        keras.utils.set_random_seed(config.split.seed)
        index = index if index is not None else scan_folder(config.data)
        # Train on exactly the images that decode; bad files are reported, never fatal.
        try:
            index = validate_index(index, should_stop=lambda: self.stop_requested)
        except ValidationStopped:
            self.on_event(Message("Stopped before training began."))
            return TrainingResult(self.run_dir, self.history, {}, True)
        if index.bad_files:
            self.on_event(Message(f"Left out {len(index.bad_files)} file(s) that are not usable images."))
        split = make_split(index, config.split.subset_percent, config.split.val_fraction, config.split.seed)
        self._prepare_run_dir(index)
        self.batches_per_epoch = math.ceil(len(split.train) / settings.batch_size)

        model = self._load_or_build(split)
        done = len(self.history)
        if done < settings.epochs and not self.stop_requested:
            phase = Phase(FEATURE_EXTRACTION, done, settings.epochs, settings.learning_rate)
            if self.fast_mode:
                self._fit_fast(model, split, phase)
            else:
                self._fit(model, split, phase)
        done = len(self.history)
        if settings.planned_fine_tune_epochs and done < settings.total_epochs and not self._aborted():
            phase = Phase(FINE_TUNING, done, settings.total_epochs, settings.fine_tune_lr, settings.unfreeze_layers)
            applied = [row.get("unfreeze_layers") for row in self.history if row.get("phase") == FINE_TUNING]
            # A resumed fine-tuning keeps its optimizer state, unless the user asks for another cut.
            continues = bool(applied) and applied[-1] == settings.unfreeze_layers
            if not continues:
                unfreeze_top(model, settings.unfreeze_layers)
                self._compile(model, settings.fine_tune_lr)
            self._fit(model, split, phase, continues=continues)
        return self._finish(split)

    def _aborted(self) -> bool:
        return self.stop_requested or any(row.get("nan") for row in self.history)

    def _load_or_build(self, split: Split):
        config = self.config
        if self.history:
            self.on_event(Message(f"Resuming after epoch {len(self.history)}..."))
            return keras.saving.load_model(self.run_folder.checkpoint_path(LAST))
        self.on_event(Message(f"Building {config.model.backbone} for {len(split.classes)} classes..."))
        model = build_classifier(config.model, len(split.classes), config.augmentation, seed=config.split.seed)
        self._compile(model, config.training.learning_rate)
        self.run_folder.write_summary(summarize(model).to_text())
        return model

    def _compile(self, model, learning_rate: float, optimizer=None) -> None:
        """Every compile of the run: the run's optimizer (or ``optimizer``, to share one) and loss."""
        compile_classifier(model, learning_rate, optimizer or self.config.training.optimizer,
                           label_smoothing=self.config.training.label_smoothing)

    def _epoch_row(self, epoch: int) -> dict | None:
        return next((row for row in reversed(self.history) if row["epoch"] == epoch), None)

    def _callbacks(self, phase: Phase, save_model=None) -> list[keras.callbacks.Callback]:
        best_so_far = max((row["val_accuracy"] for row in self.history
                           if row.get("val_accuracy") is not None and not row.get("stopped")), default=None)
        return [
            ProgressCallback(self, phase),
            keras.callbacks.TerminateOnNaN(),
            *checkpoints.checkpoint_callbacks(self.run_folder, self.on_event, best_so_far, save_model,
                                              self._epoch_row),
            # history.json is written only after last.keras is in place (a resume trusts the checkpoint).
            keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: self.write_history()),
        ]

    def _phase_started(self, model, phase: Phase, detail: str, continues: bool = False) -> None:
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
            self.on_event(Estimate(per_epoch, per_epoch * (self.config.training.total_epochs - len(self.history))))

    def _fit(self, model, split: Split, phase: Phase, continues: bool = False) -> None:
        config = self.config
        size, batch = config.model.img_size, config.training.batch_size
        detail = f"top {phase.unfreeze_layers} layers unfrozen" if phase.name == FINE_TUNING else ""
        self._phase_started(model, phase, detail, continues)
        n = len(split.classes)
        train_ds = make_dataset(split.train, n, size, batch, shuffle=True, seed=config.split.seed)
        val_ds = make_dataset(split.val, n, size, batch)
        if not self.history:
            self._preflight(model, train_ds, self.batches_per_epoch, len(split.val) / batch)
        with warnings.catch_warnings():
            # ignore_errors() leaves the epoch length unknown, and Keras warns when
            # it discovers the end of the data; that end is expected here.
            warnings.filterwarnings("ignore", message="Your input ran out of data")
            model.fit(train_ds, validation_data=val_ds, initial_epoch=phase.first_epoch, epochs=phase.last_epoch,
                      callbacks=self._callbacks(phase), shuffle=False, verbose=0)
        self._check_nan()

    def _fit_fast(self, model, split: Split, phase: Phase) -> None:
        config = self.config
        m, batch = config.model, config.training.batch_size
        self.on_event(Message(self.fast_mode_reason))
        identity = {
            "backbone": m.backbone, "alpha": m.alpha, "img_size": m.img_size,
            "weights": embeddings.weights_identity(m.weights),
            "seed": config.split.seed if m.weights is None else None, "pooling": m.pooling,
        }
        total = len(split.train) + len(split.val)
        started = time.perf_counter()
        estimated = False

        def progress(step: Step, offset: int):
            def report(done: int, _count: int) -> None:
                nonlocal estimated
                self.on_event(Progress(step, offset + done, total))
                if offset + done >= 2 * batch and not estimated:
                    # The base's one look at every image is most of a fast run's time.
                    estimated = True
                    rate = (time.perf_counter() - started) / (offset + done)
                    self.on_event(Estimate(0.0, rate * (total - offset - done)))
            return report

        cached = []
        for step, files, offset in ((Step.LOOKING_AT_TRAINING, split.train, 0),
                                    (Step.LOOKING_AT_VALIDATION, split.val, len(split.train))):
            result = embeddings.compute_features(
                model, files, len(split.classes), m.img_size, batch, identity,
                report=progress(step, offset), should_stop=lambda: self.stop_requested,
            )
            if result is None:
                return
            cached.append(result)
        (train_x, train_y), (val_x, val_y) = cached
        head = embeddings.head_model(model)
        # One optimizer for both: the full model's checkpoints then carry its state.
        self._compile(head, config.training.learning_rate, model.optimizer)
        self._phase_started(model, phase, "fast mode")
        # Checkpoints hold the whole classifier, not the head that fit() sees.
        head.fit(train_x, train_y, validation_data=(val_x, val_y), batch_size=batch,
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
        run = self.run_folder
        run.create()
        try:
            run.write_labels(index.classes)
            run.write_config(self.config)
        except OSError as e:
            raise UserError(f"Cannot write to the output folder {self.run_dir}: {e.strerror}.") from None

    def write_history(self) -> None:
        self.run_folder.write_history(self.history)

    def _finish(self, split: Split) -> TrainingResult:
        self.write_history()
        metrics = run_metrics(self.history, split)
        self.run_folder.write_metrics(metrics)
        self.run_folder.publish_model(BEST)
        stopped = self._aborted() or len(self.history) < self.config.training.total_epochs
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
