"""One run trained by several machines: MultiWorkerMirroredStrategy, in a custom training loop.

Keras 3's ``fit`` does not work under this strategy (keras-team/keras#20585), so each step is
TensorFlow's documented loop: ``strategy.run`` of a ``tf.function`` step, the loss of each
replica's share divided by the photos of the whole step, the gradients summed by the
optimizer. Everything else is the training job's: the same model, loss, phases, events, and
the same Keras callbacks (progress, history rows, checkpoints), called by the loop.

Every worker reads the same photos (a shared disk, or the same copy on each machine) and
makes the same split; before training they compare a fingerprint of the photos and of the
settings, and refuse a mismatch naming the worker. Only the chief (task 0) writes the run
folder; the others write to a temporary folder, removed at the end. A cluster that is started
again goes on from the chief's last complete epoch: the chief sends its checkpoint's weights
and optimizer state to the others. Stop is agreed in every step, so all workers stop after
the same batch.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import tempfile
from dataclasses import asdict, replace
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from desktop_app.core.data.pipeline import epoch_orders, share_batches
from desktop_app.core.data.split import Split
from desktop_app.core.errors import RefusedError, UserError
from desktop_app.core.events import DevicesInUse, Message
from desktop_app.core.keras_files import load_keras_model
from desktop_app.core.model.builder import build_classifier, summarize, unfreeze_top
from desktop_app.core.runs import RunFolder
from desktop_app.core.session import FEATURE_EXTRACTION, FINE_TUNING, section_to_dict
from desktop_app.core.train.callbacks import Phase
from desktop_app.core.train.cluster import Cluster, lost_worker_sentence
from desktop_app.core.train.devices import MIXED_PRECISION_POLICY, local_devices, precision_policy
from desktop_app.core.train.job import TrainingJob
from desktop_app.core.train.plan import fine_tuned_epochs

# What TensorFlow raises on the other workers when one stops answering.
LOST_WORKER_ERRORS = (tf.errors.UnavailableError, tf.errors.DeadlineExceededError, tf.errors.AbortedError,
                      tf.errors.CancelledError)
_CHUNKS = 4  # a fingerprint travels as int64 pieces of 31 bits: sums of them never overflow


class ClusterTrainingJob(TrainingJob):
    """A TrainingJob whose epochs run on every worker of ``cluster`` at once (``join`` first)."""

    frozen_base_shortcuts = False  # stored embeddings are one machine's: every worker trains the whole model
    cluster: Cluster
    task = 0
    strategy = None

    def join(self, cluster: Cluster, task: int, strategy) -> ClusterTrainingJob:
        """Take part in ``cluster`` as ``task``, under the strategy made for it (in a fresh process)."""
        self.cluster, self.task, self.strategy = cluster, task, strategy
        self.fast_mode = False
        self._agreed_stop = False
        self._in_loop = False
        if not self.chief:  # TensorFlow's guide: the others write too, where nobody reads it
            self._scratch = Path(tempfile.mkdtemp(prefix=f"transfer-studio-worker{task}-"))
            self.config = replace(self.config, out=self._scratch / "run")
            self.run_dir, self.run_folder = self.config.out, RunFolder(self.config.out)
            self.resuming, self.history = False, []
        return self

    @property
    def chief(self) -> bool:
        return self.task == 0

    @property
    def stop_requested(self) -> bool:
        # Inside the loop, the stop every worker agreed on in the last step: all stop at the same batch.
        return self._agreed_stop if getattr(self, "_in_loop", False) else self._stop.is_set()

    def run(self, index=None):
        try:
            return super().run(index)
        finally:
            if not self.chief:
                shutil.rmtree(self._scratch, ignore_errors=True)

    # ---------------------------------------------------------------- set-up, the same on every worker

    def _run(self, index):
        self.devices = local_devices()
        self.precision = self._precision()
        workers = len(self.cluster.workers)
        self.on_event(DevicesInUse(f"{workers} machines (this one: {self.devices.words})",
                                   self.strategy.num_replicas_in_sync, self.precision == MIXED_PRECISION_POLICY))
        if not self.chief:
            self.on_event(Message("The chief writes the run folder; this worker trains with it."))
        # The chief's checkpoint is read before the strategy's scope: in it, every variable made on one
        # worker alone would wait for the others.
        self._saved = self._read_checkpoint() if self.history else None
        try:
            with precision_policy(self.precision), self.strategy.scope():
                return self._run_in_scope(index)
        except LOST_WORKER_ERRORS as e:
            raise UserError(lost_worker_sentence(self.cluster, self.task, e, len(self.history))) from None

    def _read_checkpoint(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        with self.run_folder.whole_checkpoint(self.checkpoint) as path:
            saved = load_keras_model(path)
        optimizer = getattr(saved, "optimizer", None)
        return ([np.asarray(w) for w in saved.get_weights()],
                [np.asarray(v) for v in optimizer.variables] if optimizer is not None else [])

    def _load_or_build(self, split: Split):
        config, settings = self.config, self.config.training
        self._check_same_run(split)
        last_cut = next((row.get("unfreeze_layers") for row in reversed(self.history)
                         if row.get("phase") == FINE_TUNING), 0) or 0
        done, tuned, cut = (int(v) for v in self._from_chief(
            [np.array([len(self.history), fine_tuned_epochs(self.history), last_cut], np.int64)])[0])
        if not self.chief:  # where the chief's run is: the phases and cut it had reached
            self.history = [{"epoch": e, "phase": FEATURE_EXTRACTION if e <= done - tuned else FINE_TUNING,
                             **({"unfreeze_layers": cut} if e > done - tuned else {})} for e in range(1, done + 1)]
        model = build_classifier(config.model, len(split.classes), config.augmentation, seed=config.split.seed)
        self._compile(model, settings.learning_rate)
        if tuned:
            unfreeze_top(model, cut)
            self._compile(model, settings.fine_tune_lr)
        if not done:
            self.on_event(Message(f"Building {config.model.backbone} for {len(split.classes)} classes on "
                                  f"{len(self.cluster.workers)} machines..."))
            self.run_folder.write_summary(summarize(model).to_text())
            return model
        self.on_event(Message(f"Going on after epoch {done}, from the chief's last complete epoch."))
        model.optimizer.build(model.trainable_variables)
        variables = [*model.weights, *model.optimizer.variables]
        weights, state = self._saved if self._saved is not None else ([], [])
        wanted = [(tuple(v.shape), np.dtype(v.dtype)) for v in variables]
        fits = [(tuple(v.shape), np.dtype(v.dtype)) for v in [*weights, *state]] == wanted
        if not self._from_chief([np.array([int(fits or not self.chief)], np.int64)])[0][0]:  # all stop together
            raise UserError("The chief's checkpoint does not fit the model these settings build; start a new run "
                            "(another --out).")
        mine = [*weights, *state] if self.chief else [np.zeros(shape, dtype) for shape, dtype in wanted]
        for variable, value in zip(variables, self._from_chief(mine)):
            variable.assign(value)
        return model

    def _check_same_run(self, split: Split) -> None:
        """Every worker must train on the same photos with the same settings: compare fingerprints."""
        mine = np.array(_pieces(_photos_digest(split, self.config.data)) + _pieces(_settings_digest(self.config)),
                        np.int64)
        rows = self._gather(mine)
        for what, part in (("other photos", slice(0, _CHUNKS)), ("other settings", slice(_CHUNKS, 2 * _CHUNKS))):
            odd = [t for t in range(len(rows)) if not np.array_equal(rows[t][part], rows[0][part])]
            if odd:
                names = ", ".join(self.cluster.name(t) for t in odd)
                advice = ("Every worker must read the same data folder: a shared disk, or the same copy on each "
                          "machine." if what == "other photos" else
                          "Run the same command, with the same training options, on every machine.")
                raise RefusedError(f"{names[0].upper()}{names[1:]} sees {what} than the chief: {advice}")

    def _replicas_first(self) -> tf.Tensor:
        """1 on the first replica of each worker, 0 on the others (a worker with several GPUs)."""
        context = tf.distribute.get_replica_context()
        per_worker = self.strategy.num_replicas_in_sync // len(self.cluster.workers)
        return tf.cast(tf.equal(context.replica_id_in_sync_group % per_worker, 0), tf.int64)

    def _gather(self, row: np.ndarray) -> np.ndarray:
        """Every worker's ``row``, one row per task (each worker's first replica puts its row in place)."""
        workers = len(self.cluster.workers)
        placed = np.zeros((workers, len(row)), np.int64)
        placed[self.task] = row
        gather = tf.function(lambda: self.strategy.reduce(
            tf.distribute.ReduceOp.SUM, self.strategy.run(lambda: tf.constant(placed) * self._replicas_first()),
            axis=None))
        return np.asarray(gather())

    def _from_chief(self, values: list[np.ndarray]) -> list[np.ndarray]:
        """The chief's ``values`` on every worker (the others pass arrays of the same shapes)."""
        def first_replica_of_chief():
            context = tf.distribute.get_replica_context()
            is_first = tf.equal(context.replica_id_in_sync_group, 0)
            return [tf.where(is_first, tf.constant(v), tf.zeros_like(tf.constant(v))) for v in values]

        @tf.function
        def send():
            return [self.strategy.reduce(tf.distribute.ReduceOp.SUM, part, axis=None)
                    for part in self.strategy.run(first_replica_of_chief)]

        return [np.asarray(v) for v in send()]

    # ---------------------------------------------------------------- the loop

    def _fit(self, model, split: Split, phase: Phase, continues: bool = False, looks=None) -> None:
        config = self.config
        batch = config.training.batch_size
        detail = f"top {phase.unfreeze_layers} layers unfrozen" if phase.name == FINE_TUNING else ""
        self._phase_started(model, phase, detail, continues)
        n = len(split.classes)
        train_step, test_step = self._steps(model)
        callbacks = keras.callbacks.CallbackList(self._callbacks(phase), model=model)
        callbacks.set_params({"epochs": phase.last_epoch, "steps": self.batches_per_epoch, "verbose": 0})
        model.stop_training = False
        val = self._distributed(split.val, n, np.arange(len(split.val)), batch)
        logs: dict = {}
        self._in_loop = True
        try:
            callbacks.on_train_begin()
            for epoch in range(phase.first_epoch, phase.last_epoch):
                callbacks.on_epoch_begin(epoch)
                order = epoch_orders(len(split.train), config.split.seed, range(epoch, epoch + 1))[0]
                totals = np.zeros(3)
                for step, inputs in enumerate(self._distributed(split.train, n, order, batch)):
                    sums = train_step(inputs, tf.constant(float(self._stop.is_set())))
                    totals += sums[:3]
                    if sums[3] > 0:  # someone asked: every worker stops after this batch
                        self._agreed_stop = True
                        self._stop.set()
                    logs = _logs(totals)
                    callbacks.on_train_batch_end(step, logs)
                    if model.stop_training:
                        break
                if not model.stop_training:
                    scores = np.zeros(3)
                    for inputs in val:
                        scores += test_step(inputs)
                    logs = {**logs, **{f"val_{k}": v for k, v in _logs(scores).items()}}
                callbacks.on_epoch_end(epoch, logs)
                if model.stop_training:
                    break
            callbacks.on_train_end(logs)
        finally:
            self._in_loop = False
        if self._gather(np.array([int(self._stop.is_set())], np.int64)).any():  # asked after the last step
            self._stop.set()
        self._check_nan()

    def _distributed(self, files, n_classes: int, order: np.ndarray, batch: int):
        """The photos in ``order``, in steps of ``batch``: each replica gets its share of every step."""
        strategy, size = self.strategy, self.config.model.img_size
        replicas = strategy.num_replicas_in_sync
        steps = [order[start:start + batch] for start in range(0, len(order), batch)]
        shares = [np.array_split(step, replicas) for step in steps]

        def worker_dataset(context: tf.distribute.InputContext) -> tf.data.Dataset:
            local = replicas // context.num_input_pipelines
            first = context.input_pipeline_id * local
            # One element per local replica and step, in replica order: the strategy deals them out in turn.
            return share_batches(files, n_classes, size, [step[first + j] for step in shares for j in range(local)])

        return strategy.distribute_datasets_from_function(worker_dataset)

    def _steps(self, model):
        """The training and the validation step: each returns the whole step's loss sum, right
        answers and photos (summed over every replica), and the training step whether anyone stopped."""
        strategy = self.strategy
        loss_fn = keras.losses.CategoricalCrossentropy(label_smoothing=self.config.training.label_smoothing,
                                                       reduction=None)
        variables = model.trainable_variables
        optimizer = model.optimizer

        def sums(y, p, per_photo):
            right = tf.cast(tf.equal(tf.argmax(p, -1), tf.argmax(y, -1)), tf.float32)
            return [tf.reduce_sum(per_photo), tf.reduce_sum(right), tf.cast(tf.shape(y)[0], tf.float32)]

        def train_share(inputs, stop):
            x, y = inputs
            context = tf.distribute.get_replica_context()
            photos = context.all_reduce(tf.distribute.ReduceOp.SUM, tf.cast(tf.shape(y)[0], tf.float32))
            with tf.GradientTape() as tape:
                p = tf.cast(model(x, training=True), tf.float32)
                per_photo = loss_fn(y, p)
                # Each share's part of the whole step's mean: the optimizer sums the replicas' gradients.
                loss = tf.math.divide_no_nan(tf.reduce_sum(per_photo), photos)
                scaled = optimizer.scale_loss(loss)
            optimizer.apply_gradients(zip(tape.gradient(scaled, variables), variables))
            return tf.stack([*sums(y, p, per_photo), stop])

        def test_share(inputs):
            x, y = inputs
            p = tf.cast(model(x, training=False), tf.float32)
            return tf.stack(sums(y, p, loss_fn(y, p)))

        @tf.function
        def train_step(inputs, stop):
            return strategy.reduce(tf.distribute.ReduceOp.SUM, strategy.run(train_share, args=(inputs, stop)),
                                   axis=None)

        @tf.function
        def test_step(inputs):
            return strategy.reduce(tf.distribute.ReduceOp.SUM, strategy.run(test_share, args=(inputs,)), axis=None)

        return (lambda inputs, stop: train_step(inputs, stop).numpy()), (lambda inputs: test_step(inputs).numpy())


