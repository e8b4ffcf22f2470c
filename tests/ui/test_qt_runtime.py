import subprocess
import sys
import textwrap


def test_process_events_keeps_none_alive():
    """PySide6 6.12.0 lost a reference to None per processEvents() call and crashed
    the app (and pytest-qt's waits) after enough calls; guard the pin in pyproject."""
    code = textwrap.dedent(
        """
        import sys
        from PySide6.QtWidgets import QApplication
        app = QApplication([])
        before = sys.getrefcount(None)
        for _ in range(20000):
            app.processEvents()
        print(before - sys.getrefcount(None))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={"QT_QPA_PLATFORM": "offscreen", "PATH": ""})
    assert out.returncode == 0, out.stderr[-500:]
    assert abs(int(out.stdout.strip())) < 100


def test_the_camera_wheel_matches_the_qt_wheel():
    """QtMultimedia (PySide6-Addons) loads only into the Qt of its own version."""
    from importlib.metadata import version

    assert version("PySide6-Addons") == version("PySide6-Essentials")
