"""Crash safety, proven by killing a real training process (SIGKILL) at the moments that matter.

``TRANSFER_STUDIO_KILL_AT=NAME:N`` makes a process kill itself the N-th time it reaches
the crash point NAME (``core/crashpoints.py``); each run below is resumed after its death.
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys

import keras
import pytest

from conftest import REPO, make_image_folder
from desktop_app.core.runs import BEST, LAST, RunFolder

TINY = ["--base", "mobilenet", "--alpha", "0.25", "--weights", "none", "--img-size", "32", "--batch-size", "4",
        "--no-augment", "--no-fast"]


def transfer_studio(*args: str, kill_at: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(REPO)}
    env.pop("TRANSFER_STUDIO_KILL_AT", None)
    if kill_at:
        env["TRANSFER_STUDIO_KILL_AT"] = kill_at
    return subprocess.run([sys.executable, "-m", "desktop_app", *args], capture_output=True, text=True,
                          env=env, timeout=600)


def steps_per_epoch(run: RunFolder) -> int:
    split = run.read_split()
    return math.ceil(len(split.train) / run.read_config().training.batch_size)


def assert_whole(run: RunFolder, epochs: int, fine_tune_epochs: int) -> None:
    """History 1..N exactly once; each phase's optimizer saw exactly its epochs' steps;
    metrics agree with history; every checkpoint and the model load."""
    history = run.read_history()
    assert [row["epoch"] for row in history] == list(range(1, epochs + fine_tune_epochs + 1))
    steps = steps_per_epoch(run)
    for row in history:
        phase_epoch = row["epoch"] if row["phase"] == "feature_extraction" else row["epoch"] - epochs
        assert row["optimizer_steps"] == phase_epoch * steps, row
    metrics = run.read_metrics()
    best = max(history, key=lambda row: row["val_accuracy"])
    assert metrics["epochs_completed"] == len(history)
    assert metrics["best_val_accuracy"] == best["val_accuracy"] and metrics["final_val_accuracy"] == history[-1][
        "val_accuracy"]
    checkpoints = {c.kind: c for c in run.checkpoints()}
    assert checkpoints[LAST].epoch == len(history)
    assert history[checkpoints[BEST].epoch - 1]["val_accuracy"] == metrics["best_val_accuracy"]
    for kind in (LAST, BEST):
        with run.whole_checkpoint(kind) as path:
            keras.saving.load_model(path)
    keras.saving.load_model(run.model_path)
    assert not run.staging_dir.exists() or not any(run.staging_dir.iterdir())


def test_a_kill_right_after_publishing_does_not_train_that_epoch_twice(tmp_path):
    data = make_image_folder(tmp_path / "data", per_class=6)
    run = RunFolder(tmp_path / "run")
    died = transfer_studio("train", str(data), "--out", str(run.path), *TINY, "--epochs", "4",
                           kill_at="checkpoint-published:2")
    assert died.returncode == -signal.SIGKILL, died.stderr[-2000:]
    assert {c.kind: c.epoch for c in run.checkpoints()}[LAST] == 2  # the checkpoint knows its epoch itself
    done = transfer_studio("train", "--resume", str(run.path))
    assert done.returncode == 0, done.stderr[-2000:]
    assert_whole(run, 4, 0)


@pytest.mark.timeout(1200)
def test_chaos_kills_all_through_a_run_with_fine_tuning(tmp_path):
    """6 feature-extraction and 2 fine-tuning epochs; every epoch is killed between Keras'
    write and the rename and right after the rename (after the history, in one epoch),
    most also before any file is written, and once right after fine-tuning recompiled."""
    data = make_image_folder(tmp_path / "data", per_class=6)
    run = RunFolder(tmp_path / "run")
    command = ["train", str(data), "--out", str(run.path), *TINY, "--epochs", "6", "--fine-tune-epochs", "2",
               "--unfreeze", "5"]
    tried: list[str] = []
    for epoch in range(1, 9):
        moments = ["checkpoint-staged", "checkpoint-published"]
        if epoch in (1, 3, 5, 7, 8):
            moments.insert(0, "epoch-end")
        if epoch == 7:
            moments.insert(0, "fine-tune-compiled")  # the recompile for fine-tuning
        if epoch == 4:
            moments[-1] = "history-written"  # later still: the history is written too
        for moment in moments:
            result = transfer_studio(*command, kill_at=f"{moment}:1")
            assert result.returncode == -signal.SIGKILL, (moment, epoch, result.stderr[-2000:])
            tried.append(f"{moment} (epoch {epoch})")
            command = ["train", "--resume", str(run.path)]
            done = {c.kind: c.epoch for c in run.checkpoints()}.get(LAST, 0)
            counts = moment in ("checkpoint-published", "history-written")
            assert done == (epoch if counts else epoch - 1), (tried[-3:], result.stdout[-1500:])
    result = transfer_studio(*command)
    assert result.returncode == 0, result.stderr[-2000:]
    print(f"chaos test: {len(tried)} SIGKILLs: {'; '.join(tried)}")
    assert len(tried) >= 20
    assert_whole(run, 6, 2)


def test_fast_mode_keeps_the_head_each_epoch_and_a_kill_loses_nothing(tmp_path):
    """While only the head trains, each epoch's checkpoint is the head (and its optimizer);
    killed mid-phase, the run resumes from its last head checkpoint and ends as an
    uninterrupted run does; its model.keras is the whole classifier, in a fresh process."""
    data = make_image_folder(tmp_path / "data", per_class=6)
    fast = [arg for arg in TINY if arg not in ("--no-fast", "--no-augment")] + ["--augment", "light", "--epochs", "4"]
    whole_run = RunFolder(tmp_path / "uninterrupted")
    assert transfer_studio("train", str(data), "--out", str(whole_run.path), *fast).returncode == 0
    run = RunFolder(tmp_path / "run")
    died = transfer_studio("train", str(data), "--out", str(run.path), *fast, kill_at="whole-published:1")
    assert died.returncode == -signal.SIGKILL and not run.checkpoints(), died.stderr[-2000:]  # no epoch yet
    died = transfer_studio("train", "--resume", str(run.path), kill_at="checkpoint-published:2")
    assert died.returncode == -signal.SIGKILL, died.stderr[-2000:]
    assert run.read_checkpoint_meta(LAST)["head"] and run.read_checkpoint_meta(LAST)["epoch"] == 2
    assert run.checkpoint_path(LAST).stat().st_size * 5 < run.checkpoint_path("whole").stat().st_size
    done = transfer_studio("train", "--resume", str(run.path))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Resuming after epoch 2" in done.stdout
    assert_whole(run, 4, 0)
    steps = [row["optimizer_steps"] for row in run.read_history()]
    assert steps == [row["optimizer_steps"] for row in whole_run.read_history()]
    assert steps == [steps_per_epoch(run) * epoch for epoch in (1, 2, 3, 4)]
    # The Train page's Restore puts a head checkpoint into the whole model in the window's
    # process, which never imports TensorFlow.
    restore = ("import sys; from desktop_app.core.runs import RunFolder; RunFolder(sys.argv[1]).restore_checkpoint("
               "'last'); assert not {'tensorflow', 'keras'} & set(sys.modules), 'TensorFlow imported'")
    restored = subprocess.run([sys.executable, "-c", restore, str(run.path)], capture_output=True, text=True,
                              timeout=300)
    assert restored.returncode == 0, restored.stderr[-2000:]
    check = ("import sys, keras, numpy as np; m = keras.saving.load_model(sys.argv[1]); "
             "p = m.predict(np.zeros((2, 32, 32, 3)), verbose=0); assert p.shape == (2, 3), p.shape; "
             "assert m.get_layer('base_model') is not None; print(int(m.optimizer.iterations))")
    fresh = subprocess.run([sys.executable, "-c", check, str(run.model_path)], capture_output=True, text=True,
                           timeout=300)
    assert fresh.returncode == 0, fresh.stderr[-2000:]
    assert int(fresh.stdout.split()[-1]) == steps[-1]  # the last epoch's head, optimizer state included


def test_best_is_the_most_accurate_epoch_and_of_equals_the_surest(tmp_path):
    """An epoch as accurate as the best but with a lower validation loss becomes the best:
    otherwise the first epoch to get every photo right stays "best" however unsure it was."""
    from desktop_app.core.runs import checkpoint_meta
    from desktop_app.core.train.checkpoints import checkpoint_callbacks
    from desktop_app.core.train.plan import best_row

    run = RunFolder(tmp_path / "run")
    run.create()
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, activation="softmax")])
    epochs = [(0.75, 0.60), (1.0, 0.40), (1.0, 0.10), (1.0, 0.30), (0.9, 0.05), (1.0, float("nan")), (1.0, 0.10)]
    history = [{"epoch": e, "val_accuracy": a, "val_loss": l} for e, (a, l) in enumerate(epochs, start=1)]
    callbacks = checkpoint_callbacks(run, epoch_row=lambda epoch: history[epoch - 1], history=lambda: history)
    for callback in callbacks:
        callback.set_model(model)
        callback.on_train_begin()
    best_after = []
    for epoch, (accuracy, loss) in enumerate(epochs):
        for callback in callbacks:
            callback.on_epoch_begin(epoch)
        logs = {"loss": 0.5, "val_accuracy": accuracy, "val_loss": loss}
        for callback in callbacks:
            callback.on_epoch_end(epoch, logs)
        best_after.append(checkpoint_meta(run.checkpoint_path(BEST))["epoch"])
    assert best_after == [1, 2, 3, 3, 3, 3, 3]  # a tie on both counts keeps the earlier epoch
    assert best_row(history)["epoch"] == 3  # the run's metrics name the same epoch
