"""``transfer-studio --self-test``: prove an installation (or a frozen build) works end to end.

Opens the main window (use ``QT_QPA_PLATFORM=offscreen`` without a display), loads the
demo dataset through the Data page, has the engine process build a small classifier
with ``weights=None``, and checks the window's own process never imported TensorFlow.
Prints a short report; exit status 0 means all good.

It leaves the user's settings alone: every ``QSettings`` of the run lives in a temporary
folder (a teacher who runs it must still find their last project and recent folders).
"""

from __future__ import annotations

import platform
import sys
import tempfile
import time

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
    import PySide6
    from PySide6.QtCore import QDeadlineTimer, QEventLoop

    from desktop_app import __version__
    from desktop_app.app import create_application
    from desktop_app.core.engine import Succeeded, SummaryRequest, WarmUp
    from desktop_app.core.session import ModelSettings
    from desktop_app.ui.shell.main_window import MainWindow

    started = time.monotonic()
    lines = [f"Transfer Studio {__version__} self-test", f"Python {platform.python_version()} on {platform.platform()}"]

    def fail(message: str) -> int:
        print("\n".join(lines), flush=True)
        print(f"SELF-TEST FAILED: {message}", file=sys.stderr, flush=True)
        return 1

    app = create_application()
    window = MainWindow(data_folder=None)  # None: the built-in demo dataset
    window.show()
    app.processEvents()
    lines.append(f"Window: {window.windowTitle()!r}, {window.pages.count()} pages, Qt platform {app.platformName()}")

    deadline = QDeadlineTimer(int(timeout_s * 1000))
    while window.session.index is None and not deadline.hasExpired():
        app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 50)
    index = window.session.index
    if index is None:
        window.close()
        return fail(f"the demo dataset did not load: {window.data_panel.summary.text()}")
    lines.append(f"Demo dataset: {len(index.classes)} classes, {len(index.files)} images in {index.root}")

    # The engine process (TensorFlow) builds a small model: random weights, so it works offline.
    model = ModelSettings("mobilenet", 0.25, 64, weights=None)
    try:
        outcome = window.engine.process.call(SummaryRequest(model, len(index.classes)),
                                             timeout=max(1.0, deadline.remainingTime() / 1000))
    except TimeoutError as e:
        window.close()
        return fail(str(e))
    if not isinstance(outcome, Succeeded):
        window.close()
        return fail(f"the engine could not build a model: {outcome}")
    counts = outcome.result.counts
    lines.append(f"Engine: MobileNet 0.25 at 64 px, weights=None, {counts.total:,} parameters")
    info = window.engine.process.call(WarmUp(), timeout=60).result
    lines.append(f"TensorFlow {info.tensorflow}, Keras {info.keras} (engine process {info.pid}), "
                 f"PySide6 {PySide6.__version__}")
    heavy = sorted(m for m in ("tensorflow", "keras") if m in sys.modules)
    window.close()
    if heavy:
        return fail(f"the window's process imported {', '.join(heavy)}")
    lines.append(f"OK in {time.monotonic() - started:.1f} s")
    print("\n".join(lines), flush=True)
    return 0
