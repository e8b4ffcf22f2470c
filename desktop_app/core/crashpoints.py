"""Named moments where a test may kill this process, to prove what survives a crash.

``TRANSFER_STUDIO_KILL_AT=NAME:N`` (set only by tests) makes the N-th ``reached(NAME)``
of this process send itself SIGKILL: no clean-up runs, exactly like a power cut or the
task manager. Without the variable ``reached`` costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal
import threading

KILL_AT_ENV = "TRANSFER_STUDIO_KILL_AT"
_counts: dict[str, int] = {}
_lock = threading.Lock()


def reached(name: str) -> None:
    target = os.environ.get(KILL_AT_ENV)
    if not target:
        return
    wanted, _, nth = target.partition(":")
    if wanted != name:
        return
    with _lock:
        _counts[name] = _counts.get(name, 0) + 1
        if _counts[name] == int(nth or 1):
            os.kill(os.getpid(), signal.SIGKILL)
