"""The layering rules of DESIGN.md, checked in fresh interpreters."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from conftest import REPO


def run_python(code: str, env_extra: dict | None = None) -> dict:
    import os

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", **(env_extra or {})}
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, cwd=REPO, env=env, timeout=300
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_core_imports_no_qt():
    result = run_python(
        """
        import importlib, json, pkgutil, sys
        import desktop_app.core as core
        names = [m.name for m in pkgutil.walk_packages(core.__path__, "desktop_app.core.")]
        for name in names:
            importlib.import_module(name)
        qt = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "pyqtgraph", "PyQt5", "PyQt6", "shiboken6"))
        print(json.dumps({"modules": names, "qt": qt}))
        """
    )
    assert "desktop_app.core.training" in result["modules"]  # the walk really imported TF-heavy modules
    assert result["qt"] == []


def test_gui_start_does_not_import_tensorflow():
    result = run_python(
        """
        import json, sys
        import desktop_app.__main__, desktop_app.cli
        from desktop_app.cli import build_parser
        build_parser()
        from desktop_app.app import create_application
        from desktop_app.ui.main_window import MainWindow
        app = create_application()
        window = MainWindow()
        window.show()
        from PySide6.QtCore import QDeadlineTimer, QElapsedTimer
        clock = QElapsedTimer(); clock.start()
        while window.data_panel.index is None and clock.elapsed() < 60000:
            app.processEvents()
        heavy = sorted(m for m in ("tensorflow", "keras") if m in sys.modules)
        print(json.dumps({"loaded": window.data_panel.index is not None, "heavy": heavy}))
        """
    )
    assert result["loaded"], "the demo dataset never appeared on the Data page"
    assert result["heavy"] == []
