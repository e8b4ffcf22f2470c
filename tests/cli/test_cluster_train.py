"""`transfer-studio train --cluster`: one run trained by two worker processes on this machine
(MultiWorkerMirroredStrategy over 127.0.0.1), a worker that never comes, and workers that
disagree about the photos."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, make_image_folder, write_image
from desktop_app.core.crashpoints import KILL_AT_ENV
from desktop_app.core.errors import UserError
from desktop_app.core.train.cluster import read_cluster

TINY = ["--weights", "none", "--base", "mobilenet", "--alpha", "0.25", "--img-size", "32", "--batch-size", "8",
        "--no-augment"]


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def cluster_file(tmp_path: Path, workers: int = 2) -> tuple[Path, list[str]]:
    addresses = [f"127.0.0.1:{port}" for port in free_ports(workers)]
    path = tmp_path / "cluster.json"
    path.write_text(json.dumps({"workers": addresses}))
    return path, addresses


def start_worker(task: int, data: Path, out: Path, cluster: Path, *extra: str, scratch: Path | None = None,
                 kill_at: str | None = None):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "TF_CPP_MIN_LOG_LEVEL": "2"}
    if kill_at is not None:
        env[KILL_AT_ENV] = kill_at
    if scratch is not None:  # where a worker that is not the chief writes its throw-away run
        scratch.mkdir(exist_ok=True)
        env["TMPDIR"] = str(scratch)
    return subprocess.Popen(
        [sys.executable, "-m", "desktop_app", "train", str(data), "--out", str(out), "--cluster", str(cluster),
         "--task", str(task), *TINY, *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, env=env)


def finish(*workers, timeout: float = 400) -> list[tuple[int, str, str]]:
    results = []
    for worker in workers:
        try:
            out, err = worker.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            for w in workers:
                w.kill()
            raise
        results.append((worker.returncode, out, err))
    return results


def epoch_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith("Epoch ")]


def test_two_workers_train_one_run_that_the_chief_writes(tmp_path):
    data = make_image_folder(tmp_path / "data", per_class=10)
    cluster, addresses = cluster_file(tmp_path)
    out, scratch = tmp_path / "run", tmp_path / "scratch"
    chief = start_worker(0, data, out, cluster, "--epochs", "2")
    other = start_worker(1, data, tmp_path / "not-written", cluster, "--epochs", "2", scratch=scratch)
    (code0, out0, err0), (code1, out1, err1) = finish(chief, other)
    assert code0 == 0, err0
    assert code1 == 0, err1
    assert "Training on 2 machines" in out0 and "each batch split between them" in out0
    # Both workers trained the same steps: each prints the whole cluster's numbers.
    assert [line.split(":")[0] for line in epoch_lines(out0)] == ["Epoch 1/2", "Epoch 2/2"]
    assert [line.rsplit("(", 1)[0] for line in epoch_lines(out1)] == [line.rsplit("(", 1)[0]
                                                                      for line in epoch_lines(out0)]
    assert "Done: the chief has written the run." in out1
    # One complete run folder, by the chief; the other worker's throw-away run is gone.
    assert not (tmp_path / "not-written").exists()
    assert list(scratch.glob("transfer-studio-worker*")) == []
    history = json.loads((out / "history.json").read_text())
    assert [row["epoch"] for row in history] == [1, 2]
    assert all(np.isfinite(row[k]) for row in history for k in ("loss", "accuracy", "val_loss", "val_accuracy"))
    batches = 3  # 24 training photos, 8 a step (4 on each worker)
    assert [row["optimizer_steps"] for row in history] == [batches, 2 * batches]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs_completed"] == 2 and metrics["num_train_images"] == 24 and metrics["num_val_images"] == 6
    assert metrics["best_val_accuracy"] == max(row["val_accuracy"] for row in history)

    import keras

    model = keras.saving.load_model(out / "model.keras")
    assert model.predict(np.zeros((2, 32, 32, 3), np.float32), verbose=0).shape == (2, 3)


def test_a_worker_killed_mid_run_stops_the_chief_with_a_sentence_and_the_restarted_cluster_goes_on(tmp_path):
    data = make_image_folder(tmp_path / "data", per_class=10)
    cluster, addresses = cluster_file(tmp_path)
    out, scratch = tmp_path / "run", tmp_path / "scratch"
    chief = start_worker(0, data, out, cluster, "--epochs", "2")
    other = start_worker(1, data, out, cluster, "--epochs", "2", scratch=scratch, kill_at="history-written")
    (code0, out0, err0), (code1, _out1, _err1) = finish(chief, other)
    assert code1 == -9  # SIGKILL, after its first epoch
    assert code0 != 0
    assert (f"Worker 1 at {addresses[1]} stopped answering, so training stopped after 1 complete epoch(s); "
            "the checkpoints are intact.") in err0
    assert [row["epoch"] for row in json.loads((out / "history.json").read_text())] == [1]

    chief = start_worker(0, data, out, cluster, "--epochs", "2")
    other = start_worker(1, data, out, cluster, "--epochs", "2", scratch=scratch)
    (code0, out0, err0), (code1, out1, err1) = finish(chief, other)
    assert code0 == 0 and code1 == 0, err0 + err1
    # Both go on from the chief's last complete epoch, with its weights and optimizer state.
    assert "Going on after epoch 1" in out0 and "Going on after epoch 1" in out1
    assert [line.split(":")[0] for line in epoch_lines(out0)] == ["Epoch 2/2"]
    history = json.loads((out / "history.json").read_text())
    assert [row["epoch"] for row in history] == [1, 2]
    assert [row["optimizer_steps"] for row in history] == [3, 6]  # the step count goes on


def test_a_worker_that_never_comes_ends_with_a_sentence_naming_it(tmp_path):
    data = make_image_folder(tmp_path / "data", per_class=4)
    cluster, addresses = cluster_file(tmp_path)
    started = time.monotonic()
    chief = start_worker(0, data, tmp_path / "run", cluster, "--epochs", "1", "--cluster-timeout", "5")
    [(code, out, err)] = finish(chief, timeout=120)
    assert code != 0
    assert f"worker 1 at {addresses[1]} was not reachable within 5 s" in err
    assert time.monotonic() - started < 90  # bounded: TensorFlow alone would wait without end
    assert not (tmp_path / "run").exists()


def test_workers_that_see_other_photos_refuse_to_train(tmp_path):
    data = make_image_folder(tmp_path / "data", per_class=6)
    other_copy = tmp_path / "other-copy"
    shutil.copytree(data, other_copy)
    write_image(other_copy / "red" / "extra.png", (250, 10, 10), seed=99)
    cluster, addresses = cluster_file(tmp_path)
    chief = start_worker(0, data, tmp_path / "run", cluster, "--epochs", "1")
    other = start_worker(1, other_copy, tmp_path / "run", cluster, "--epochs", "1", scratch=tmp_path / "scratch")
    (code0, _out0, err0), (code1, _out1, err1) = finish(chief, other)
    sentence = f"Worker 1 at {addresses[1]} sees other photos than the chief"
    assert code0 != 0 and sentence in err0
    assert code1 != 0 and sentence in err1
    assert not (tmp_path / "run").exists()  # nothing half-made is left


@pytest.mark.parametrize("text, task, words", [
    ("not json", 0, "not valid JSON"),
    ('{"hosts": ["a:1"]}', 0, 'must look like {"workers"'),
    ('{"workers": ["no-port"]}', 0, "is not an address"),
    ('{"workers": ["a:1", "a:1"]}', 0, "the same address twice"),
    ('{"workers": ["a:1", "b:2"]}', 2, "numbered 0 to 1"),
])
def test_a_bad_cluster_file_is_one_sentence(tmp_path, text, task, words):
    path = tmp_path / "cluster.json"
    path.write_text(text)
    with pytest.raises(UserError) as caught:
        read_cluster(path, task)
    assert words in str(caught.value)


def test_the_cluster_file_becomes_tf_config(tmp_path):
    path = tmp_path / "cluster.json"
    path.write_text('{"workers": ["10.0.0.1:2222", "10.0.0.2:2222"]}')
    config = json.loads(read_cluster(path, 1).tf_config(1))
    assert config == {"cluster": {"worker": ["10.0.0.1:2222", "10.0.0.2:2222"]}, "task": {"type": "worker", "index": 1}}