def _logs(totals: np.ndarray) -> dict[str, float]:
    """Keras' epoch numbers from summed (loss, right answers, photos): means over the photos."""
    loss_sum, right, photos = (float(v) for v in totals[:3])
    if not photos:
        return {"loss": math.nan, "accuracy": 0.0}
    return {"loss": loss_sum / photos, "accuracy": right / photos}


def _photos_digest(split: Split, data: Path) -> str:
    def rows(files):
        return [[_relative(f.path, data), f.label, split.digests.get(f.path, "")] for f in files]

    return _digest({"classes": split.classes, "train": rows(split.train), "val": rows(split.val)})


def _relative(path: Path, data: Path) -> str:
    try:
        return Path(path).relative_to(data).as_posix()
    except ValueError:
        return Path(path).as_posix()


def _settings_digest(config) -> str:
    """The settings that decide what every step computes (not where files go, nor per-machine choices)."""
    training = {k: v for k, v in asdict(config.training).items() if k not in ("fast", "mixed_precision")}
    return _digest({"model": section_to_dict(config.model), "augmentation": section_to_dict(config.augmentation),
                    "split": section_to_dict(config.split), "training": training})


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def _pieces(hexdigest: str) -> list[int]:
    return [int(hexdigest[i * 8:(i + 1) * 8], 16) >> 1 for i in range(_CHUNKS)]
