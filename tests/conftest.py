"""Shared test set-up: Qt offscreen, a private data folder, tiny generated datasets."""

from __future__ import annotations

import atexit
import faulthandler
import os
import shutil
import tempfile
from pathlib import Path

# Before anything imports Qt or TensorFlow.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# QSettings (recent folders, window state...) and Keras' cache stay out of the real home.
_SANDBOX = Path(tempfile.mkdtemp(prefix="transfer-studio-tests-"))
atexit.register(shutil.rmtree, _SANDBOX, ignore_errors=True)
os.environ["XDG_CONFIG_HOME"] = str(_SANDBOX / "config")
os.environ.setdefault("KERAS_HOME", str(_SANDBOX / "keras"))

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
SHARED_WEIGHTS = REPO.parent / "shared" / "weights" / "mobilenet_2_5_224_tf_no_top.h5"


# pytest-timeout (pyproject: 600 s) fails a test that runs too long, but only where Python
# runs: a test stuck in C++ (a modal dialog, Qt waiting on the interpreter lock) would hold
# the whole suite. Past this, faulthandler prints every thread's stack and ends the run.
STUCK_TEST_SECONDS = 900


@pytest.fixture(autouse=True)
def end_a_stuck_test():
    faulthandler.dump_traceback_later(STUCK_TEST_SECONDS, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.fixture(autouse=True)
def private_data_dir(tmp_path, monkeypatch):
    """Each test gets its own data folder: demo dataset, runs and caches don't mix."""
    folder = tmp_path / "user-data"
    monkeypatch.setenv("TRANSFER_STUDIO_DATA_DIR", str(folder))
    monkeypatch.setenv("TRANSFER_STUDIO_LOG_DIR", str(tmp_path / "logs"))  # and so does the log file
    return folder


def write_image(path: Path, colour: tuple[int, int, int], size: int = 24, seed: int = 0, mode: str = "RGB") -> Path:
    """A small image of one colour with a little noise, in the format the suffix says."""
    rng = np.random.default_rng(seed)
    pixels = np.clip(np.array(colour, np.float32) + rng.normal(0, 12, (size, size, 3)), 0, 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels, "RGB").convert(mode).save(path)
    return path


CLASS_COLOURS = {"red": (220, 40, 40), "green": (40, 200, 60), "blue": (40, 60, 220)}


def make_image_folder(root: Path, per_class: int = 8, classes: dict | None = None, size: int = 24) -> Path:
    """ROOT/<class>/<n>.png: one easily told-apart colour per class."""
    for c, (name, colour) in enumerate((classes or CLASS_COLOURS).items()):
        for i in range(per_class):
            write_image(root / name / f"{name}_{i}.png", colour, size, seed=c * 1000 + i)
    return root


@pytest.fixture
def image_folder(tmp_path) -> Path:
    return make_image_folder(tmp_path / "data")


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory) -> Path:
    """A tiny finished run (demo shapes, fine-tuned, augmented), trained once per session."""
    from trained_run import make_trained_run

    return make_trained_run(tmp_path_factory.mktemp("trained"))


@pytest.fixture(scope="session")
def colour_run(tmp_path_factory) -> Path:
    """A tiny finished run trained on red, green and blue photos (live prediction tests); it names
    colours right only with the shared ImageNet weights (tests that need that ask for them too)."""
    from trained_run import make_colour_run

    return make_colour_run(tmp_path_factory.mktemp("colours"))


@pytest.fixture
def shared_weights() -> Path:
    if not SHARED_WEIGHTS.is_file():
        pytest.skip("../shared/weights/mobilenet_2_5_224_tf_no_top.h5 is not present")
    return SHARED_WEIGHTS


@pytest.fixture
def session():
    """A fresh session (the user's choices) for a page under test."""
    from desktop_app.core.session import Session

    return Session()


def wait_for_dataset(qtbot, session, timeout: int = 60_000):
    """Until the Data page has checked the session's dataset; returns the index."""
    qtbot.waitUntil(lambda: session.index is not None, timeout=timeout)
    return session.index


@pytest.fixture(autouse=True)
def discard_unsaved_changes(monkeypatch):
    """A window closed at the end of a test must not wait on "Save the changes?" (a modal
    box nobody answers offscreen): answer Discard unless the test says otherwise."""
    # Imported here, always (Qt only, no TensorFlow): a test that imports the window lazily
    # must find the answer in place too.
    from PySide6.QtWidgets import QMessageBox

    from desktop_app.ui.shell import project_controller

    monkeypatch.setattr(project_controller, "ask_save_changes", lambda *_args: QMessageBox.StandardButton.Discard)
    # Another dataset while a project is open: use it in the project, unless the test says otherwise.
    monkeypatch.setattr(project_controller, "ask_dataset_in_project", lambda *_args: project_controller.USE_IN_PROJECT)


@pytest.fixture
def trash(tmp_path, monkeypatch) -> Path:
    """The system trash, here a private folder: send2trash honours XDG_DATA_HOME on Linux (read
    when it is imported, so its module's copy is pointed here too). Returns the trash's files/."""
    home = tmp_path / "xdg-data"
    home.mkdir()
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    from send2trash import plat_other

    monkeypatch.setattr(plat_other, "XDG_DATA_HOME", os.fsencode(home))
    monkeypatch.setattr(plat_other, "HOMETRASH_B", os.fsencode(home / "Trash"))
    monkeypatch.setattr(plat_other, "HOMETRASH", str(home / "Trash"))
    monkeypatch.setattr(plat_other, "get_dev", lambda _path: 0)  # every disk uses this trash
    return home / "Trash" / "files"
