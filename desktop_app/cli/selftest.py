"""``transfer-studio --self-test``: prove an installation (or a frozen build) works end to end.

Opens the main window (use ``QT_QPA_PLATFORM=offscreen`` without a display), loads the
demo dataset through the Data page, has the engine process build a small classifier
with ``weights=None``, trains one short epoch through the Train page in a training
process of its own, and checks the window's own process never imported TensorFlow.
Both child processes start the way a frozen build starts them (``multiprocessing``'s
spawn, re-entering the program through ``freeze_support``), so ``packaging/smoke.sh``
runs this inside the built app. Prints a short report; exit status 0 means all good.

It leaves the user's settings alone: every ``QSettings`` of the run lives in a temporary
folder (a teacher who runs it must still find their last project and recent folders).
"""

from __future__ import annotations

import platform
import sys
import tempfile
import time
from pathlib import Path

SELF_TEST_TIMEOUT_S = 180


def run_self_test(timeout_s: float = SELF_TEST_TIMEOUT_S) -> int:
    from PySide6.QtCore import QSettings

    previous_format = QSettings.defaultFormat()
    with tempfile.TemporaryDirectory(prefix="transfer-studio-self-test-", ignore_cleanup_errors=True) as folder:
        # Before the application and its windows make their first QSettings. INI everywhere,
        # so Windows does not fall back to the registry.
        QSettings.setDefaultFormat(QSettings.Format.IniFormat)
        for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
            QSettings.setPath(QSettings.Format.IniFormat, scope, folder)
        try:
            return _run_self_test(timeout_s)
        finally:
            QSettings().sync()  # what the window wrote goes into this folder now, not after it is gone
            QSettings.setDefaultFormat(previous_format)


def _run_self_test(timeout_s: float) -> int:
    from desktop_app import __version__
    from desktop_app.app import create_application
    from desktop_app.ui.shell.main_window import MainWindow

    started = time.monotonic()
    lines = [f"Transfer Studio {__version__} self-test", f"Python {platform.python_version()} on {platform.platform()}"]

    def fail(message: str) -> int:
        print("\n".join(lines), flush=True)
        print(f"SELF-TEST FAILED: {message}", file=sys.stderr, flush=True)
        return 1

    app = create_application()
    window = MainWindow(data_folder=None)  # None: the built-in demo dataset
    # The self-test's settings and run are thrown away: closing must not ask about them (or about
    # stopping a run) in a dialog that nobody answers.
    window.projects.confirm_close = lambda: True
    window.ask_stop_training = lambda: True
    window.show()
    app.processEvents()
    lines.append(f"Window: {window.windowTitle()!r}, {window.pages.count()} pages, Qt platform {app.platformName()}")
    runs = tempfile.TemporaryDirectory(prefix="transfer-studio-self-test-runs-", ignore_cleanup_errors=True)
    try:
        return _exercise(app, window, Path(runs.name), timeout_s, lines, fail, started)
    finally:
        window.close()
        runs.cleanup()


def _exercise(app, window, runs: Path, timeout_s: float, lines: list[str], fail, started: float) -> int:
    """The demo dataset, a model built by the engine, a short run in a training process."""
    import PySide6
    from PySide6.QtCore import QDeadlineTimer, QEventLoop

    from desktop_app.core.augment.spec import AugmentationSpec
    from desktop_app.core.engine import Succeeded, SummaryRequest, WarmUp
    from desktop_app.core.session import ModelSettings

    deadline = QDeadlineTimer(int(timeout_s * 1000))

    def wait_while(busy) -> None:
        while busy() and not deadline.hasExpired():
            app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 50)

    session = window.session
    wait_while(lambda: session.index is None)
    index = session.index
    if index is None:
        return fail(f"the demo dataset did not load: {window.data_panel.summary.text()}")
    lines.append(f"Demo dataset: {len(index.classes)} classes, {len(index.files)} images in {index.root}")

    # The engine process (TensorFlow) builds a small model: random weights, so it works offline.
    model = ModelSettings("mobilenet", 0.25, 64, weights=None)
    try:
        outcome = window.engine.process.call(SummaryRequest(model, len(index.classes)),
                                             timeout=max(1.0, deadline.remainingTime() / 1000))
    except TimeoutError as e:
        return fail(str(e))
    if not isinstance(outcome, Succeeded):
        return fail(f"the engine could not build a model: {outcome}")
    counts = outcome.result.counts
    lines.append(f"Engine: MobileNet 0.25 at 64 px, weights=None, {counts.total:,} parameters")
    info = window.engine.process.call(WarmUp(), timeout=60).result
    lines.append(f"TensorFlow {info.tensorflow}, Keras {info.keras} (engine process {info.pid}), "
                 f"PySide6 {PySide6.__version__}")

    # One short epoch through the Train page, in a training process of its own.
    train_page = window.train_panel
    session.runs_folder = runs
    session.model, session.augmentation = model, AugmentationSpec()
    session.update("training", epochs=1, batch_size=16, fine_tune=False)
    train_page.start()
    if not train_page.is_training():
        return fail(f"the training process did not start: {train_page.status.text()}")
    training_pid = train_page.training.engine.process.pid
    wait_while(lambda: session.finished_run is None and train_page.is_training())
    finished = session.finished_run
    if finished is None or finished.stopped:
        train_page.stop()
        return fail(f"the training process did not finish its run: {train_page.status.text()}")
    lines.append(f"Training process {training_pid}: 1 epoch of MobileNet 0.25 on the demo dataset. "
                 f"{train_page.status.text()}")
    wait_while(train_page.is_training)  # its process ends once the run is written

    heavy = sorted(m for m in ("tensorflow", "keras") if m in sys.modules)
    if heavy:
        return fail(f"the window's process imported {', '.join(heavy)}")
    lines.append(f"OK in {time.monotonic() - started:.1f} s")
    print("\n".join(lines), flush=True)
    return 0
