"""TrainingJob: feature extraction, then optional fine-tuning, on one epoch timeline.

image folder -> tf.data -> augmentation -> frozen pretrained base -> pooling -> softmax,
trained with Keras ``fit`` and checkpointed every epoch. Progress goes to ``on_event``
as plain dataclasses; ``request_stop()`` ends the run after the current batch, with the
checkpoints written. A stopped or crashed run resumes from its folder: from the photos
it recorded, the classes it knows and the last checkpoint, which says which epoch it is.
"""

from __future__ import annotations

import math
import threading
import time
import warnings
from dataclasses import replace
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from desktop_app.core import crashpoints
from desktop_app.core.data.pipeline import epoch_orders, make_dataset, training_dataset
from desktop_app.core.data.scan import DatasetIndex, ImageFile, scan_folder
from desktop_app.core.data.split import RecordedSplit, Split, check_classes, make_split, resolve
from desktop_app.core.data.validate import ValidationStopped, validate_index
from desktop_app.core.errors import RefusedError, UserError
from desktop_app.core.events import (
    DevicesInUse, Estimate, EventSink, Failed, Finished, Message, PhaseStarted, Progress, Step, ignore_event,
)
from desktop_app.core.keras_files import load_keras_model
from desktop_app.core.model.builder import (
    POOLING_LAYER_NAME, build_classifier, compile_classifier, param_counts, summarize, unfreeze_top,
)
from desktop_app.core.runs import BEST, LABELS_FILE, LAST, RunFolder
from desktop_app.core.session import FEATURE_EXTRACTION, FINE_TUNING, TrainingConfig
from desktop_app.core.train import checkpoints, embeddings
from desktop_app.core.train.callbacks import CachedValidation, Phase, ProgressCallback
from desktop_app.core.train.devices import (
    MIXED_PRECISION_POLICY, Devices, local_devices, precision_policy, predict_batch, strategy_for,
)
from desktop_app.core.train.plan import (
    TrainingResult, bank_views, best_row, epoch_rank, fast_mode_decision, fine_tuned_epochs, history_at_checkpoint,
)
from desktop_app.core.versions import library_versions

__all__ = ["TrainingJob", "TrainingResult", "FEATURE_EXTRACTION", "FINE_TUNING"]

PREFLIGHT_BATCHES = 2
# What a resumed run may change: how long and how fast it learns. The photos, classes,
# model and augmentation are the run's facts.
RESUMABLE = frozenset({"epochs", "learning_rate", "fine_tune", "fine_tune_epochs", "unfreeze_layers",
                       "fine_tune_learning_rate", "batch_size", "label_smoothing", "optimizer", "fast"})
FLOAT32 = "float32"


