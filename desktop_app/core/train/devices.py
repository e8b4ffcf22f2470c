"""What a run trains on, in words, and the distribution strategy that goes with it.

One GPU or the CPU: TensorFlow's default strategy (nothing changes). More than one GPU:
``tf.distribute.MirroredStrategy`` over all of them, each batch split between them.
Mixed precision (float16 arithmetic, float32 weights) pays only on NVIDIA GPUs of compute
capability 7.0 or newer (tensor cores); elsewhere a run that asks for it says why not.

Tests run the multi-GPU code path on a CPU: ``TRANSFER_STUDIO_LOGICAL_CPUS=2`` splits the
CPU into two logical devices and mirrors over them. TensorFlow accepts that only before
it starts its runtime, so it is read once, when a run first looks at its devices. It is
for tests only.
"""

from __future__ import annotations

import os
import weakref
from contextlib import contextmanager
from dataclasses import dataclass

LOGICAL_CPUS_ENV = "TRANSFER_STUDIO_LOGICAL_CPUS"  # tests only: mirror over this many logical CPUs
MIXED_PRECISION_POLICY = "mixed_float16"
MIN_MIXED_CAPABILITY = (7, 0)  # tensor cores: float16 is faster there, slower or unsupported below


@dataclass(frozen=True)
class Gpu:
    name: str  # e.g. "NVIDIA H200"
    compute_capability: tuple[int, int] | None = None


@dataclass(frozen=True)
class Devices:
    """The devices of this machine a run trains on."""

    cpu_cores: int
    gpus: tuple[Gpu, ...] = ()
    logical_cpus: tuple[str, ...] = ()  # the tests' split CPU, mirrored over

    @property
    def replicas(self) -> int:
        """How many copies of the model train side by side, each on its share of a batch."""
        if self.gpus:
            return len(self.gpus)
        return max(1, len(self.logical_cpus))

    @property
    def words(self) -> str:
        """e.g. "CPU, 2 cores", "1 GPU: NVIDIA H200", "2 GPUs: NVIDIA H200"."""
        if not self.gpus:
            cores = f"CPU, {self.cpu_cores} core{'s' if self.cpu_cores != 1 else ''}"
            if len(self.logical_cpus) > 1:
                return f"{cores}, split into {len(self.logical_cpus)} devices"
            return cores
        names = list(dict.fromkeys(gpu.name for gpu in self.gpus))  # the same model once
        count = f"{len(self.gpus)} GPU{'s' if len(self.gpus) > 1 else ''}"
        return f"{count}: {', '.join(names)}" if any(names) else count

    def mixed_precision_problem(self) -> str | None:
        """Why mixed precision is not used here, in one sentence; None when it is."""
        if not self.gpus:
            return ("Mixed precision is not used: it needs an NVIDIA GPU (compute capability 7.0 or newer), "
                    f"and this run trains on the {self.words}.")
        old = [gpu for gpu in self.gpus if gpu.compute_capability is None
               or gpu.compute_capability < MIN_MIXED_CAPABILITY]
        if old:
            gpu = old[0]
            capability = ("an unknown compute capability" if gpu.compute_capability is None else
                          "compute capability " + ".".join(map(str, gpu.compute_capability)))
            return (f"Mixed precision is not used: {gpu.name or 'this GPU'} has {capability}, and it speeds up "
                    "training only from 7.0 on.")
        return None


def configure_logical_cpus() -> tuple[str, ...]:
    """The logical CPUs ``TRANSFER_STUDIO_LOGICAL_CPUS`` asks for (tests only), set up now if
    TensorFlow has not started yet; () when not asked for."""
    import tensorflow as tf

    try:
        count = int(os.environ.get(LOGICAL_CPUS_ENV, "0") or 0)
    except ValueError:
        count = 0
    if count < 2:
        return ()
    cpu = tf.config.list_physical_devices("CPU")[0]
    wanted = [tf.config.LogicalDeviceConfiguration() for _ in range(count)]
    if tf.config.get_logical_device_configuration(cpu) != wanted:
        try:
            tf.config.set_logical_device_configuration(cpu, wanted)
        except RuntimeError:  # TensorFlow has started already: it keeps one CPU device
            return ()
    return tuple(f"/cpu:{i}" for i in range(count))


def local_devices() -> Devices:
    """This machine's devices, as TensorFlow sees them (GPUs it can use, not merely has)."""
    import tensorflow as tf

    logical = configure_logical_cpus()
    gpus = []
    for device in tf.config.list_physical_devices("GPU"):
        try:
            details = tf.config.experimental.get_device_details(device)
        except (ValueError, RuntimeError):
            details = {}
        capability = details.get("compute_capability")
        gpus.append(Gpu(str(details.get("device_name", "")), tuple(capability) if capability else None))
    return Devices(os.cpu_count() or 1, tuple(gpus), () if gpus else logical)


def strategy_for(devices: Devices):
    """MirroredStrategy over several devices; the default strategy (no change at all) otherwise."""
    import tensorflow as tf

    if devices.replicas < 2:
        return tf.distribute.get_strategy()
    if devices.gpus:
        return tf.distribute.MirroredStrategy()
    # Logical CPUs: the cross-device sum TensorFlow picks for GPUs (NCCL) does not exist here.
    return tf.distribute.MirroredStrategy(list(devices.logical_cpus),
                                          cross_device_ops=tf.distribute.ReductionToOneDevice())


@contextmanager
def precision_policy(name: str):
    """Layers built inside compute in ``name`` ("float32" or "mixed_float16"); the process's
    policy is restored afterwards (tests train many runs in one process)."""
    import keras

    before = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(before)



_predictors: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def predict_batch(model, x):
    """``model.predict_on_batch(x)``, also for a model of a MirroredStrategy: there Keras' own
    hands every replica the whole batch (and returns it once per replica), and ``predict``
    costs half a second a call; so each replica looks at its share of the batch, compiled once."""
    strategy = model.distribute_strategy
    if strategy.num_replicas_in_sync == 1:
        return model.predict_on_batch(x)  # compiled once, milliseconds a call
    if model not in _predictors:
        _predictors[model] = _replicated_predictor(model, strategy)
    return _predictors[model](x)


def _replicated_predictor(model, strategy):
    import numpy as np
    import tensorflow as tf

    def share(x):
        context = tf.distribute.get_replica_context()
        n, replicas, i = tf.shape(x)[0], context.num_replicas_in_sync, context.replica_id_in_sync_group
        # Shares that differ by one photo at most: none is empty while there are as many photos as replicas.
        return model(x[n * i // replicas:n * (i + 1) // replicas], training=False)

    run = tf.function(lambda x: strategy.run(share, args=(x,)), reduce_retracing=True)
    alone = tf.function(lambda x: model(x, training=False), reduce_retracing=True)

    def predict(x):
        x = tf.convert_to_tensor(x)
        if x.shape[0] < strategy.num_replicas_in_sync:  # a replica with no photos fails: one device does it
            return np.asarray(alone(x))
        parts = strategy.experimental_local_results(run(x))
        return np.concatenate([np.asarray(part) for part in parts])  # in replica order: the batch's order

    return predict
