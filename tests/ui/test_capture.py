"""Webcam capture without a webcam: the capture view driven by generated frames, and the
camera source's sentences for what goes wrong (no camera, unplugged, busy, denied)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QImage, QPainter

from desktop_app.core.data.frames import CAPTURE_PREFIX, centre_square
from desktop_app.ui.widgets import camera_source
from desktop_app.ui.widgets.camera_source import CameraSource, camera_error_sentence, missing_library_sentence
from desktop_app.ui.widgets.capture_view import CaptureView
from desktop_app.ui.widgets.frame_sources import FrameSource, TimedSource, frame_pixels

RED, BLUE = (220, 40, 40), (40, 60, 200)


def left_red_frame(_n: int = 0) -> QImage:
    """96 x 54, wider than high like a webcam: red on the left half, blue on the right."""
    image = QImage(96, 54, QImage.Format.Format_RGB32)
    image.fill(QColor(*BLUE))
    painter = QPainter(image)
    painter.fillRect(0, 0, 48, 54, QColor(*RED))
    painter.end()
    return image


@pytest.fixture
def capture(qtbot, tmp_path):
    source = TimedSource(left_red_frame, fps=30)
    view = CaptureView(source)
    qtbot.addWidget(view)
    view.set_target(tmp_path / "cats", "cats")
    view.resize(640, 480)
    view.show()
    qtbot.waitUntil(lambda: view.frame is not None, timeout=3000)
    return view


def photos(view: CaptureView) -> list:
    return sorted(view.folder.glob(f"{CAPTURE_PREFIX}*.jpg"))


def test_hold_to_record_saves_about_five_unmirrored_centre_squares_a_second(qtbot, capture):
    saved = []
    capture.photoSaved.connect(saved.append)
    assert capture.mirror_box.isChecked()  # the view is mirrored; the photos must not be
    qtbot.mousePress(capture.record_button, Qt.MouseButton.LeftButton)
    qtbot.wait(1100)
    qtbot.mouseRelease(capture.record_button, Qt.MouseButton.LeftButton)
    assert capture.wait_for_saving()
    qtbot.waitUntil(lambda: len(saved) == len(photos(capture)), timeout=2000)
    count = len(photos(capture))
    assert 3 <= count <= 8, count  # 1 at once + 5 a second; a busy test machine may be late
    assert saved == photos(capture)  # each one announced, for the Data page's thumbnails
    qtbot.wait(500)
    assert len(photos(capture)) == count  # letting go stops recording

    photo = np.asarray(Image.open(saved[0]).convert("RGB"), np.float32)
    assert photo.shape == (54, 54, 3)
    left, right = photo[:, :10].mean(axis=(0, 1)), photo[:, -10:].mean(axis=(0, 1))
    assert np.abs(left - RED).max() < 25 and np.abs(right - BLUE).max() < 25
    expected = np.asarray(centre_square(frame_pixels(left_red_frame())), np.float32)
    assert np.abs(photo - expected).mean() < 4  # the live prediction's crop (JPEG differs a little)


def test_one_photo_and_the_countdown(qtbot, capture):
    qtbot.mouseClick(capture.shot_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(photos(capture)) == 1, timeout=2000)
    capture.countdown_box.setChecked(True)
    capture.countdown_timer.setInterval(60)  # 3-2-1 in a fifth of a second
    qtbot.mouseClick(capture.shot_button, Qt.MouseButton.LeftButton)
    assert capture.view.overlay == "3" and len(photos(capture)) == 1
    qtbot.waitUntil(lambda: capture.view.overlay == "2", timeout=2000)
    qtbot.waitUntil(lambda: capture.target_label.text() == "Photos go into <b>cats</b>: 2 taken so far.",
                    timeout=2000)
    assert capture.view.overlay == "" and len(photos(capture)) == 2


def test_nothing_is_saved_without_a_class(qtbot, capture):
    capture.set_target(None)
    assert not capture.record_button.isEnabled() and not capture.shot_button.isEnabled()
    assert "class" in capture.target_label.text()


def test_the_camera_light_follows_the_source_and_the_view(qtbot, capture):
    source = capture.source
    assert source.active and "Camera on" in capture.camera_light.text()
    source.stop()
    assert "Camera off" in capture.camera_light.text()
    assert capture.frame is None  # nothing the camera saw stays on screen
    qtbot.mouseClick(capture.camera_light, Qt.MouseButton.LeftButton)
    assert source.active and "Camera on" in capture.camera_light.text()
    capture.hide()  # leaving the view turns the camera off
    assert not source.active and "Camera off" in capture.camera_light.text()
    capture.show()
    assert source.active


def test_a_camera_that_fails_mid_capture_stops_recording_and_says_why(qtbot, capture):
    qtbot.mousePress(capture.record_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(photos(capture)) >= 2, timeout=3000)
    sentence = camera_error_sentence("", unplugged=True)
    capture.source.failed.emit(sentence)
    assert not capture.record_timer.isActive() and not capture.source.active
    capture.wait_for_saving()
    count = len(photos(capture))
    qtbot.wait(400)
    qtbot.mouseRelease(capture.record_button, Qt.MouseButton.LeftButton)
    assert len(photos(capture)) == count
    assert capture.status.text() == sentence and capture.status.property("role") == "error"
    assert capture.view.placeholder == sentence
    assert not capture.record_button.isEnabled()
    assert "Camera off" in capture.camera_light.text()


def test_no_camera_gives_its_sentence(qtbot, monkeypatch, tmp_path):
    monkeypatch.setattr(camera_source, "video_inputs", lambda: [])
    view = CaptureView(CameraSource())
    qtbot.addWidget(view)
    view.set_target(tmp_path / "cats", "cats")
    view.show()
    assert view.status.text().startswith("No camera was found.")
    assert not view.source.active and "Camera off" in view.camera_light.text()


class FakeDevice:
    def __init__(self, key: bytes, description: str):
        self._key, self._description = key, description

    def id(self) -> bytes:
        return self._key

    def description(self) -> str:
        return self._description


def test_an_unplugged_camera_stops_with_its_sentence(qtbot, monkeypatch):
    cameras = [FakeDevice(b"usb-1", "USB webcam"), FakeDevice(b"built-in", "Built-in camera")]
    monkeypatch.setattr(camera_source, "video_inputs", lambda: list(cameras))
    source = CameraSource()
    assert source.choices() == [("usb-1", "USB webcam"), ("built-in", "Built-in camera")]
    source._device_key = "usb-1"  # as if the USB camera were running
    source._set_active(True)
    sentences = []
    source.failed.connect(sentences.append)
    with qtbot.waitSignal(source.choicesChanged):
        cameras.pop(0)
        source._inputs_changed()
    assert not source.active
    assert sentences == [camera_error_sentence("", unplugged=True)]
    assert sentences[0].startswith("The camera was unplugged")


def test_camera_errors_become_plain_sentences():
    assert camera_error_sentence("Permission denied").startswith("This computer does not let")
    assert camera_error_sentence("Device or resource busy").startswith("Another program")
    assert camera_error_sentence("No camera detected").startswith("No camera was found")
    assert "(Strange failure)" in camera_error_sentence("Strange failure.")
    sentence = missing_library_sentence(ImportError("libpulse.so.0: cannot open shared object file"))
    assert "libpulse0" in sentence and "\n" not in sentence


def test_a_camera_chooser_lists_the_source_choices(qtbot, tmp_path):
    class TwoCameras(TimedSource):
        chosen = "a"

        def choices(self):
            return [("a", "Front camera"), ("b", "USB camera")]

        def current_choice(self):
            return self.chosen

        def choose(self, key):
            self.chosen = key

    source = TwoCameras(left_red_frame)
    view = CaptureView(source)
    qtbot.addWidget(view)
    assert [view.chooser.itemText(i) for i in range(view.chooser.count())] == ["Front camera", "USB camera"]
    assert view.chooser.isEnabled()
    view.chooser.setCurrentIndex(1)
    view.chooser.activated.emit(1)
    assert source.chosen == "b"
    assert isinstance(source, FrameSource)


def test_the_data_page_takes_photos_into_the_chosen_class(qtbot, tmp_path, session):
    from conftest import make_image_folder, wait_for_dataset
    from PySide6.QtCore import QSettings

    from desktop_app.ui.pages.data import DataPanel

    root = make_image_folder(tmp_path / "data", per_class=4)
    panel = DataPanel(session, settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(panel)
    panel.resize(1000, 700)
    panel.show()
    panel.load(str(root))
    wait_for_dataset(qtbot, session, 30_000)
    panel.tabs.setCurrentWidget(panel.photos_page)
    panel.class_list.setCurrentRow(panel.shown.classes.index("green"))
    assert panel.selected_class() == "green"
    source = TimedSource(left_red_frame, fps=30)
    panel.capture.set_source(source)
    assert not source.active  # the camera stays off until asked for
    qtbot.mouseClick(panel.camera_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.capture.frame is not None, timeout=3000)
    assert source.active and panel.capture.folder == root / "green"

    qtbot.mousePress(panel.capture.record_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(list((root / "green").glob(f"{CAPTURE_PREFIX}*.jpg"))) >= 3, timeout=3000)
    qtbot.mouseRelease(panel.capture.record_button, Qt.MouseButton.LeftButton)
    panel.capture.wait_for_saving()
    taken = len(list((root / "green").glob(f"{CAPTURE_PREFIX}*.jpg")))
    qtbot.waitUntil(lambda: panel.thumbnails.model_.rowCount() == 4 + taken, timeout=1000)  # before any rescan
    assert panel.rescan_timer.isActive()
    qtbot.waitUntil(lambda: session.index is not None and session.index.class_totals()["green"] == 4 + taken,
                    timeout=10_000)  # then counted, checked and part of the split
    qtbot.waitUntil(lambda: panel.selected_class() == "green", timeout=3000)
    assert panel.table.item(panel.shown.classes.index("green"), 1).text() == str(4 + taken)

    panel.tabs.setCurrentIndex(0)  # leaving the photos turns the camera off
    assert not source.active
    panel.tabs.setCurrentWidget(panel.photos_page)
    assert source.active
    qtbot.mouseClick(panel.camera_button, Qt.MouseButton.LeftButton)  # closing the camera too
    assert not source.active and panel.capture.isHidden()
    panel.stop_background_work(3000)


def test_photos_never_go_into_the_demo_dataset(qtbot, tmp_path, session):
    """The app may draw the demo dataset again, which would lose photos taken into it."""
    from conftest import wait_for_dataset
    from PySide6.QtCore import QSettings

    from desktop_app.ui.pages.data import DataPanel

    panel = DataPanel(session, settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(panel)
    panel.show()
    panel.load(None)
    wait_for_dataset(qtbot, session, 60_000)
    panel.tabs.setCurrentWidget(panel.photos_page)
    panel.capture.set_source(TimedSource(left_red_frame, fps=30))
    qtbot.mouseClick(panel.camera_button, Qt.MouseButton.LeftButton)
    assert panel.selected_class() and panel.capture.folder is None
    assert not panel.capture.record_button.isEnabled() and not panel.capture.shot_button.isEnabled()
    assert "demo dataset cannot be changed" in panel.capture.target_label.text()
    panel.stop_background_work(3000)


def test_a_camera_qt_cannot_open_says_so_and_stays_off(qtbot, monkeypatch):
    """The real QCamera path, with the one device every machine has: none (a null device)."""
    multimedia = pytest.importorskip("PySide6.QtMultimedia")
    monkeypatch.setattr(camera_source, "video_inputs", lambda: [multimedia.QCameraDevice()])
    source = CameraSource()
    sentences = []
    source.failed.connect(sentences.append)
    source.start()
    qtbot.waitUntil(lambda: bool(sentences), timeout=3000)
    assert sentences[0].startswith("No camera was found") and not source.active
    assert source._camera is None  # nothing left running


@pytest.mark.parametrize("status", ["Denied", "Undetermined"])
def test_a_refused_camera_permission_gives_its_sentence(qtbot, monkeypatch, status):
    asked = []
    monkeypatch.setattr(camera_source, "video_inputs", lambda: [FakeDevice(b"usb-1", "USB webcam")])
    monkeypatch.setattr(camera_source, "camera_permission", lambda: getattr(Qt.PermissionStatus, status))
    # macOS asks the user, who says no (the answer comes back later, through the event loop)
    monkeypatch.setattr(camera_source, "ask_camera_permission",
                        lambda context, answered: asked.append(1) or QTimer.singleShot(10, lambda: answered(False)))
    source = CameraSource()
    sentences = []
    source.failed.connect(sentences.append)
    source.start()
    qtbot.waitUntil(lambda: bool(sentences), timeout=2000)
    assert sentences[0].startswith("This computer does not let Transfer Studio use the camera")
    assert len(asked) == (status == "Undetermined") and not source.active


def test_without_qt_multimedia_the_sentence_names_the_package(qtbot, monkeypatch):
    monkeypatch.setattr(camera_source, "MULTIMEDIA_ERROR",
                        ImportError("libpulse.so.0: cannot open shared object file: No such file or directory"))
    source = CameraSource()
    sentences = []
    source.failed.connect(sentences.append)
    source.start()
    assert len(sentences) == 1 and "libpulse0" in sentences[0] and not source.active
    assert source.choices() == []


def test_a_camera_that_sends_no_pictures_is_called_busy(qtbot, monkeypatch):
    """Some systems "start" a camera another program holds, and then send nothing."""
    monkeypatch.setattr(camera_source, "FIRST_FRAME_WAIT_MS", 50)
    source = CameraSource()
    source._set_active(True)  # as if the camera had started
    source._first_frame.start()
    with qtbot.waitSignal(source.failed, timeout=2000) as failed:
        pass
    assert failed.args[0].startswith("The camera sends no pictures") and not source.active


def test_a_photo_that_cannot_be_saved_says_why_and_stops_recording(qtbot, capture, tmp_path):
    blocked = tmp_path / "not a folder"
    blocked.write_text("a file where the class folder should be")
    capture.set_target(blocked, "cats")
    qtbot.mousePress(capture.record_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: capture.status.property("role") == "error", timeout=3000)
    assert capture.status.text().startswith(f"The photo could not be saved in {blocked}")
    assert not capture.record_timer.isActive() and capture.source.active  # the camera itself is fine
    qtbot.mouseRelease(capture.record_button, Qt.MouseButton.LeftButton)


def test_plugging_a_camera_back_in_starts_it_again(qtbot, capture):
    source = capture.source
    source.failed.emit(camera_error_sentence("", unplugged=True))
    assert not source.active
    source.choicesChanged.emit()  # the system lists a camera again
    assert source.active and capture.status.isHidden()
    qtbot.waitUntil(lambda: capture.frame is not None, timeout=2000)
