"""TrainingJob: stop, crash safety, resume, fine-tuning, fast mode, failures."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest

from conftest import REPO, SHARED_WEIGHTS, make_image_folder, write_image
from desktop_app.core.augment.spec import AugmentationSpec
from desktop_app.core.data.demo import write_demo_images
from desktop_app.core.errors import UserError
from desktop_app.core.runs import RunFolder
from desktop_app.core.events import BatchEnd, CheckpointSaved, EpochEnd, Failed, Finished, PhaseStarted, Progress
from desktop_app.core.model.builder import base_of, preview_unfreeze, summarize
from desktop_app.core.session import FINE_TUNING, TrainingConfig
from desktop_app.core.train.job import TrainingJob

TINY = dict(backbone="mobilenet", alpha=0.25, weights=None, img_size=32, batch_size=4,
            augmentation=AugmentationSpec())


def tiny_config(data: Path, out: Path, **changes) -> TrainingConfig:
    return TrainingConfig.of(data=data, out=out, **{**TINY, **changes})


def real_weights() -> str | None:
    return str(SHARED_WEIGHTS) if SHARED_WEIGHTS.is_file() else None


@pytest.fixture(scope="module")
def shapes(tmp_path_factory) -> Path:
    """A small version of the demo dataset: 4 shape classes, 24 images each, 64 px."""
    folder = tmp_path_factory.mktemp("shapes")
    write_demo_images(folder, images_per_class=24, size=64)
    return folder


def test_stop_ends_within_one_batch_and_leaves_loadable_checkpoints(tmp_path):
    data = make_image_folder(tmp_path / "data", per_class=12)
    batches_after_stop = []
    job: TrainingJob

    def on_event(event):
        if isinstance(event, BatchEnd):
            if job.stop_requested:
                batches_after_stop.append(event)
            elif (event.epoch, event.batch) == (2, 2):
                job.request_stop()

    job = TrainingJob(tiny_config(data, tmp_path / "run", epochs=5, fast=False), on_event)
    result = job.run()
    assert batches_after_stop == []  # the batch that saw the request was the last one
    assert result.stopped_early
    assert [row["epoch"] for row in result.history] == [1]  # epoch 2 was cut short: it does not count
    for name in ("best.keras", "last.keras"):
        model = keras.saving.load_model(tmp_path / "run" / "checkpoints" / name)
        assert model.predict(np.zeros((1, 32, 32, 3)), verbose=0).shape == (1, 3)
    # Resumed to its end, the run no longer counts as stopped.
    finished = TrainingJob.resume(tmp_path / "run", epochs=3).run()
    assert [row["epoch"] for row in finished.history] == [1, 2, 3] and not finished.stopped_early


def test_a_run_stopped_in_its_first_epoch_starts_again_on_resume(tmp_path):
    data = make_image_folder(tmp_path / "data", per_class=6)
    job = TrainingJob(tiny_config(data, tmp_path / "run", epochs=2, fast=False))
    job.on_event = lambda event: isinstance(event, BatchEnd) and job.request_stop()
    assert job.run().history == [] and not (tmp_path / "run" / "checkpoints" / "last.keras").exists()
    assert [row["epoch"] for row in TrainingJob.resume(tmp_path / "run").run().history] == [1, 2]


def test_resume_continues_epochs_history_and_optimizer_state(tmp_path):
    data = make_image_folder(tmp_path / "data", per_class=6)
    run = tmp_path / "run"
    job = TrainingJob(tiny_config(data, run, epochs=4, fast=False))
    job.on_event = lambda e: job.request_stop() if isinstance(e, EpochEnd) and e.epoch == 2 else None
    first = job.run()
    assert [row["epoch"] for row in first.history] == [1, 2]
    steps = math.ceil(len(RunFolder(run).read_split().train) / 4)  # one per batch of 4 training photos
    steps_before = int(keras.saving.load_model(run / "checkpoints" / "last.keras").optimizer.iterations)
    assert steps_before == 2 * steps

    epochs_seen = []
    resumed = TrainingJob.resume(run, on_event=lambda e: isinstance(e, EpochEnd) and epochs_seen.append(e.epoch))
    result = resumed.run()
    assert epochs_seen == [3, 4]
    history = json.loads((run / "history.json").read_text())
    assert [row["epoch"] for row in history] == [1, 2, 3, 4]
    assert history[:2] == [{k: v for k, v in row.items()} for row in first.history]
    assert not result.stopped_early
    # Adam's step counter went on from where it was: the optimizer state was restored.
    assert int(keras.saving.load_model(run / "checkpoints" / "last.keras").optimizer.iterations) == 4 * steps


def test_killed_while_saving_keeps_the_previous_checkpoint(tmp_path):
    data = make_image_folder(tmp_path / "data", per_class=4)
    run = tmp_path / "run"
    script = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        import keras
        from desktop_app.core.augment.spec import AugmentationSpec
        from desktop_app.core.session import TrainingConfig
        from desktop_app.core.train.job import TrainingJob

        real_save = keras.Model.save
        calls = []

        def save_then_die(self, filepath, *args, **kwargs):
            calls.append(filepath)
            if len(calls) > 1:  # epoch 2's checkpoint: die half-way through the file
                Path(filepath).write_bytes(b"PK\\x03\\x04 half a zip")
                os.kill(os.getpid(), signal.SIGKILL)
            return real_save(self, filepath, *args, **kwargs)

        keras.Model.save = save_then_die
        config = TrainingConfig.of(data=Path({str(data)!r}), out=Path({str(run)!r}), backbone="mobilenet",
                                alpha=0.25, weights=None, img_size=32, batch_size=4, epochs=3,
                                augmentation=AugmentationSpec(), fast=False)
        TrainingJob(config).run()
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    last = run / "checkpoints" / "last.keras"
    keras.saving.load_model(last)  # the published checkpoint is whole
    # history.json is written after the checkpoint: both stand at epoch 1.
    assert RunFolder(run).read_checkpoint_meta("last")["epoch"] == 1
    assert [row["epoch"] for row in json.loads((run / "history.json").read_text())] == [1]
    # ...and the run goes on from there, the half-written staged file never published.
    result = TrainingJob.resume(run).run()
    assert [row["epoch"] for row in result.history] == [1, 2, 3]
    for name in ("checkpoints/best.keras", "checkpoints/last.keras", "model.keras"):
        keras.saving.load_model(run / name)


def test_resume_follows_the_checkpoint_when_history_disagrees(tmp_path):
    data = make_image_folder(tmp_path / "data", per_class=4)
    run = tmp_path / "run"
    TrainingJob(tiny_config(data, run, epochs=2, fast=False)).run()
    history = json.loads((run / "history.json").read_text())
    # A crash after history.json but before last.keras: the history is one epoch ahead.
    ahead = history + [{**history[-1], "epoch": 3}]
    (run / "history.json").write_text(json.dumps(ahead))
    assert [r["epoch"] for r in TrainingJob.resume(run, epochs=4).history] == [1, 2]
    # The other way round: the checkpoint's own row fills the gap.
    (run / "history.json").write_text(json.dumps(history[:1]))
    resumed = TrainingJob.resume(run, epochs=3)
    assert [r["epoch"] for r in resumed.history] == [1, 2]
    assert resumed.history[1]["val_accuracy"] == history[1]["val_accuracy"]
    assert [r["epoch"] for r in resumed.run().history] == [1, 2, 3]


def test_fine_tuning_unfreezes_as_the_model_step_predicts_and_continues_smoothly(tmp_path, shapes):
    weights = real_weights()
    phases: list[PhaseStarted] = []
    config = TrainingConfig.of(data=shapes, out=tmp_path / "run", backbone="mobilenet", alpha=0.25, weights=weights,
                            img_size=64, batch_size=16, epochs=3, fine_tune_epochs=2, unfreeze_layers=10,
                            augmentation=AugmentationSpec(), learning_rate=2e-3)
    job = TrainingJob(config, on_event=lambda e: isinstance(e, PhaseStarted) and phases.append(e))
    result = job.run()
    assert [p.phase for p in phases] == ["feature_extraction", FINE_TUNING]
    assert phases[1].first_epoch == 4 and phases[1].last_epoch == 5
    assert phases[1].learning_rate == pytest.approx(2e-4)

    model = keras.saving.load_model(tmp_path / "run" / "checkpoints" / "last.keras")
    predicted = preview_unfreeze(summarize(_frozen_copy(model)), 10).counts.trainable
    assert phases[1].trainable_params == predicted > phases[0].trainable_params

    fe_last, ft_first = result.history[2], result.history[3]
    assert ft_first["phase"] == FINE_TUNING
    assert ft_first["loss"] < fe_last["loss"] * 1.25, "fine-tuning started with a jump in the loss"

    # BatchNormalization layers in the unfrozen top kept their ImageNet statistics.
    base = base_of(model)
    top_bn = [layer for layer in base.layers[-10:] if isinstance(layer, keras.layers.BatchNormalization)]
    assert top_bn and not any(layer.trainable for layer in top_bn)


def _frozen_copy(model):
    base_of(model).trainable = False
    return model


def test_fast_and_standard_mode_agree(tmp_path, shapes):
    results = {}
    for fast in (True, False):
        config = TrainingConfig.of(data=shapes, out=tmp_path / f"run-{fast}", backbone="mobilenet", alpha=0.25,
                                weights=real_weights(), img_size=64, batch_size=16, epochs=5,
                                augmentation=AugmentationSpec(), fast=fast, learning_rate=3e-3)
        job = TrainingJob(config)
        assert job.fast_mode is fast
        results[fast] = job.run().metrics["final_val_accuracy"]
        keras.saving.load_model(tmp_path / f"run-{fast}" / "model.keras")
    assert abs(results[True] - results[False]) <= 0.05 + 1e-9, results  # one validation photo in 20


def test_fast_mode_says_what_it_does(tmp_path):
    assert TrainingJob(tiny_config(tmp_path, tmp_path)).fast_mode
    assert not TrainingJob(tiny_config(tmp_path, tmp_path, fast=False)).fast_mode
    job = TrainingJob(tiny_config(tmp_path, tmp_path, augmentation=AugmentationSpec.preset("light"), epochs=12))
    assert job.fast_mode and "10 changed versions" in job.fast_mode_reason
    assert "after the 10th reuse" in job.fast_mode_reason


def test_an_augmented_version_of_a_photo_does_not_depend_on_the_other_photos(tmp_path):
    """The bank's version v of a photo is seeded by the photo's content and v alone."""
    from desktop_app.core.data.scan import scan_folder
    from desktop_app.core.data.split import make_split
    from desktop_app.core.data.validate import validate_index
    from desktop_app.core.model.builder import build_classifier
    from desktop_app.core.train.embeddings import AugmentedViews
    from desktop_app.core.data.pipeline import image_dataset

    spec = AugmentationSpec.preset("strong")
    model = build_classifier(tiny_config(tmp_path, tmp_path).model, 3, spec, seed=1)
    views = AugmentedViews(model, spec)
    data = make_image_folder(tmp_path / "data", per_class=3, size=32)

    def version(view: int, photo: Path) -> np.ndarray:
        split = make_split(validate_index(scan_folder(data)), 100, 0.3, 1)
        files = [f.path for f in split.train + split.val]
        images = np.stack([image.numpy() for image, _ in image_dataset(files, 32)])
        return views.of(images, [split.digests[f] for f in files], view)[files.index(photo)].numpy()

    photo = data / "red" / "red_1.png"
    before = [version(v, photo) for v in (0, 1)]
    for i in range(5):
        write_image(data / "green" / f"new_{i}.png", (0, 200, 0), seed=900 + i)
    after = [version(v, photo) for v in (0, 1)]
    np.testing.assert_array_equal(before[0], after[0])
    np.testing.assert_array_equal(before[1], after[1])
    assert np.abs(before[0] - before[1]).max() > 1  # two versions differ


def test_validation_on_stored_embeddings_equals_a_full_pass(tmp_path):
    """While the base is frozen, each epoch validates the head on the stored embeddings."""
    from desktop_app.core.train.embeddings import head_model
    from desktop_app.core.data.pipeline import make_dataset

    data = make_image_folder(tmp_path / "data", per_class=8)
    run = tmp_path / "run"
    config = tiny_config(data, run, epochs=2, fast=False, augmentation=AugmentationSpec.preset("light"),
                         label_smoothing=0.1)
    result = TrainingJob(config).run()
    model = keras.saving.load_model(run / "checkpoints" / "last.keras")
    split = RunFolder(run).read_split()
    from desktop_app.core.data.scan import ImageFile

    val = [ImageFile(data / f.path, f.label, "val") for f in split.val]
    model.compile(loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1), metrics=["accuracy"])
    full = model.evaluate(make_dataset(val, 3, 32, 4), return_dict=True, verbose=0)
    assert result.history[-1]["val_loss"] == pytest.approx(full["loss"], abs=1e-5)
    assert result.history[-1]["val_accuracy"] == pytest.approx(full["accuracy"], abs=1e-5)
    assert head_model(model) is not None


def test_the_augmentation_bank_makes_a_second_experiment_take_no_new_looks(tmp_path):
    from desktop_app.core.train.embeddings import EmbeddingStore

    data = make_image_folder(tmp_path / "data", per_class=5)
    light = AugmentationSpec.preset("light")
    first = TrainingJob(tiny_config(data, tmp_path / "a", epochs=3, augmentation=light)).run()
    stored = EmbeddingStore.default().entries()
    assert len(stored) >= 3 * len(RunFolder(tmp_path / "a").read_split().train)
    looks = []
    job = TrainingJob(tiny_config(data, tmp_path / "b", epochs=3, augmentation=light, learning_rate=3e-3),
                      lambda e: isinstance(e, Progress) and looks.append(e))
    second = job.run()
    assert EmbeddingStore.default().entries() == stored  # every version was stored already
    assert [row["epoch"] for row in second.history] == [1, 2, 3] and first.history != second.history


def test_fast_mode_reuses_stored_embeddings(tmp_path):
    from desktop_app.core.train.embeddings import EmbeddingStore

    data = make_image_folder(tmp_path / "data", per_class=5)
    TrainingJob(tiny_config(data, tmp_path / "a", epochs=1)).run()
    first = EmbeddingStore.default().entries()
    assert len(first) == 15  # one per photo, training and validation
    TrainingJob(tiny_config(data, tmp_path / "b", epochs=1)).run()
    assert EmbeddingStore.default().entries() == first  # reused, nothing new
    # A changed image is a new entry; the others are reused.
    next((data / "red").glob("*.png")).write_bytes((data / "blue" / "blue_0.png").read_bytes())
    TrainingJob(tiny_config(data, tmp_path / "c", epochs=1)).run()
    assert len(EmbeddingStore.default().entries()) == len(first)  # its content is blue_0's: stored already
    from conftest import write_image

    write_image(data / "red" / "red_1.png", (1, 2, 3), seed=77)
    TrainingJob(tiny_config(data, tmp_path / "d", epochs=1)).run()
    assert len(EmbeddingStore.default().entries()) == len(first) + 1


def test_pretrained_weights_beat_random_weights(tmp_path, shapes, shared_weights):
    accuracy = {}
    for weights in (str(shared_weights), None):
        config = TrainingConfig.of(data=shapes, out=tmp_path / f"run-{weights is None}", backbone="mobilenet",
                                alpha=0.25, weights=weights, img_size=64, batch_size=16, epochs=5,
                                augmentation=AugmentationSpec(), learning_rate=3e-3)
        accuracy[weights is None] = TrainingJob(config).run().metrics["best_val_accuracy"]
    assert accuracy[False] > accuracy[True] + 0.1, accuracy


@pytest.mark.parametrize("classes", [3, 5])
def test_the_first_step_starts_at_a_uniform_guess(tmp_path, classes):
    """The classification layer starts at zero (BiT): loss ln(K) for K classes, whatever the photos."""
    from desktop_app.core.model.builder import param_counts

    colours = {f"c{i}": (40 * i, 255 - 40 * i, (90 * i) % 256) for i in range(classes)}
    data = make_image_folder(tmp_path / "data", per_class=5, classes=colours)
    first = []
    job = TrainingJob(tiny_config(data, tmp_path / "run", epochs=1, fast=False, hidden_units=8),
                      lambda e: isinstance(e, BatchEnd) and not first and first.append(e.metrics["loss"]))
    job.run()
    assert first[0] == pytest.approx(math.log(classes), abs=0.05)
    model = keras.saving.load_model(tmp_path / "run" / "model.keras")
    assert param_counts(model).trainable == (256 + 1) * 8 + (8 + 1) * classes  # the counts do not change


def test_real_weights_learn_the_shapes_in_two_epochs(tmp_path, shared_weights):
    """The notebook's quick advice, on the tests' 3-class photos: 2 epochs at the default
    learning rate with the small real MobileNet."""
    data = make_image_folder(tmp_path / "data", per_class=16, size=64)
    accuracy = {}
    for weights in (str(shared_weights), None):
        config = TrainingConfig.of(data=data, out=tmp_path / f"run-{weights is None}", backbone="mobilenet",
                                   alpha=0.25, weights=weights, img_size=64, batch_size=8, epochs=2,
                                   augmentation=AugmentationSpec())
        accuracy[weights is None] = TrainingJob(config).run().metrics["best_val_accuracy"]
    assert accuracy[False] >= 0.9 and accuracy[False] >= accuracy[True] + 0.3, accuracy


def test_nan_loss_stops_cleanly_and_keeps_earlier_checkpoints(tmp_path):
    data = make_image_folder(tmp_path / "data", per_class=6)
    run = tmp_path / "run"
    events = []
    config = tiny_config(data, run, epochs=1, fine_tune_epochs=2, fine_tune_learning_rate=float("inf"), unfreeze_layers=30)
    with pytest.raises(UserError, match="NaN"):
        TrainingJob(config, events.append).run()
    assert isinstance(events[-1], Failed) and "learning rate" in events[-1].message
    saved = [e.epoch for e in events if isinstance(e, CheckpointSaved) and e.kind == "last"]
    assert saved == [1]
    model = keras.saving.load_model(run / "checkpoints" / "last.keras")
    assert all(np.isfinite(w).all() for w in model.get_weights())
    history = json.loads((run / "history.json").read_text())
    assert history[-1]["nan"] and history[-1]["loss"] is None


def test_unwritable_checkpoint_stops_with_a_message_and_keeps_earlier_ones(tmp_path):
    data = make_image_folder(tmp_path / "data", per_class=6)
    run = tmp_path / "run"
    events = []

    def on_event(event):
        events.append(event)
        if isinstance(event, CheckpointSaved) and event.kind == "last" and event.epoch == 1:
            # Stands in for a full disk: the next write of last.keras fails.
            (run / "checkpoints" / ".incoming" / "last.keras").mkdir()

    with pytest.raises(UserError, match="Could not write"):
        TrainingJob(tiny_config(data, run, epochs=3, fast=False), on_event).run()
    assert isinstance(events[-1], Failed)
    assert not any(isinstance(e, Finished) for e in events)
    keras.saving.load_model(run / "checkpoints" / "last.keras")
    assert [e.epoch for e in events if isinstance(e, CheckpointSaved) and e.kind == "last"] == [1]


def test_label_smoothing_reaches_the_loss(tmp_path):
    data = make_image_folder(tmp_path / "data", per_class=4)
    run = tmp_path / "run"
    TrainingJob(tiny_config(data, run, epochs=1, label_smoothing=0.3)).run()
    model = keras.saving.load_model(run / "checkpoints" / "last.keras")
    assert model.loss.get_config()["label_smoothing"] == pytest.approx(0.3)


def test_head_checkpoints_never_meet_another_phases_base(tmp_path):
    """A new fast phase replaces whole.keras; the head checkpoints of the earlier phase are
    made whole first, so they keep predicting what they did."""
    from desktop_app.core.model.builder import build_classifier
    from desktop_app.core.runs import BEST, LAST
    from desktop_app.core.train import checkpoints

    data = make_image_folder(tmp_path / "data", per_class=5)
    config = tiny_config(data, tmp_path / "run", epochs=2, augmentation=AugmentationSpec.preset("light"))
    TrainingJob(config).run()
    run = RunFolder(tmp_path / "run")
    images = np.random.default_rng(0).uniform(0, 255, (4, 32, 32, 3)).astype("float32")

    def predictions(kind):
        with run.whole_checkpoint(kind) as path:
            return keras.saving.load_model(path).predict(images, verbose=0)

    before = {kind: predictions(kind) for kind in (BEST, LAST)}
    assert all(run.read_checkpoint_meta(kind)["head"] for kind in (BEST, LAST))
    other = build_classifier(config.model, 3, config.augmentation, seed=99)  # another random base
    checkpoints.publish_whole(run, other, 2)
    for kind in (BEST, LAST):
        assert not run.read_checkpoint_meta(kind)["head"]
        np.testing.assert_allclose(predictions(kind), before[kind], atol=1e-6)


def test_a_fine_tuned_run_does_not_go_back_to_a_frozen_base(tmp_path):
    from desktop_app.core.errors import RefusedError

    data = make_image_folder(tmp_path / "data", per_class=5)
    TrainingJob(tiny_config(data, tmp_path / "run", epochs=1, fine_tune_epochs=1, unfreeze_layers=5)).run()
    with pytest.raises(RefusedError, match="fine-tuned"):
        TrainingJob.resume(tmp_path / "run", epochs=3)
    # More fine-tuning is fine.
    from desktop_app.core.train.plan import plan_fine_tuning

    resumed = TrainingJob.resume(tmp_path / "run", **plan_fine_tuning(tmp_path / "run", 1)).run()
    assert [row["phase"] for row in resumed.history] == ["feature_extraction", "fine_tuning", "fine_tuning"]


# --------------------------------------------------------------------------- runs that follow the user (issue 14)


def test_a_new_runs_name_says_its_dataset_base_and_time(tmp_path):
    import re

    from desktop_app.core.data.demo import demo_dataset_dir
    from desktop_app.core.runs import new_run_dir

    first = new_run_dir("efficientnet_v2_b0", tmp_path, tmp_path / "Flower photos")
    assert re.fullmatch(r"flower-photos-efficientnetv2b0-\d{4}-\d\d-\d\d_\d{4}", first.name), first.name
    first.mkdir()
    assert new_run_dir("efficientnet_v2_b0", tmp_path, tmp_path / "Flower photos").name == f"{first.name}-2"
    assert new_run_dir("mobilenet", tmp_path, demo_dataset_dir()).name.startswith("shapes-mobilenet-")
    # Only letters, digits and dashes whatever the folder is called, and short.
    odd = new_run_dir("mobilenet_v2", tmp_path, tmp_path / "Blätter: Klasse 7b, Herbst * 2026 und noch mehr").name
    assert re.fullmatch(r"blatter-klasse-7b-herbst-mobilenetv2-[0-9_-]+", odd), odd


def test_a_failed_start_leaves_no_run_folder(tmp_path):
    data = make_image_folder(tmp_path / "data", per_class=3)
    run = tmp_path / "run"
    events = []
    with pytest.raises(UserError, match="does not exist"):
        TrainingJob(tiny_config(data, run, weights=str(tmp_path / "nope.h5")), events.append).run()
    assert any(isinstance(e, Failed) for e in events)
    assert not run.exists()
    # Given a folder that holds other files (the command line's --out), only the run's own files go.
    run.mkdir()
    (run / "notes.txt").write_text("mine")
    with pytest.raises(UserError):
        TrainingJob(tiny_config(data, run, weights=str(tmp_path / "nope.h5"))).run()
    assert [p.name for p in run.iterdir()] == ["notes.txt"]


def test_a_run_belongs_to_its_dataset_wherever_it_is_now(tmp_path):
    import shutil

    from desktop_app.core.data.scan import scan_folder
    from desktop_app.core.data.split import RecordedSplit, make_split
    from desktop_app.core.data.validate import validate_index

    shapes = make_image_folder(tmp_path / "shapes", per_class=4)
    # Another dataset with the very same class names: not the run's.
    other = make_image_folder(tmp_path / "other", per_class=4, size=30)
    index = validate_index(scan_folder(shapes))
    run = RunFolder(tmp_path / "run")
    run.create()
    run.write_config(tiny_config(shapes, run.path))
    run.write_labels(index.classes)
    run.write_split(RecordedSplit.of(make_split(index, 50.0), shapes))

    assert run.belongs_to(index)
    assert not run.belongs_to(validate_index(scan_folder(other)))
    moved = shutil.move(shapes, tmp_path / "usb" / "shapes copy")
    assert run.belongs_to(validate_index(scan_folder(moved)))
    # A run made before runs recorded their photos goes by its class names.
    run.split_path.unlink()
    config = json.loads(run.config_path.read_text())
    run.config_path.write_text(json.dumps({**config, "schema_version": 2}))
    assert run.belongs_to(validate_index(scan_folder(other)))
    assert not run.belongs_to(validate_index(scan_folder(make_image_folder(tmp_path / "two", per_class=2, classes={
        "cats": (1, 2, 3), "dogs": (200, 100, 0)}))))
