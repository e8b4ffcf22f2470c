"""The window and its engine: a killed engine is said in a sentence and replaced; the work stays."""

from __future__ import annotations

import os
import signal

from conftest import make_image_folder, wait_for_dataset
from desktop_app.core.session import ModelSettings
from desktop_app.ui.shell.main_window import MainWindow
from desktop_app.ui.tasks import Engine


def test_an_engine_killed_while_building_is_reported_and_replaced(qtbot, tmp_path):
    engine = Engine(name="window-engine-under-test")  # the window's own: the shared one stays well
    window = MainWindow(data_folder=str(make_image_folder(tmp_path / "data", per_class=4)), engine=engine)
    qtbot.addWidget(window)
    window.show()
    try:
        session = window.session
        wait_for_dataset(qtbot, session)
        qtbot.waitUntil(lambda: engine.warm, timeout=120_000)
        choices = session.settings()
        died = []
        engine.died.connect(died.append)
        first_pid = engine.process.pid

        window.go_to_step("Model")  # EfficientNetV2-B0 at 224 px: a few seconds to build
        qtbot.waitUntil(lambda: window.model_panel.builds.is_running(), timeout=10_000)
        qtbot.wait(300)
        os.kill(first_pid, signal.SIGKILL)
        qtbot.waitUntil(lambda: bool(died), timeout=60_000)

        assert "stopped unexpectedly" in died[0] and "started again" in died[0]
        assert died[0] in window.statusBar().currentMessage()
        assert "stopped unexpectedly" in window.model_panel.status.text()  # the page says it too
        assert session.settings() == choices  # nothing the user chose was lost

        qtbot.waitUntil(lambda: engine.process.is_alive() and engine.process.pid != first_pid, timeout=30_000)
        session.model = ModelSettings("mobilenet", 0.25, 64, weights=None)  # the next request works
        qtbot.waitUntil(lambda: window.model_panel._summary is not None
                        and "MobileNet at 64 px" in window.model_panel.status.text(), timeout=120_000)
    finally:
        window.close()
        engine.close()
