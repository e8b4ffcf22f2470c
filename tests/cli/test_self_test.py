"""``transfer-studio --self-test``: what packaging/smoke.sh runs inside the built app."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from conftest import REPO


def test_the_self_test_starts_the_engine_and_a_training_process(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "TRANSFER_STUDIO_DATA_DIR": str(tmp_path / "data"),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "KERAS_HOME": str(tmp_path / "keras"),
           "PYTHONPATH": str(REPO)}
    # From another folder, as smoke.sh runs the built program: nothing is found relative to the checkout.
    done = subprocess.run([sys.executable, "-m", "desktop_app", "--self-test"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    report = done.stdout
    engine = re.search(r"engine process (\d+)", report)
    training = re.search(r"Training process (\d+): 1 epoch .* Finished\.", report)
    assert engine and training, report
    assert engine.group(1) != training.group(1) != str(os.getpid())  # two child processes of their own
    assert "Demo dataset: 4 classes" in report and re.search(r"^OK in [\d.]+ s$", report, re.MULTILINE)
    assert not (tmp_path / "data" / "runs").exists() or not any((tmp_path / "data" / "runs").iterdir())