class TrainingJob:
    # While the base is frozen, it looks at each photo once (the embedding store, fast mode).
    frozen_base_shortcuts = True

    def __init__(self, config: TrainingConfig, on_event: EventSink = ignore_event):
        self.config = config
        self.on_event = on_event
        self.run_dir = Path(config.out)
        self.run_folder = RunFolder(self.run_dir)
        self.history: list[dict] = []
        self.batches_per_epoch: int | None = None
        self.fast_mode, self.fast_mode_reason = fast_mode_decision(config)
        self.resuming = False
        self.created = False  # this job made the run folder (a new run), so it may remove it again
        self.class_map: dict[str, str] = {}
        self.checkpoint = LAST  # where a resume starts: last, or best when last is damaged
        self.base_looks = 0  # photos (or versions) the frozen base looked at: the others were stored
        self.devices: Devices | None = None  # what the run trains on, found when it starts
        self.precision = FLOAT32  # or MIXED_PRECISION_POLICY, where asked for and the GPUs gain from it
        self._model = None
        self._stop = threading.Event()

    @classmethod
    def resume(cls, run_dir: Path, on_event: EventSink = ignore_event, data: Path | None = None,
               class_map: dict[str, str] | None = None, **changes) -> TrainingJob:
        """Continue a stopped or crashed run from its last complete epoch.

        ``changes`` to its training settings (more epochs, another learning rate, the
        fine-tuning of ``plan.plan_fine_tuning``) are applied; ``data`` is where its
        dataset is now if it moved; ``class_map`` names classes renamed since (old -> new).
        """
        run = RunFolder(run_dir)
        config = run.read_config()
        refused = sorted(set(changes) - RESUMABLE)
        if refused:
            raise RefusedError(f"A resumed run keeps its {', '.join(refused)}: it was trained with them. Start a "
                               "new run to try others.")
        history = run.settled_history()
        extracted = len(history) - fine_tuned_epochs(history)
        if changes.get("epochs", 0) > extracted < len(history):  # the base is partly unfrozen by now
            raise RefusedError(f"{run.name} has been fine-tuned, so the head cannot learn alone on a frozen base "
                               "again. Fine-tune it further (--fine-tune-epochs), or start a new run.")
        if changes:
            config = config.with_changes("training", **changes)
        if data is not None:
            config = replace(config, data=Path(data).expanduser().resolve())
        job = cls(config, on_event)
        job.resuming, job.class_map = True, dict(class_map or {})
        meta = run.read_checkpoint_meta(LAST)
        if meta is None or run.checkpoint_problem(LAST) is not None:
            best = run.read_checkpoint_meta(BEST)
            if best is not None and run.checkpoint_problem(BEST) is None:
                job.checkpoint, meta = BEST, best
                on_event(Message(f"The last checkpoint of {run.name} is damaged; going on from the best one "
                                 f"(epoch {best['epoch']})."))
            elif run.checkpoint_path(LAST).exists():
                raise UserError(f"The checkpoints of {run.path} cannot be used ({run.checkpoint_problem(LAST)}); "
                                "this run cannot go on. Its model (if it has one) still works; start a new run to "
                                "train more.")
        if meta is not None:
            job.history = history_at_checkpoint(run.read_history(), meta)
        return job

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def request_stop(self) -> None:
        """Thread-safe: the run ends after the current batch, checkpoints intact."""
        self._stop.set()

    def optimizer_steps(self) -> int:
        optimizer = getattr(self._model, "optimizer", None)
        # Through numpy: under MirroredStrategy the counter is a mirrored variable, which int() refuses.
        return int(keras.ops.convert_to_numpy(optimizer.iterations)) if optimizer is not None else 0

    def run(self, index: DatasetIndex | None = None) -> TrainingResult:
        """Train; ``index`` is the scanned ``config.data`` when the caller has it already. A new
        run that fails before its first checkpoint leaves no run folder behind."""
        try:
            return self._run_reporting(index)
        except BaseException:
            if self.created:
                self.run_folder.discard_unstarted()
            raise

    def _run_reporting(self, index: DatasetIndex | None) -> TrainingResult:
        """``_run``, with what went wrong said in one sentence (``Failed``, then a UserError)."""
        try:
            return self._run(index)
        except UserError as e:
            self.on_event(Failed(str(e)))
            raise
        except tf.errors.ResourceExhaustedError:
            message = (f"The computer ran out of memory with batches of {self.config.training.batch_size} images. "
                       "Try a smaller batch size or smaller images; the checkpoints saved so far are intact.")
        except OSError as e:
            message = self._os_error_sentence(e)
        finally:
            self.run_folder.clear_staging()
        self.on_event(Failed(message))
        raise UserError(message)

    def _os_error_sentence(self, e: OSError) -> str:
        where = Path(e.filename) if e.filename else self.run_dir
        if where.is_relative_to(self.config.data):
            return (f"Could not read {where} ({e.strerror or e}). The run stopped; checkpoints saved before this "
                    "are intact. Check that the photo folder is still there (a USB stick unplugged?).")
        return (f"Could not write {where} ({e.strerror or e}). The run stopped; checkpoints saved before this are "
                "intact. Free some disk space or choose another output folder.")

    # ---------------------------------------------------------------- the photos of the run

    def _split(self, index: DatasetIndex | None) -> Split | None:
        """A new run's split (then recorded), or a resumed run's recorded one found again."""
        config = self.config
        recorded = self.run_folder.read_split() if self.resuming else None
        try:
            if recorded is not None:
                resolved = resolve(recorded, config.data, self.class_map, should_stop=lambda: self.stop_requested)
                for note in resolved.notes():
                    self.on_event(Message(note))
                return resolved.split
            index = index if index is not None else scan_folder(config.data)
            # Train on exactly the images that decode; bad files are reported, never fatal.
            index = validate_index(index, should_stop=lambda: self.stop_requested)
        except ValidationStopped:
            self.on_event(Message("Stopped before training began."))
            return None
        if index.bad_files:
            self.on_event(Message(f"Left out {len(index.bad_files)} file(s) that are not usable images."))
        if self.resuming:  # a run made before runs recorded their photos: its classes must still match
            check_classes(self.run_folder.read_labels(), index.classes, self.class_map)
        return make_split(index, config.split.subset_percent, config.split.val_fraction, config.split.seed,
                          legacy=self.resuming)

    def _prepare_run_dir(self, split: Split) -> None:
        run = self.run_folder
        if not self.resuming:
            run.create()  # refuses a folder that holds another run, before anything is written
            self.created = True
        try:
            if self.resuming:
                self._check_labels(split.classes)
            else:
                run.write_labels(split.classes)
            if not self.resuming or run.read_split() is None:  # an older run records its photos now
                run.write_split(RecordedSplit.of(split, self.config.data))
            run.write_config(self.config)  # a resume records what it changed (epochs, a moved dataset)
        except OSError as e:
            raise UserError(f"Cannot write to the output folder {self.run_dir}: {e.strerror}.") from None

    def _check_labels(self, classes: list[str]) -> None:
        """labels.txt names the model's outputs: it must be the run's classes. A lost or emptied
        file is written again from the run's record; one naming other classes is refused."""
        run = self.run_folder
        try:
            labels = run.read_labels()
        except UserError:
            labels = []
        if labels == classes:
            return
        if labels:
            raise RefusedError(f"The class names in {run.path / LABELS_FILE} ({', '.join(labels)}) are not the ones "
                               f"this run was made with ({', '.join(classes)}). Put the run's own file back, or "
                               "start a new run.")
        run.write_labels(classes)
        self.on_event(Message(f"The class names of {run.name} ({LABELS_FILE}) were missing; written again from "
                              "the run's list of its photos."))

    def _drop_missing(self, split: Split) -> Split:
        """Photos that went away since they were checked are left out, with a note."""
        gone = [f for f in split.train + split.val if not f.path.exists()]
        if not gone:
            return split
        self.on_event(Message(_gone_note(gone)))
        lost = {f.path for f in gone}
        return replace(split, train=[f for f in split.train if f.path not in lost],
                       val=[f for f in split.val if f.path not in lost])

    # ---------------------------------------------------------------- training

    def _run(self, index: DatasetIndex | None) -> TrainingResult:
        """The run under its devices' strategy: the default one (no change at all) on a CPU or
        one GPU, MirroredStrategy over several GPUs. Every model is built, loaded and compiled
        inside its scope; Keras' fit splits each batch of ``batch_size`` between the replicas."""
        # First: the tests' logical CPUs can be set up only before TensorFlow's runtime starts.
        self.devices = local_devices()
        strategy = strategy_for(self.devices)
        self.precision = self._precision()
        self.on_event(DevicesInUse(self.devices.words, strategy.num_replicas_in_sync,
                                   self.precision == MIXED_PRECISION_POLICY))
        with precision_policy(self.precision), strategy.scope():
            return self._run_in_scope(index)

    def _precision(self) -> str:
        """Mixed precision when asked for and the GPUs gain from it; otherwise a sentence says why not."""
        if not self.config.training.mixed_precision:
            return FLOAT32
        problem = self.devices.mixed_precision_problem()
        if problem is not None:
            self.on_event(Message(problem))
            return FLOAT32
        return MIXED_PRECISION_POLICY

    def _run_in_scope(self, index: DatasetIndex | None) -> TrainingResult:
        config = self.config
        settings = config.training
        keras.utils.set_random_seed(config.split.seed)
        split = self._split(index)
        if split is None:
            return TrainingResult(self.run_dir, self.history, {}, True, self.base_looks)
        self._prepare_run_dir(split)
        split = self._drop_missing(split)
        self.batches_per_epoch = math.ceil(len(split.train) / settings.batch_size)

        model = self._model = self._load_or_build(split)
        done = len(self.history)
        if done < settings.epochs and not self.stop_requested:
            phase = Phase(FEATURE_EXTRACTION, done, settings.epochs, settings.learning_rate)
            looks = _Looks(self, model, split) if self.frozen_base_shortcuts else None
            if self.fast_mode:
                self._fit_fast(model, split, phase, looks)
            else:
                self._fit(model, split, phase, looks=looks)
        done = len(self.history)
        if settings.planned_fine_tune_epochs and done < settings.total_epochs and not self._aborted():
            phase = Phase(FINE_TUNING, done, settings.total_epochs, settings.fine_tune_lr, settings.unfreeze_layers)
            applied = [row.get("unfreeze_layers") for row in self.history if row.get("phase") == FINE_TUNING]
            # A resumed fine-tuning keeps its optimizer state, unless the user asks for another cut.
            continues = bool(applied) and applied[-1] == settings.unfreeze_layers
            if not continues:
                unfreeze_top(model, settings.unfreeze_layers)
                self._compile(model, settings.fine_tune_lr)
                crashpoints.reached("fine-tune-compiled")
            self._fit(model, split, phase, continues=continues)
        return self._finish(split)

    def _aborted(self) -> bool:
        return self.stop_requested or any(row.get("nan") for row in self.history)

    def _load_or_build(self, split: Split):
        config = self.config
        if self.history:
            self.on_event(Message(f"Resuming after epoch {len(self.history)}..."))
            with self.run_folder.whole_checkpoint(self.checkpoint) as path:
                return load_keras_model(path)
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

    def _callbacks(self, phase: Phase, head_only: bool = False, validation: CachedValidation | None = None,
                   ) -> list[keras.callbacks.Callback]:
        best = best_row(self.history)
        best_so_far = epoch_rank(best) if best is not None else None
        return [
            *([validation] if validation is not None else []),
            ProgressCallback(self, phase),
            keras.callbacks.TerminateOnNaN(),
            *checkpoints.checkpoint_callbacks(self.run_folder, self.on_event, best_so_far, head_only,
                                              self._epoch_row, self.optimizer_steps, lambda: self.history),
            # history.json is written only after last.keras is in place (a resume trusts the checkpoint).
            keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: self._epoch_written(epoch + 1)),
        ]

    def _epoch_written(self, epoch: int) -> None:
        if self._epoch_row(epoch) is not None:
            self.write_history()
            crashpoints.reached("history-written")

    def _phase_started(self, model, phase: Phase, detail: str, continues: bool = False) -> None:
        self.on_event(PhaseStarted(phase.name, phase.first_epoch + 1, phase.last_epoch, phase.learning_rate,
                                   param_counts(model).trainable, detail, continues))

    def _preflight(self, model, dataset, batches: int, val_batches: float) -> None:
        """Time a few forward passes before the first epoch: a first estimate of the run, on
        the devices it trains on (all of them, each batch split between them)."""
        times = []
        for images, _ in dataset.take(PREFLIGHT_BATCHES + 1):
            started = time.perf_counter()
            predict_batch(model, images)
            times.append(time.perf_counter() - started)
        if len(times) > 1:
            # Training a batch costs about a forward pass with the base frozen; validation is extra.
            per_epoch = float(np.median(times[1:])) * (batches + val_batches)
            left = per_epoch * (self.config.training.total_epochs - len(self.history))
            self.on_event(Estimate(per_epoch, left, self.devices.words))

    def _fit(self, model, split: Split, phase: Phase, continues: bool = False, looks: _Looks | None = None) -> None:
        """The whole model learns from the photos; while the base is frozen (``looks``), the
        validation photos go through it once and each epoch validates the head only."""
        config = self.config
        size, batch = config.model.img_size, config.training.batch_size
        validation = None
        if looks is not None:
            looks.expect(len(split.val))
            val = looks.embed(split.val, Step.LOOKING_AT_VALIDATION)
            if val is None:
                return
            validation = self._cached_validation(model, *val)
        detail = f"top {phase.unfreeze_layers} layers unfrozen" if phase.name == FINE_TUNING else ""
        self._phase_started(model, phase, detail, continues)
        n = len(split.classes)
        # Each epoch's order comes from the seed and its number: the same under any strategy, and on
        # resume. Repeated, with the epoch's length given: Keras then counts exactly one optimizer step
        # per batch (with an open-ended dataset it counts one more per epoch, the step that finds the end).
        orders = epoch_orders(len(split.train), config.split.seed, range(phase.first_epoch, phase.last_epoch))
        train_ds = training_dataset(split.train, n, size, batch, orders)
        val_ds = None if validation is not None else make_dataset(split.val, n, size, batch)
        if not self.history:
            # A few photos of its own: the estimate decodes only what it times.
            timed = make_dataset(split.train[:(PREFLIGHT_BATCHES + 1) * batch], n, size, batch)
            self._preflight(model, timed, self.batches_per_epoch, 0 if val_ds is None else len(split.val) / batch)
        with warnings.catch_warnings():
            # ignore_errors() leaves the validation set's length unknown, and Keras warns when it
            # discovers the end of the data; that end is expected here.
            warnings.filterwarnings("ignore", message="Your input ran out of data")
            model.fit(train_ds, validation_data=val_ds, initial_epoch=phase.first_epoch, epochs=phase.last_epoch,
                      steps_per_epoch=self.batches_per_epoch, callbacks=self._callbacks(phase, validation=validation),
                      shuffle=False, verbose=0)
        self._check_nan()

    def _cached_validation(self, model, x: np.ndarray, y: np.ndarray) -> CachedValidation:
        loss = keras.losses.CategoricalCrossentropy(label_smoothing=self.config.training.label_smoothing)
        return CachedValidation(embeddings.head_model(model), x, y, loss)

    def _fit_fast(self, model, split: Split, phase: Phase, looks: _Looks) -> None:
        """Only the head learns, from stored embeddings: of each photo, or with augmentation on,
        of changed versions of it (the augmentation bank: epoch e learns from version e mod K)."""
        config = self.config
        batch = config.training.batch_size
        self.on_event(Message(self.fast_mode_reason))
        count = bank_views(config)
        views = embeddings.AugmentedViews(model, config.augmentation) if count else None
        needed = sorted({epoch % count for epoch in range(phase.first_epoch, phase.last_epoch)}) if count else [None]
        looks.expect(len(split.val) + len(split.train) * len(needed))
        val = looks.embed(split.val, Step.LOOKING_AT_VALIDATION)
        train = {}
        for view in needed:
            if val is None or self.stop_requested:
                return
            train[view] = looks.embed(split.train, Step.LOOKING_AT_TRAINING, views, view, by_row=True)
            if train[view] is None:
                return
        # Photos that could not be read for some version are left out of all of them.
        rows = sorted(set.intersection(*(set(kept) for _vectors, kept in train.values())))
        bank = np.stack([vectors[np.searchsorted(kept, rows)] for vectors, kept in (train[view] for view in needed)])
        labels = keras.utils.to_categorical([split.train[r].label for r in rows], len(split.classes))
        epochs = range(phase.first_epoch, phase.last_epoch)
        orders = epoch_orders(len(rows), config.split.seed, epochs)
        slots = np.array([needed.index(epoch % count) if count else 0 for epoch in epochs])
        bank_t, labels_t = tf.constant(bank), tf.constant(labels)
        train_ds = tf.data.Dataset.from_tensor_slices((orders, slots)).flat_map(
            lambda order, slot: tf.data.Dataset.from_tensor_slices(
                (tf.gather(bank_t[slot], order), tf.gather(labels_t, order))).batch(batch))
        head = embeddings.head_model(model)
        # One optimizer for both: the full model's checkpoints then carry its state.
        self._compile(head, config.training.learning_rate, model.optimizer)
        self._phase_started(model, phase, "fast mode" if not count else f"fast mode, {count} versions of each photo")
        # The whole classifier once; each epoch then saves the head that fit() sees (milliseconds).
        checkpoints.publish_whole(self.run_folder, model, phase.first_epoch)
        head.fit(train_ds, initial_epoch=phase.first_epoch, epochs=phase.last_epoch,
                 steps_per_epoch=math.ceil(len(rows) / batch),
                 callbacks=self._callbacks(phase, head_only=True, validation=self._cached_validation(model, *val)),
                 shuffle=False, verbose=0)  # shuffled above, per epoch
        self._check_nan()

    def _check_nan(self) -> None:
        if self.history and self.history[-1].get("nan"):
            raise UserError(
                "The loss became NaN (not a number): training went unstable. Try a learning rate 10 times "
                "lower; the checkpoints from before this happened are intact."
            )

    def write_history(self) -> None:
        self.run_folder.write_history(self.history)

    def _finish(self, split: Split) -> TrainingResult:
        self.write_history()
        # Which versions trained it: a .keras file from one Keras version may not load in another.
        metrics = {**run_metrics(self.history, split), "versions": library_versions()}
        self.run_folder.write_metrics(metrics)
        self.run_folder.publish_model(BEST)
        stopped = self._aborted() or len(self.history) < self.config.training.total_epochs
        self.on_event(Finished(self.run_dir, metrics, stopped))
        return TrainingResult(self.run_dir, self.history, metrics, stopped, self.base_looks)


