"""The layering rules of DESIGN.md: import-linter's contracts, and what only a fresh
interpreter can tell (start-up imports no TensorFlow, the window never does)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from pathlib import Path

from conftest import REPO
from desktop_app.core.runs import RunFolder


def run_python(code: str, env_extra: dict | None = None, timeout: float = 300) -> dict:
    import os

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", **(env_extra or {})}
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, cwd=REPO, env=env,
        timeout=timeout,
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
    assert "desktop_app.core.train.job" in result["modules"]  # the walk really imported TF-heavy modules
    assert result["qt"] == []


def test_gui_start_does_not_import_tensorflow():
    result = run_python(
        """
        import json, sys
        import desktop_app.__main__, desktop_app.cli
        from desktop_app.cli import build_parser
        build_parser()
        from desktop_app.app import create_application
        from desktop_app.ui.shell.main_window import MainWindow
        app = create_application()
        window = MainWindow()
        window.show()
        from PySide6.QtCore import QDeadlineTimer, QElapsedTimer
        clock = QElapsedTimer(); clock.start()
        while window.session.index is None and clock.elapsed() < 60000:
            app.processEvents()
        heavy = sorted(m for m in ("tensorflow", "keras") if m in sys.modules)
        loaded = window.session.index is not None
        window.close()
        print(json.dumps({"loaded": loaded, "heavy": heavy}))
        """
    )
    assert result["loaded"], "the demo dataset never appeared on the Data page"
    assert result["heavy"] == []


def test_import_contracts_hold():
    """pyproject's import-linter contracts: core without Qt, cli/ui -> core, pages apart, no cycles."""
    # What the lint-imports command runs, with this interpreter.
    code = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout


def test_every_page_works_while_the_window_never_imports_tensorflow(trained_run, tmp_path):
    """Preview, model summary, evaluation, prediction, export and the report, all from the
    window, all done by the engine process: the window's own process has no TensorFlow."""
    photo = next((Path(RunFolder(trained_run).read_config().data) / "stars").glob("*.jpg"))
    result = run_python(
        f"""
        import json, sys, time
        from pathlib import Path
        from desktop_app.app import create_application
        from desktop_app.ui.shell.main_window import MainWindow

        app = create_application()
        run = Path({str(trained_run)!r})
        window = MainWindow(data_folder={str(photo.parent.parent)!r})
        window.resize(1280, 800)
        window.show()

        def wait(what, until, seconds=240):
            deadline = time.monotonic() + seconds
            while not until():
                if time.monotonic() > deadline:
                    raise SystemExit(f"timed out waiting for {{what}}")
                app.processEvents()
                time.sleep(0.01)

        wait("the dataset", lambda: window.session.index is not None)
        done = {{}}
        window.go_to_step("Augment")
        wait("a preview", lambda: window.augment_panel.last_preview is not None)
        done["preview"] = len(window.augment_panel.last_preview.variants)
        window.go_to_step("Model")
        wait("the model tree", lambda: window.model_panel._summary is not None)
        done["summary"] = window.model_panel._summary.counts.total
        window.session.runs_folder = run.parent
        window.session.run = run
        window.go_to_step("Evaluate")
        panel = window.evaluate_panel
        panel.evaluationFinished.connect(lambda e: done.__setitem__("evaluation", e.count))
        panel.evaluate()
        wait("the evaluation", lambda: "evaluation" in done)
        panel.predictionsFinished.connect(lambda p: done.__setitem__("predictions", len(p.predictions)))
        panel.predict([{str(photo)!r}])
        wait("the predictions", lambda: "predictions" in done)
        window.go_to_step("Export")
        export = window.export_panel
        export.open_url = lambda url: None
        for key, check in export.format_checks.items():
            check.setChecked(key in ("keras", "tflite"))
        export.out_edit.setText({str(tmp_path / "export")!r})
        export.exportFinished.connect(lambda r: done.__setitem__("export", [c.ok for c in r.checks]))
        export.export()
        wait("the export", lambda: "export" in done)
        export.reportWritten.connect(lambda path: done.__setitem__("report", str(path)))
        export.write_report()
        wait("the report", lambda: "report" in done)
        heavy = sorted(m for m in ("tensorflow", "keras") if m in sys.modules)
        window.close()
        print(json.dumps({{"done": done, "heavy": heavy}}))
        """,
        timeout=600,
    )
    done = result["done"]
    assert done["preview"] == 9 and done["summary"] > 0 and done["evaluation"] > 0 and done["predictions"] == 1
    assert done["export"] == [True, True] and Path(done["report"]).is_file()
    assert result["heavy"] == []
