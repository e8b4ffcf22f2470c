"""Several machines training one run: the cluster file, TensorFlow's TF_CONFIG, and the
sentences for a worker that is not there.

``cluster.json`` is ``{"workers": ["host:port", ...]}``; task 0 is the chief, the one that
writes the run folder. Each machine runs the same ``transfer-studio train ... --cluster
cluster.json --task N``. TensorFlow waits for every worker without end, and keeps waiting
through SIGTERM, so a watchdog gives up after a bounded time with a sentence naming the
workers it cannot reach (``Watchdog``). No TensorFlow here: TF_CONFIG must be set before it loads.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from desktop_app.core.errors import UserError

TF_CONFIG = "TF_CONFIG"
DEFAULT_TIMEOUT = 120.0  # seconds a worker waits for the others (starting machines by hand takes a while)
_ADDRESS = re.compile(r"^\[?([A-Za-z0-9_.:-]+?)\]?:(\d{1,5})$")


@dataclass(frozen=True)
class Cluster:
    workers: tuple[str, ...]  # "host:port", task 0 first

    def name(self, task: int) -> str:
        role = " (the chief)" if task == 0 else ""
        return f"worker {task}{role} at {self.workers[task]}"

    def tf_config(self, task: int) -> str:
        """TensorFlow's TF_CONFIG for ``task``: MultiWorkerMirroredStrategy makes worker 0 the chief."""
        return json.dumps({"cluster": {"worker": list(self.workers)}, "task": {"type": "worker", "index": task}})


def read_cluster(path: str | os.PathLike, task: int) -> Cluster:
    """The cluster file, checked, with a sentence for each way it can be wrong."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise UserError(f"Could not read the cluster file {path} ({e.strerror or e}).") from None
    except ValueError as e:
        raise UserError(f"The cluster file {path} is not valid JSON ({e}).") from None
    workers = data.get("workers") if isinstance(data, dict) else None
    if not isinstance(workers, list) or not workers or not all(isinstance(w, str) for w in workers):
        raise UserError(f'The cluster file {path} must look like {{"workers": ["host:port", "host:port"]}}, '
                        "one address per machine, the chief first.")
    for address in workers:
        match = _ADDRESS.match(address.strip())
        if match is None or not 0 < int(match.group(2)) < 65536:
            raise UserError(f'"{address}" in {path} is not an address: write host:port, e.g. "192.168.1.20:12345".')
    if len(set(workers)) != len(workers):
        raise UserError(f"{path} names the same address twice: each worker needs its own host:port.")
    if not 0 <= task < len(workers):
        raise UserError(f"--task {task} is not in {path}: it lists {len(workers)} worker(s), numbered 0 to "
                        f"{len(workers) - 1} (0 is the chief).")
    return Cluster(tuple(w.strip() for w in workers))


def reachable(address: str, timeout: float = 2.0) -> bool:
    """Whether something accepts connections at ``host:port``."""
    match = _ADDRESS.match(address)
    try:
        with socket.create_connection((match.group(1), int(match.group(2))), timeout=timeout):
            return True
    except OSError:
        return False


def unreachable_sentence(cluster: Cluster, task: int, seconds: float) -> str:
    others = [t for t in range(len(cluster.workers)) if t != task]
    missing = [t for t in others if not reachable(cluster.workers[t])] or others
    names = ", ".join(cluster.name(t) for t in missing)
    verb = "was" if len(missing) == 1 else "were"
    return (f"The cluster did not come together: {names} {verb} not reachable within {seconds:g} s. Start "
            "`transfer-studio train ... --cluster` with its --task number on that machine, and check its address "
            "and port in the cluster file and that no firewall blocks the port.")


def lost_worker_sentence(cluster: Cluster, task: int, error: BaseException, epochs_done: int) -> str:
    """A worker stopped answering in the middle of training (TensorFlow names it as ``task:N``)."""
    found = re.findall(r"task:(\d+)", str(error))
    tasks = sorted({int(t) for t in found if int(t) < len(cluster.workers)} - {task})
    who = ", ".join(cluster.name(t) for t in tasks) if tasks else "A worker"
    return (f"{who[0].upper()}{who[1:]} stopped answering, so training stopped after {epochs_done} complete "
            "epoch(s); the checkpoints are intact. Run the same command again on every machine to go on from the "
            "last complete epoch.")


class Watchdog:
    """Ends this process with a sentence unless the block ends within ``seconds``.

    TensorFlow's wait for the cluster holds Python's interpreter lock, has no end and ignores
    SIGTERM: no thread or signal handler of this process can run meanwhile. So a small
    process of its own watches: told nothing before the time is up, it says why (probing which
    workers answer) and kills this one; it goes quietly when the block ends or this process dies."""

    def __init__(self, cluster: Cluster, task: int, seconds: float):
        self.cluster, self.task, self.seconds = cluster, task, seconds
        self._process: subprocess.Popen | None = None

    def __enter__(self) -> Watchdog:
        self._process = subprocess.Popen(
            [sys.executable, "-m", __name__, str(os.getpid()), str(self.task), str(self.seconds),
             json.dumps(list(self.cluster.workers))], stdin=subprocess.PIPE)
        return self

    def __exit__(self, *_exc) -> None:
        self._process.stdin.close()  # the watchdog reads the end of its input: all is well
        self._process.wait()


def _watch(pid: int, task: int, seconds: float, workers: list[str]) -> None:
    told = threading.Thread(target=sys.stdin.read, daemon=True)  # ends when the block ends or the process dies
    told.start()
    told.join(seconds)
    if told.is_alive():
        print(f"Error: {unreachable_sentence(Cluster(tuple(workers)), task, seconds)}", file=sys.stderr, flush=True)
        os.kill(pid, getattr(signal, "SIGKILL", signal.SIGTERM))


if __name__ == "__main__":
    _watch(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), json.loads(sys.argv[4]))
