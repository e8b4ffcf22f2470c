"""Classes made in the app (issue 15): on the Data page a class is created, renamed, filled,
deleted and brought back with Undo, and the folder on disk matches the page at each step."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDropEvent

from conftest import write_image
from desktop_app.core.data import edits
from desktop_app.core.data.frames import save_frame
from desktop_app.ui.pages import data as data_page
from desktop_app.ui.pages.data import DataPanel


@pytest.fixture
def panel(qtbot, tmp_path, session, monkeypatch, trash):
    monkeypatch.setattr(edits, "default_dataset_parent", lambda: tmp_path / "Pictures")
    widget = DataPanel(session, settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    widget.shelf = edits.UndoShelf(tmp_path / "undo")
    qtbot.addWidget(widget)
    widget.resize(1100, 760)
    widget.show()
    yield widget
    widget.stop_background_work(3000)


@pytest.fixture
def answers(monkeypatch):
    """What the user types into the name dialogs, in order."""
    typed: list[str] = []
    monkeypatch.setattr(data_page, "ask_text", lambda _parent, _title, _label, _text="": typed.pop(0))
    return typed


def settle(qtbot, panel) -> None:
    """Until the page has read the folder again after an edit."""
    qtbot.waitUntil(lambda: not panel.loader.is_running() and panel.shown is not None and panel.shown.validated,
                    timeout=20_000)


def on_disk(root: Path) -> dict[str, list[str]]:
    return {d.name: sorted(f.name for f in d.iterdir()) for d in sorted(root.iterdir())
            if d.is_dir() and not d.name.startswith(".")}


def on_page(panel) -> dict[str, int]:
    """The class table: {class: photos in the folder}."""
    return {panel.table.item(r, 0).text(): int(panel.table.item(r, 1).text()) for r in range(panel.table.rowCount())}


def drop_files(panel, files: list[Path], pos) -> QDropEvent:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(f)) for f in files])
    event = QDropEvent(QPointF(pos), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    panel.dropEvent(event)
    return event


def row_position(panel, view, row: int):
    """Page coordinates of the middle of ``row`` in the class table or list."""
    rect = view.visualRect(view.model().index(row, 0))
    return view.viewport().mapTo(panel, rect.center())


def test_a_class_is_made_renamed_filled_deleted_and_brought_back(qtbot, panel, answers, tmp_path, trash,
                                                                monkeypatch):
    photos = [write_image(tmp_path / "camera roll" / f"cup{i}.png", (200, 30, 30), seed=i) for i in range(3)]
    balls = [write_image(tmp_path / "camera roll" / f"ball{i}.jpg", (30, 30, 200), seed=9 + i) for i in range(2)]
    notes = tmp_path / "camera roll" / "notes.txt"
    notes.write_text("not a photo")

    # New dataset: an empty folder the app makes, opened at once.
    answers.append("Lesson")
    qtbot.mouseClick(panel.new_dataset_button, Qt.MouseButton.LeftButton)
    root = tmp_path / "Pictures" / "Lesson"
    settle(qtbot, panel)
    assert on_disk(root) == {} and on_page(panel) == {} and panel.session.index is None
    assert panel.summary.text() == "No classes yet." and "Press New class" in panel.message.text()
    assert panel.new_class_button.isEnabled() and not panel.rename_button.isEnabled()

    # New class: listed at once with 0 photos, chosen for the next edits.
    answers.append("Class 1")
    qtbot.mouseClick(panel.new_class_button, Qt.MouseButton.LeftButton)
    settle(qtbot, panel)
    assert on_disk(root) == {"Class 1": []} and on_page(panel) == {"Class 1": 0}
    assert panel.selected_class() == "Class 1" and "Made the class Class 1" in panel.edit_note.text()

    # A name that cannot be a folder is refused with a sentence; nothing changes.
    answers.append("../up")
    qtbot.mouseClick(panel.rename_button, Qt.MouseButton.LeftButton)
    assert "cannot contain" in panel.edit_note.text() and panel.edit_note.property("role") == "error"
    assert on_disk(root) == {"Class 1": []}

    answers.append("cup")
    with qtbot.waitSignal(panel.classSelected, check_params_cb=lambda name: name == "cup"):
        qtbot.mouseClick(panel.rename_button, Qt.MouseButton.LeftButton)
        settle(qtbot, panel)
    assert on_disk(root) == {"cup": []} and on_page(panel) == {"cup": 0} and panel.selected_class() == "cup"

    # Add photos (the file dialog): the photos are copied, the text file is named and left out.
    panel.tabs.setCurrentIndex(1)
    monkeypatch.setattr(data_page, "ask_photo_files", lambda *_args: [*photos, notes])
    qtbot.mouseClick(panel.add_photos_button, Qt.MouseButton.LeftButton)
    settle(qtbot, panel)
    assert on_disk(root) == {"cup": ["cup0.png", "cup1.png", "cup2.png"]} and on_page(panel) == {"cup": 3}
    assert "Added 3 photo(s) to cup." in panel.edit_note.text() and "notes.txt" in panel.edit_note.text()
    assert panel.thumbnails.model_.rowCount() == 3
    assert all(p.exists() for p in photos)  # copied, the originals stay

    # A second class, filled by dropping photo files onto its row in the class table.
    answers.append("ball")
    qtbot.mouseClick(panel.new_class_button, Qt.MouseButton.LeftButton)
    settle(qtbot, panel)
    panel.tabs.setCurrentIndex(0)
    qtbot.waitUntil(lambda: panel.table.isVisible())
    event = drop_files(panel, balls, row_position(panel, panel.table, 0))  # rows: ball, cup
    assert event.isAccepted()
    settle(qtbot, panel)
    assert on_disk(root) == {"ball": ["ball0.jpg", "ball1.jpg"], "cup": ["cup0.png", "cup1.png", "cup2.png"]}
    assert on_page(panel) == {"ball": 2, "cup": 3}
    assert panel.session.index is not None and panel.session.index.classes == ["ball", "cup"]  # a dataset now

    # Delete the class: gone from the folder and the page, kept for Undo (not in the trash yet).
    panel.table.selectRow(1)
    assert panel.selected_class() == "cup" and panel.delete_button.text() == "Delete class"
    qtbot.mouseClick(panel.delete_button, Qt.MouseButton.LeftButton)
    settle(qtbot, panel)
    assert on_disk(root) == {"ball": ["ball0.jpg", "ball1.jpg"]} and on_page(panel) == {"ball": 2}
    assert not trash.exists() and panel.undo_button.isEnabled() and panel.undo_action.isEnabled()

    # Undo (Ctrl+Z) brings it back with its photos.
    panel.activateWindow()
    qtbot.waitUntil(panel.isActiveWindow)
    qtbot.keyClick(panel.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, panel)
    assert on_disk(root) == {"ball": ["ball0.jpg", "ball1.jpg"], "cup": ["cup0.png", "cup1.png", "cup2.png"]}
    assert on_page(panel) == {"ball": 2, "cup": 3} and "The class cup is back." in panel.edit_note.text()
    assert not panel.undo_button.isEnabled()

    # Selected photos: the Delete button says so and deletes only them.
    panel.tabs.setCurrentIndex(1)
    panel.class_list.setCurrentRow(1)
    panel.thumbnails.selectionModel().select(panel.thumbnails.model_.index(0),
                                             panel.thumbnails.selectionModel().SelectionFlag.Select)
    assert panel.delete_button.text() == "Delete photos"
    qtbot.mouseClick(panel.delete_button, Qt.MouseButton.LeftButton)
    settle(qtbot, panel)
    assert on_disk(root)["cup"] == ["cup1.png", "cup2.png"] and on_page(panel)["cup"] == 2

    # Photos taken with the camera: deleted in one click; the deletion before goes to the trash.
    save_frame(root / "ball", np.full((40, 60, 3), 90, np.uint8))
    panel.reload()
    settle(qtbot, panel)
    assert panel.delete_captured_button.isEnabled()
    qtbot.mouseClick(panel.delete_captured_button, Qt.MouseButton.LeftButton)
    settle(qtbot, panel)
    assert on_disk(root)["ball"] == ["ball0.jpg", "ball1.jpg"] and not panel.delete_captured_button.isEnabled()
    assert sorted(p.name for p in trash.iterdir()) == ["cup0.png"]

    # Closing the app (the window stops each page's work) sends the last deletion to the trash.
    panel.stop_background_work(3000)
    assert len(list(trash.iterdir())) == 2 and not panel.shelf.can_undo


def test_the_demo_dataset_is_not_changed_and_a_drop_outside_a_class_explains(qtbot, panel, answers, tmp_path):
    panel.load(None)
    settle(qtbot, panel)
    assert not panel.new_class_button.isEnabled() and not panel.delete_button.isEnabled()
    photo = write_image(tmp_path / "p.png", (1, 2, 3))
    drop_files(panel, [photo], row_position(panel, panel.table, 0))
    assert "The demo dataset cannot be changed" in panel.edit_note.text()
    drop_files(panel, [photo], panel.title.geometry().center())
    assert "p.png is a file" in panel.message.text()


def test_a_class_filled_by_hold_to_record_matches_the_folder_at_each_step(qtbot, panel, answers, tmp_path, trash):
    """Issue 15's acceptance path: create, rename, hold-to-record from a generated camera, delete, Undo."""
    from PySide6.QtGui import QColor, QImage

    from desktop_app.core.data.frames import CAPTURE_PREFIX
    from desktop_app.ui.widgets.frame_sources import TimedSource

    def frame(n: int) -> QImage:
        image = QImage(80, 60, QImage.Format.Format_RGB32)
        image.fill(QColor(200, 40 + n % 50, 40))
        return image

    answers += ["Lesson", "Class 1", "mug"]
    qtbot.mouseClick(panel.new_dataset_button, Qt.MouseButton.LeftButton)
    settle(qtbot, panel)
    root = tmp_path / "Pictures" / "Lesson"
    qtbot.mouseClick(panel.new_class_button, Qt.MouseButton.LeftButton)
    settle(qtbot, panel)
    assert on_disk(root) == {"Class 1": []} and on_page(panel) == {"Class 1": 0}
    qtbot.mouseClick(panel.rename_button, Qt.MouseButton.LeftButton)
    settle(qtbot, panel)
    assert on_disk(root) == {"mug": []} and on_page(panel) == {"mug": 0}

    panel.tabs.setCurrentWidget(panel.photos_page)
    source = TimedSource(frame, fps=30)
    panel.capture.set_source(source)
    qtbot.mouseClick(panel.camera_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.capture.frame is not None, timeout=3000)
    assert panel.capture.folder == root / "mug"
    qtbot.mousePress(panel.capture.record_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(list((root / "mug").glob(f"{CAPTURE_PREFIX}*.jpg"))) >= 4, timeout=5000)
    qtbot.mouseRelease(panel.capture.record_button, Qt.MouseButton.LeftButton)
    assert panel.capture.wait_for_saving()
    taken = on_disk(root)["mug"]
    assert len(taken) >= 4 and all(name.startswith(CAPTURE_PREFIX) for name in taken)
    qtbot.waitUntil(lambda: panel.shown is not None and on_page(panel) == {"mug": len(taken)}, timeout=15_000)
    qtbot.mouseClick(panel.camera_button, Qt.MouseButton.LeftButton)  # the camera goes off
    assert not source.active

    panel.tabs.setCurrentIndex(0)
    panel.table.selectRow(0)
    qtbot.mouseClick(panel.delete_button, Qt.MouseButton.LeftButton)
    settle(qtbot, panel)
    assert on_disk(root) == {} and on_page(panel) == {}
    qtbot.mouseClick(panel.undo_button, Qt.MouseButton.LeftButton)
    settle(qtbot, panel)
    assert on_disk(root) == {"mug": taken} and on_page(panel) == {"mug": len(taken)}


def test_a_deletion_waits_in_the_open_projects_undo_folder(qtbot, panel, tmp_path, trash):
    from conftest import make_image_folder

    root = make_image_folder(tmp_path / "photos", per_class=2)
    panel.session.runs_folder = tmp_path / "project" / "runs"  # a project is open
    panel.load(str(root))
    settle(qtbot, panel)
    panel.table.selectRow(0)
    name = panel.selected_class()
    qtbot.mouseClick(panel.delete_button, Qt.MouseButton.LeftButton)
    settle(qtbot, panel)
    kept = list((tmp_path / "project" / "undo").rglob(f"*{name}"))
    assert not (root / name).exists() and len(kept) == 1 and kept[0].is_dir()
