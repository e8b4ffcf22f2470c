"""Live prediction in the window: generated camera frames, a real model in the engine, newest
frame only, Freeze, "Add this frame", and the sentences for no camera and no model."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QAbstractButton, QApplication, QComboBox

from conftest import CLASS_COLOURS
from desktop_app.core.engine import Succeeded
from desktop_app.core.results.live import LivePrediction
from desktop_app.ui.widgets.frame_sources import FrameSource, TimedSource
from desktop_app.ui.widgets.live_view import LiveView, NewestFramePredictor, live_dialog_for_run
from desktop_app.ui.widgets.step_page import SCALE_PROPERTY

CLASSES = sorted(CLASS_COLOURS)


def colour_frame(colour, n: int = 0, width: int = 64, height: int = 48) -> QImage:
    """A landscape camera frame of one colour, with noise that changes from frame to frame (its
    centre square is like the tiny run's training photos)."""
    rng = np.random.default_rng(n)
    pixels = np.clip(np.array(colour, np.float32) + rng.normal(0, 12, (height, width, 3)), 0, 255).astype(np.uint8)
    return QImage(pixels.tobytes(), width, height, 3 * width, QImage.Format.Format_RGB888).copy()


def colour_source(name: str, fps: float = 20) -> TimedSource:
    return TimedSource(lambda n: colour_frame(CLASS_COLOURS[name], n), fps)


class SlowEngine(QObject):
    """Stands in for the engine: answers each request only when told (or after ``delay_ms``)."""

    def __init__(self, delay_ms: int | None = None):
        super().__init__()
        self.delay_ms = delay_ms
        self.requests: list = []  # (ticket, request, receiver)
        self.forgotten: list[int] = []

    def submit(self, request, receiver) -> int:
        ticket = len(self.requests) + 1
        self.requests.append((ticket, request, receiver))
        if self.delay_ms is not None:
            QTimer.singleShot(self.delay_ms, lambda: self.answer(ticket))
        return ticket

    def answer(self, ticket: int, best: int = 1) -> None:
        if ticket in self.forgotten:
            return
        _, request, receiver = self.requests[ticket - 1]
        probabilities = tuple(0.8 if i == best else 0.1 for i in range(len(CLASSES)))
        receiver(Succeeded(ticket, LivePrediction(request.frame_id, tuple(CLASSES), probabilities, 0.01)))

    def forget(self, ticket: int) -> None:
        self.forgotten.append(ticket)


def make_view(qtbot, run, source, engine=None, folder=None) -> LiveView:
    view = LiveView(source, run, CLASSES, 64, True, (lambda name: folder / name) if folder else None,
                    engine=engine)
    qtbot.addWidget(view)
    view.resize(900, 500)
    view.show()
    return view


def test_the_live_view_names_the_colour_the_camera_shows(qtbot, colour_run, shared_weights):
    from desktop_app.ui.tasks import shared_engine

    source = colour_source("green")
    view = make_view(qtbot, colour_run, source, shared_engine())
    view.start()
    assert source.active and view.camera_on.isVisibleTo(view)
    qtbot.waitUntil(lambda: len(view.answer_times) >= 3, timeout=180_000)
    assert view.bars.top_class() == "green"
    values = [bar.value() for bar in view.bars.bars]
    assert values.index(max(values)) == CLASSES.index("green") and max(values) > 500
    assert "answers a second" in view.speed.text()
    view.stop()
    assert not source.active and not view.camera_on.isVisibleTo(view)


def test_only_the_newest_frame_is_sent_and_the_rest_are_dropped(qtbot, tmp_path):
    engine = SlowEngine()
    predictor = NewestFramePredictor(tmp_path, 64, engine)
    answers = []
    predictor.predicted.connect(lambda prediction, frame, latency: answers.append(prediction.frame_id))
    for n in range(10):  # ten frames while the first is still in the engine
        predictor.offer(colour_frame((200, 0, 0), n))
    assert len(engine.requests) == 1 and engine.requests[0][1].frame_id == 1
    assert engine.requests[0][1].frame.shape == (64, 64, 3) and engine.requests[0][1].frame.dtype == np.uint8
    engine.answer(1)
    # The next request is the newest frame (10), not the next in line (2): frames 2..9 were dropped.
    assert [r[1].frame_id for r in engine.requests] == [1, 10]
    assert answers == [1] and predictor.dropped == 8
    engine.answer(2)
    assert answers == [1, 10] and len(engine.requests) == 2  # nothing waits: nothing more is sent


def test_a_slow_engine_never_builds_a_queue(qtbot, tmp_path):
    engine = SlowEngine()  # answers only after six more frames have come: far slower than the camera
    source = TimedSource(lambda n: colour_frame((0, 0, 200), n), fps=60)
    view = make_view(qtbot, tmp_path, source, engine)
    predictor = view.predictor
    view.start()
    qtbot.waitUntil(lambda: len(engine.requests) == 1)
    for _ in range(5):
        ticket = len(engine.requests)
        qtbot.waitUntil(lambda: predictor.offered >= predictor.sent_ids[-1] + 6, timeout=10_000)
        engine.answer(ticket)
        assert view.shown[0].frame_id == engine.requests[ticket - 1][1].frame_id  # the bars show that answer
    view.stop()
    assert predictor.sent == 6 and predictor.offered >= 30  # one request per answer, the other frames dropped
    # Each request carried the newest frame there was when it was sent: no queue behind it.
    assert predictor.sent_ids == predictor.newest_when_sent
    assert all(b - a >= 6 for a, b in zip(predictor.sent_ids, predictor.sent_ids[1:]))


def test_freeze_holds_the_frame_and_its_bars_and_add_saves_it_to_the_class(qtbot, tmp_path):
    engine = SlowEngine(delay_ms=0)
    source = colour_source("red", fps=30)
    view = make_view(qtbot, tmp_path, source, engine, folder=tmp_path / "data")
    shown = []
    view.predictionShown.connect(shown.append)
    view.start()
    qtbot.waitUntil(lambda: len(shown) >= 3, timeout=10_000)
    qtbot.mouseClick(view.freeze_button, Qt.MouseButton.LeftButton)
    assert view.frozen and view.freeze_button.text() == "Go live again"
    held, count, requests = view.shown, len(shown), len(engine.requests)
    qtbot.wait(300)  # frames keep coming from the camera
    assert len(shown) == count and view.shown is held and len(engine.requests) <= requests + 1
    assert view.current_frame() is held[1]

    view.class_choice.setCurrentText("blue")
    assert view.add_button.text() == "Add this frame to blue"
    with qtbot.waitSignal(view.frameAdded) as added:
        qtbot.mouseClick(view.add_button, Qt.MouseButton.LeftButton)
    path = added.args[0]
    assert path.parent == tmp_path / "data" / "blue" and path.suffix == ".jpg"
    with Image.open(path) as saved:
        assert saved.format == "JPEG" and saved.width == saved.height == 48  # the frame's centre square
        assert np.abs(np.asarray(saved, np.float32).mean((0, 1)) - CLASS_COLOURS["red"]).max() < 20
    assert "Added the picture to blue" in view.status.text()

    qtbot.mouseClick(view.freeze_button, Qt.MouseButton.LeftButton)  # live again
    qtbot.waitUntil(lambda: len(shown) > count, timeout=10_000)
    view.stop()


class NoCamera(FrameSource):
    """A camera that is not there: it says so as it starts, as CameraSource does."""

    def start(self) -> None:
        QTimer.singleShot(0, lambda: self.failed.emit("No camera was found. Plug in a webcam."))

    def stop(self) -> None:
        self._set_active(False)


def test_no_camera_and_no_model_each_give_their_sentence(qtbot, colour_run, tmp_path):
    view = make_view(qtbot, colour_run, NoCamera(), SlowEngine())
    view.start()
    qtbot.waitUntil(lambda: "No camera was found" in view.status.text())
    assert not view.freeze_button.isEnabled() and not view.add_button.isEnabled()

    source = colour_source("red")
    empty = tmp_path / "run-without-model"
    empty.mkdir()
    dialog = live_dialog_for_run(empty, {}, None, source)
    qtbot.addWidget(dialog)
    dialog.view.start()
    assert "no trained model yet" in dialog.view.status.text()
    assert not source.active  # the camera stays off: there is nothing to show it to

    no_camera = LiveView(None, colour_run, CLASSES, 64, True)
    qtbot.addWidget(no_camera)
    assert "No camera can be used" in no_camera.status.text()


def test_try_it_live_on_the_evaluate_page_opens_the_run_and_closing_turns_the_camera_off(qtbot, colour_run, session):
    from desktop_app.ui.pages.evaluate import EvaluatePanel

    session.runs_folder = colour_run.parent
    session.run = colour_run
    session.class_renames = {"red": "crimson"}
    engine = SlowEngine(delay_ms=0)
    panel = EvaluatePanel(session, engine)
    qtbot.addWidget(panel)
    sources = []
    panel.make_live_source = lambda: sources.append(colour_source("green")) or sources[-1]
    panel.show()
    assert panel.live_button.isEnabled()
    qtbot.mouseClick(panel.live_button, Qt.MouseButton.LeftButton)
    dialog = panel.live_dialog
    assert dialog is not None and dialog.isVisible() and not dialog.isFullScreen()
    assert dialog.view.bars.classes == ["blue", "green", "crimson"]  # the renamed class by its new name
    assert sources[0].active
    qtbot.waitUntil(lambda: dialog.view.shown is not None, timeout=10_000)
    controls = dialog.findChildren(QAbstractButton) + dialog.findChildren(QComboBox)
    assert len(controls) >= 4
    for widget in controls:
        assert widget.objectName() and widget.accessibleName() and widget.toolTip(), widget
    qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
    assert not sources[0].active and panel.live_dialog is None

    app = QApplication.instance()
    app.setProperty(SCALE_PROPERTY, 1.8)  # presentation mode: the live view fills the screen
    try:
        dialog = panel.open_live()
        assert dialog.isFullScreen() and sources[1].active
        panel.stop_background_work(5_000)
        assert not sources[1].active
    finally:
        app.setProperty(SCALE_PROPERTY, 1.0)


def test_a_run_without_a_model_cannot_be_tried_live(qtbot, tmp_path, session):
    from desktop_app.ui.pages.evaluate import EvaluatePanel

    panel = EvaluatePanel(session, SlowEngine())
    qtbot.addWidget(panel)
    assert not panel.live_button.isEnabled()
    assert "Train a model" in panel.live_button.toolTip()


def test_add_this_frame_goes_into_the_class_folder_of_the_dataset_on_the_data_page(qtbot, colour_run, tmp_path):
    import shutil

    from desktop_app.core.data.scan import scan_folder
    from desktop_app.core.data.validate import validate_index

    data = shutil.copytree(colour_run.parent / "colours", tmp_path / "colours")
    index = validate_index(scan_folder(data))  # checked, as the Data page does: photos known by content
    dialog = live_dialog_for_run(colour_run, {"red": "crimson"}, index, colour_source("red"), SlowEngine(delay_ms=0))
    qtbot.addWidget(dialog)
    dialog.open_live()
    view = dialog.view
    qtbot.waitUntil(lambda: view.shown is not None, timeout=10_000)
    view.class_choice.setCurrentText("crimson")  # a class renamed since the run: its folder has the new name
    path = view.add_frame()
    assert path is not None and path.parent == data / "crimson", view.status.text()
    dialog.close()

    elsewhere = live_dialog_for_run(colour_run, {}, validate_index(scan_folder(make_other_dataset(tmp_path / "other"))),
                                    colour_source("red"), SlowEngine())
    qtbot.addWidget(elsewhere)
    assert not elsewhere.view.add_button.isEnabled()
    assert "another dataset" in elsewhere.view.add_button.toolTip()


def make_other_dataset(root):
    from conftest import make_image_folder

    return make_image_folder(root, per_class=3, classes={"cats": (90, 90, 90), "dogs": (160, 120, 80)})
