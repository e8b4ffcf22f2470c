"""What a run trains on: devices in words, the strategy, mixed precision (issue 17).

The multi-GPU code path (MirroredStrategy) runs here on two logical CPU devices, in fresh
processes: TensorFlow accepts the split only before it starts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import keras
import pytest

from conftest import REPO, make_image_folder
from desktop_app.core.augment.spec import AugmentationSpec
from desktop_app.core.events import DevicesInUse, Estimate, Message
from desktop_app.core.model.builder import base_of, build_classifier
from desktop_app.core.session import ModelSettings, TrainingConfig
from desktop_app.core.train import embeddings
from desktop_app.core.train.devices import (
    LOGICAL_CPUS_ENV, MIXED_PRECISION_POLICY, Devices, Gpu, local_devices, precision_policy,
)
from desktop_app.core.train.job import TrainingJob

H200 = Gpu("NVIDIA H200", (9, 0))


def test_devices_are_said_in_plain_words():
    assert Devices(2).words == "CPU, 2 cores"
    assert Devices(1).words == "CPU, 1 core"
    assert Devices(16, (H200,)).words == "1 GPU: NVIDIA H200"
    assert Devices(16, (H200, H200)).words == "2 GPUs: NVIDIA H200"
    assert Devices(16, (H200, Gpu("NVIDIA A100", (8, 0)))).words == "2 GPUs: NVIDIA H200, NVIDIA A100"
    assert Devices(2, logical_cpus=("/cpu:0", "/cpu:1")).words == "CPU, 2 cores, split into 2 devices"
    assert [Devices(2).replicas, Devices(16, (H200,)).replicas, Devices(16, (H200, H200)).replicas] == [1, 1, 2]


def test_mixed_precision_is_offered_only_on_gpus_that_gain_from_it():
    assert Devices(16, (H200, H200)).mixed_precision_problem() is None
    on_cpu = Devices(2).mixed_precision_problem()
    assert on_cpu.startswith("Mixed precision is not used") and "CPU, 2 cores" in on_cpu
    old = Devices(8, (Gpu("Tesla P100", (6, 0)),)).mixed_precision_problem()
    assert "Tesla P100 has compute capability 6.0" in old and "7.0" in old


def test_this_machine_is_described_as_tensorflow_sees_it():
    devices = local_devices()
    assert devices.cpu_cores == (os.cpu_count() or 1)
    if not devices.gpus:
        assert devices.words.startswith("CPU, ") and devices.replicas == 1


def test_a_mixed_precision_model_keeps_its_output_in_float32_and_its_own_embedding_key():
    settings = ModelSettings("mobilenet", 0.25, 32, weights=None)
    keras.utils.set_random_seed(1)
    plain = build_classifier(settings, 3, AugmentationSpec(), seed=1)
    with precision_policy(MIXED_PRECISION_POLICY):
        keras.utils.set_random_seed(1)
        mixed = build_classifier(settings, 3, AugmentationSpec(), seed=1)
    assert keras.mixed_precision.global_policy().name == "float32"  # restored after the block
    assert base_of(mixed).dtype_policy.name == MIXED_PRECISION_POLICY
    assert mixed.get_layer("predictions").dtype_policy.name == "float32"
    assert mixed.output.dtype == "float32"
    assert plain.get_layer("predictions").dtype_policy.name == "float32"
    keys = {embeddings.base_identity(model, settings, model.get_layer("pooling").dtype_policy.name)
            for model in (plain, mixed)}
    assert len(keys) == 2  # float16 embeddings never meet float32 ones


@pytest.mark.skipif(local_devices().mixed_precision_problem() is None, reason="this machine has a suitable GPU")
def test_mixed_precision_asked_for_without_a_suitable_gpu_says_why_and_trains_in_float32(tmp_path):
    data = make_image_folder(tmp_path / "data", per_class=4, size=32)
    config = TrainingConfig.of(data=data, out=tmp_path / "run", backbone="mobilenet", alpha=0.25, weights=None,
                               img_size=32, batch_size=4, epochs=1, augmentation=AugmentationSpec(),
                               mixed_precision=True)
    events = []
    result = TrainingJob(config, events.append).run()
    assert not result.stopped_early
    said = [e.text for e in events if isinstance(e, Message) and e.text.startswith("Mixed precision is not used")]
    assert len(said) == 1 and "7.0" in said[0]
    devices = [e for e in events if isinstance(e, DevicesInUse)]
    assert len(devices) == 1 and not devices[0].mixed_precision and devices[0].words == local_devices().words
    assert any(isinstance(e, Estimate) and e.devices == devices[0].words for e in events)
    model = keras.saving.load_model(result.run_dir / "model.keras")
    assert base_of(model).dtype_policy.name == "float32"


SCRIPT = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from desktop_app.core.augment.spec import AugmentationSpec
    from desktop_app.core.events import DevicesInUse
    from desktop_app.core.session import TrainingConfig
    from desktop_app.core.train.job import TrainingJob

    data, out = Path(sys.argv[1]), Path(sys.argv[2])
    report = {}
    # Standard training with fine-tuning (the whole model through fit), and fast mode (the head
    # on stored embeddings): no augmentation, no dropout; each epoch's order from the seed.
    for name, changes in {"standard": dict(fast=False, fine_tune_epochs=1, unfreeze_layers=6),
                          "fast": dict(fast=True)}.items():
        devices = []
        config = TrainingConfig.of(data=data, out=out / name, backbone="mobilenet", alpha=0.25, weights=None,
                                   img_size=32, batch_size=4, epochs=2, learning_rate=0.01, seed=5,
                                   augmentation=AugmentationSpec(), dropout=0.0, **changes)
        result = TrainingJob(config, lambda e: isinstance(e, DevicesInUse) and devices.append(e)).run()
        report[name] = {"replicas": devices[0].replicas, "words": devices[0].words,
                        "history": [{k: row[k] for k in ("loss", "accuracy", "val_loss", "val_accuracy")}
                                    for row in result.history]}
    print(json.dumps(report))
    """
)