class _Looks:
    """The frozen base's looks at photos, through the embedding store, with progress and a
    first estimate of the time left (the looks are most of a fast run's time)."""

    def __init__(self, job: TrainingJob, model, split: Split):
        self.job, self.model, self.split = job, model, split
        self.store = embeddings.EmbeddingStore.default()
        if not self.store.available:
            job.on_event(Message(self.store.note))
        # The precision the base computes in (a resumed run's, as saved; its pooling layer's, as the
        # loaded base itself reports the global policy): float16 and float32 embeddings never mix.
        precision = model.get_layer(POOLING_LAYER_NAME).dtype_policy.name
        self.identity = embeddings.base_identity(model, job.config.model, precision)
        self.extractor = None
        self.total = 0  # set by expect() before the first look
        self.done = 0
        self.started = time.perf_counter()
        self.estimated = False

    def expect(self, total: int) -> None:
        self.total = total

    def _looked(self, count: int) -> None:
        self.job.base_looks += count

    def embed(self, files: list[ImageFile], step: Step, views=None, view: int | None = None, by_row: bool = False):
        """(embeddings, one-hot labels) of the files that could be read; with ``by_row``,
        (embeddings, their rows in ``files``). None when stopped."""
        job, batch = self.job, self.job.config.training.batch_size
        offset = self.done

        def report(done: int, _count: int) -> None:
            job.on_event(Progress(step, offset + done, self.total))
            if offset + done >= 2 * batch and not self.estimated:
                self.estimated = True
                rate = (time.perf_counter() - self.started) / (offset + done)
                job.on_event(Estimate(0.0, rate * (self.total - offset - done), job.devices.words))

        if self.extractor is None:
            self.extractor = embeddings.feature_extractor(self.model)
        result = embeddings.embed(self.extractor, files, self.split.digests, self.store, self.identity,
                                  job.config.model.img_size, batch, report=report,
                                  should_stop=lambda: job.stop_requested, views=views, view=view,
                                  looked=self._looked)
        if result is None:
            return None
        self.done += len(files)
        vectors, kept = result
        if len(kept) < len(files):
            read = set(kept)
            job.on_event(Message(_gone_note([f for i, f in enumerate(files) if i not in read])))
        if by_row:
            return vectors, kept
        return vectors, keras.utils.to_categorical([files[i].label for i in kept], len(self.split.classes))


def _gone_note(files: list[ImageFile]) -> str:
    names = ", ".join(f.path.name for f in files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
    return f"Left out {len(files)} photo(s) that could not be read any more: {names}."


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
        best = best_row(scored) or max(scored, key=lambda row: row["val_accuracy"])
        metrics.update(
            final_val_accuracy=final["val_accuracy"],
            final_val_loss=final["val_loss"],
            best_val_accuracy=best["val_accuracy"],
            best_val_loss=min(row["val_loss"] for row in scored),
            best_epoch=best["epoch"],
        )
    return metrics
