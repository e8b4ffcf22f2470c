"""TrainingJob: the feature-extraction recipe of the reference notebook, headless.

image folder -> tf.data -> augmentation -> frozen pretrained base -> pooling -> softmax,
trained with Adam and categorical cross-entropy, checkpointed every epoch. Progress goes
to ``on_event``; ``request_stop()`` ends the run after the current batch.
"""

from __future__ import annotations

import threading
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import keras

from desktop_app.core import checkpoints
from desktop_app.core.augmentation import AugmentationSpec
from desktop_app.core.backbones import DEFAULT_BACKBONE
from desktop_app.core.dataset import DatasetIndex, Split, make_split, scan_folder
from desktop_app.core.errors import UserError
from desktop_app.core.events import BatchEnd, EpochEnd, EventSink, Message, PhaseStarted, ignore_event
from desktop_app.core.fileio import copy_atomic, write_json_atomic, write_text_atomic
from desktop_app.core.model_builder import ModelSpec, build_classifier, compile_classifier, param_counts, summarize
from desktop_app.core.pipeline import make_dataset

FEATURE_EXTRACTION = "feature_extraction"
METRIC_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy")


@dataclass(frozen=True)
class TrainingConfig:
    data: Path
    out: Path
    backbone: str = DEFAULT_BACKBONE
    alpha: float | None = None
    weights: str | None = "imagenet"
    img_size: int = 224
    epochs: int = 5
    batch_size: int = 32
    learning_rate: float = 1e-3
    subset_percent: float = 100.0
    val_fraction: float = 0.2
    seed: int = 42
    augmentation: AugmentationSpec = field(default_factory=lambda: AugmentationSpec.preset("light"))

    def to_dict(self) -> dict:
        data = asdict(self)
        data.update(data=str(self.data), out=str(self.out), augmentation=self.augmentation.to_dict())
        return data


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

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch + 1
        self.epoch_started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        batches = self.params.get("steps") if self.params else None
        self.job.on_event(BatchEnd(self.epoch, batch + 1, batches, _floats(logs)))
        if self.job.stop_requested:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        metrics = _floats(logs)
        row = {"epoch": epoch + 1, "phase": self.phase, **{k: metrics.get(k) for k in METRIC_KEYS}}
        self.job.history.append(row)
        seconds = time.perf_counter() - self.epoch_started
        self.job.on_event(EpochEnd(epoch + 1, self.last_epoch, self.phase, metrics, seconds))
        self.job.write_history()


def _floats(logs) -> dict[str, float]:
    return {k: float(v) for k, v in (logs or {}).items()}


class TrainingJob:
    def __init__(self, config: TrainingConfig, on_event: EventSink = ignore_event):
        self.config = config
        self.on_event = on_event
        self.history: list[dict] = []
        self._stop = threading.Event()
        self.run_dir = Path(config.out)

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def request_stop(self) -> None:
        """Thread-safe: the run ends after the current batch, checkpoints intact."""
        self._stop.set()

    def run(self, index: DatasetIndex | None = None) -> TrainingResult:
        """Train; ``index`` is the scanned ``config.data`` when the caller has it already."""
        config = self.config
        keras.utils.set_random_seed(config.seed)
        index = index if index is not None else scan_folder(config.data)
        split = make_split(index, config.subset_percent, config.val_fraction, config.seed)
        self._prepare_run_dir(split)

        spec = ModelSpec(
            n_classes=len(split.classes), backbone=config.backbone, alpha=config.alpha,
            img_size=config.img_size, weights=config.weights, augmentation=config.augmentation,
            seed=config.seed,
        )
        self.on_event(Message(f"Building {config.backbone} for {len(split.classes)} classes..."))
        model = build_classifier(spec)
        compile_classifier(model, config.learning_rate)
        write_text_atomic(self.run_dir / "summary.txt", summarize(model).to_text())

        train_ds = make_dataset(split.train, len(split.classes), config.img_size, config.batch_size,
                                shuffle=True, seed=config.seed)
        val_ds = make_dataset(split.val, len(split.classes), config.img_size, config.batch_size)
        self.on_event(PhaseStarted(FEATURE_EXTRACTION, 1, config.epochs, config.learning_rate,
                                   param_counts(model).trainable))
        callbacks = [
            _ProgressCallback(self, FEATURE_EXTRACTION, config.epochs),
            *checkpoints.checkpoint_callbacks(self.run_dir / "checkpoints", self.on_event),
        ]
        if not self.stop_requested:
            with warnings.catch_warnings():
                # ignore_errors() leaves the epoch length unknown, and Keras warns when
                # it discovers the end of the data; that end is expected here.
                warnings.filterwarnings("ignore", message="Your input ran out of data")
                model.fit(train_ds, validation_data=val_ds, epochs=config.epochs, callbacks=callbacks,
                          shuffle=False, verbose=0)
        return self._finish(split)

    def _prepare_run_dir(self, split: Split) -> None:
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            write_text_atomic(self.run_dir / "labels.txt", "\n".join(split.classes) + "\n")
        except OSError as e:
            raise UserError(f"Cannot write to the output folder {self.run_dir}: {e.strerror}.") from None
        write_json_atomic(self.run_dir / "config.json", self.config.to_dict())

    def write_history(self) -> None:
        write_json_atomic(self.run_dir / "history.json", self.history)

    def _finish(self, split: Split) -> TrainingResult:
        self.write_history()
        metrics = run_metrics(self.history, split)
        write_json_atomic(self.run_dir / "metrics.json", metrics)
        best = checkpoints.checkpoint_path(self.run_dir / "checkpoints", checkpoints.BEST)
        if best.exists():
            copy_atomic(best, self.run_dir / "model.keras")
        stopped = len(self.history) < self.config.epochs
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
    if history:
        final = history[-1]
        best = max(history, key=lambda row: row["val_accuracy"])
        metrics.update(
            final_val_accuracy=final["val_accuracy"],
            final_val_loss=final["val_loss"],
            best_val_accuracy=best["val_accuracy"],
            best_val_loss=min(row["val_loss"] for row in history),
            best_epoch=best["epoch"],
        )
    return metrics
