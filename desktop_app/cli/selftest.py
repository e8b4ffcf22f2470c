"""``transfer-studio --self-test``: prove an installation (or a frozen build) works end to end.

Opens the main window (use ``QT_QPA_PLATFORM=offscreen`` without a display), loads the
demo dataset through the Data page, builds a small classifier with ``weights=None``
and runs one demo photo through it. Prints a short report; exit status 0 means all good.

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
    from PySide6.QtCore import QEventLoop, QTimer

    from desktop_app import __version__
    from desktop_app.app import create_application
    from desktop_app.ui.main_window import MainWindow

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

    loop = QEventLoop()
    window.data_panel.datasetChanged.connect(lambda _index: loop.quit())
    timer = QTimer(singleShot=True)
    timer.timeout.connect(loop.quit)
    timer.start(int(timeout_s * 1000))
    if window.data_panel.index is None or not window.data_panel.index.validated:
        loop.exec()
    index = window.data_panel.index
    if index is None or not index.validated:
        window.close()
        return fail(f"the demo dataset did not load: {window.data_panel.summary.text()}")
    lines.append(f"Demo dataset: {len(index.classes)} classes, {len(index.files)} images in {index.root}")

    try:
        import numpy as np
        from PIL import Image

        from desktop_app.core.model_builder import ModelSpec, build_classifier, summarize

        spec = ModelSpec(len(index.classes), backbone="mobilenet", alpha=0.25, img_size=64, weights=None)
        model = build_classifier(spec)
        counts = summarize(model).counts
        photo = Image.open(index.files[0].path).convert("RGB").resize((64, 64))
        probabilities = model.predict(np.asarray(photo, np.float32)[None], verbose=0)[0]
    except Exception as e:  # the report must say what broke, not a bare traceback
        window.close()
        return fail(f"building the model failed: {type(e).__name__}: {e}")
    lines.append(f"Model: MobileNet 0.25 at 64 px, weights=None, {counts.total:,} parameters; "
                 f"one prediction sums to {float(probabilities.sum()):.3f}")
    if abs(float(probabilities.sum()) - 1.0) > 1e-3:
        window.close()
        return fail("the prediction is not a probability distribution")
    import keras
    import PySide6
    import tensorflow as tf

    lines.append(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, PySide6 {PySide6.__version__}")
    window.close()
    lines.append(f"OK in {time.monotonic() - started:.1f} s")
    print("\n".join(lines), flush=True)
    return 0