def _train_in_process(data: Path, out: Path, logical_cpus: int | None) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO), "TRANSFER_STUDIO_DATA_DIR": str(out / "user-data")}
    env.pop(LOGICAL_CPUS_ENV, None)
    if logical_cpus:
        env[LOGICAL_CPUS_ENV] = str(logical_cpus)
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(data), str(out)], env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_mirrored_strategy_over_two_devices_learns_as_the_default_strategy(tmp_path):
    # 24 training photos in batches of 4: every batch splits evenly between the two replicas.
    data = make_image_folder(tmp_path / "data", per_class=10, size=32)
    default = _train_in_process(data, tmp_path / "default", None)
    mirrored = _train_in_process(data, tmp_path / "mirrored", 2)
    for mode in ("standard", "fast"):
        assert default[mode]["replicas"] == 1 and mirrored[mode]["replicas"] == 2
        assert mirrored[mode]["words"].endswith("split into 2 devices")
        assert len(default[mode]["history"]) == len(mirrored[mode]["history"]) == (3 if mode == "standard" else 2)
        for ours, theirs in zip(default[mode]["history"], mirrored[mode]["history"]):
            for key, value in ours.items():
                assert theirs[key] == pytest.approx(value, abs=1e-4), (mode, key, ours, theirs)


def test_a_mixed_precision_run_trains_stores_saves_and_resumes_with_a_float32_output(tmp_path, monkeypatch):
    """The GPU's code path on this CPU: the run is told it has a suitable GPU (TensorFlow still
    computes on the CPU, in float16 where a GPU would)."""
    import desktop_app.core.train.job as job_module

    monkeypatch.setattr(job_module, "local_devices", lambda: Devices(2, (Gpu("Pretend GPU", (8, 0)),)))
    data = make_image_folder(tmp_path / "data", per_class=4, size=32)
    store = embeddings.EmbeddingStore.default()
    keys: dict[bool, set[str]] = {}
    for mixed in (False, True):
        before = store.entries()
        # Fast mode (stored embeddings), then fine-tuning (the whole model through fit).
        config = TrainingConfig.of(data=data, out=tmp_path / f"run-{mixed}", backbone="mobilenet", alpha=0.25,
                                   weights=None, img_size=32, batch_size=4, epochs=1, fine_tune_epochs=1,
                                   augmentation=AugmentationSpec(), mixed_precision=mixed)
        events = []
        result = TrainingJob(config, events.append).run()
        assert [e.mixed_precision for e in events if isinstance(e, DevicesInUse)] == [mixed]
        assert len(result.history) == 2 and all(row["loss"] is not None for row in result.history)
        keys[mixed] = store.entries() - before
    assert keys[False] and keys[True]  # the mixed run looked at the photos again: its own keys

    with precision_policy(MIXED_PRECISION_POLICY):  # as the run loads it
        model = keras.saving.load_model(tmp_path / "run-True" / "model.keras")
    assert model.get_layer("pooling").dtype_policy.name == MIXED_PRECISION_POLICY
    assert model.get_layer("predictions").dtype_policy.name == "float32" and model.output.dtype == "float32"
    # Resumed, its fine-tuning goes on with the optimizer's state (the loss scale's too).
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        resumed = TrainingJob.resume(tmp_path / "run-True", fine_tune_epochs=2).run()
    assert not [w for w in caught if "Skipping variable loading" in str(w.message)]
    steps = [row["optimizer_steps"] for row in resumed.history]
    assert steps[2] - steps[1] == steps[1] > 0
    assert keras.mixed_precision.global_policy().name == "float32"
