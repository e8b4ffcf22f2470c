"""The Data page opens a folder, shows counts, thumbnails, bad files and the split."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDropEvent

from conftest import make_image_folder, wait_for_dataset
from corpus import build_bad_corpus, usable_count
from desktop_app.core.session import DatasetChoice, SplitSettings
from desktop_app.ui.pages.data import DataPanel


@pytest.fixture
def panel(qtbot, tmp_path, session):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    widget = DataPanel(session, settings=settings)
    qtbot.addWidget(widget)
    widget.resize(1000, 700)
    widget.show()
    yield widget
    widget.stop_background_work(3000)


def open_and_wait(qtbot, panel, folder) -> None:
    panel.load(str(folder))
    wait_for_dataset(qtbot, panel.session, 30_000)
    qtbot.waitUntil(lambda: not panel.loader.is_running(), timeout=5000)


def cell(table, row, col) -> str:
    return table.item(row, col).text()


def test_open_folder_shows_counts_bad_files_and_thumbnails(qtbot, panel, tmp_path):
    root = tmp_path / "bad corpus"
    expected = build_bad_corpus(root)
    open_and_wait(qtbot, panel, root)

    table = panel.table
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert headers == ["Class", "In folder", "Training", "Validation"]
    # A class folder without a usable photo is listed with 0 (to be filled), never trained on.
    assert [cell(table, r, 0) for r in range(table.rowCount())] == ["alpha", "beta", "empty_class"]
    assert [cell(table, 2, c) for c in (1, 2, 3)] == ["0", "0", "0"]
    assert panel.session.index.classes == ["alpha", "beta"]
    in_folder = sum(int(cell(table, r, 1)) for r in range(3))
    used = sum(int(cell(table, r, c)) for r in range(3) for c in (2, 3))
    assert in_folder == used == usable_count(expected)

    bad_names = {Path(panel.bad_table.item(r, 0).text()).name for r in range(panel.bad_table.rowCount())}
    assert {"empty.jpg", "notes.jpg", "truncated.jpg", "bomb.png", "scan.tif"} <= bad_names
    reasons = [panel.bad_table.item(r, 2).text() for r in range(panel.bad_table.rowCount())]
    assert any("empty (0 bytes)" in r for r in reasons)
    assert panel.tabs.tabText(2).startswith("Problems (")

    # Show in folder reveals the selected bad file.
    revealed = []
    panel.reveal = revealed.append
    assert not panel.reveal_button.isEnabled()
    panel.bad_table.selectRow(0)
    assert panel.reveal_button.isEnabled()
    qtbot.mouseClick(panel.reveal_button, Qt.MouseButton.LeftButton)
    assert revealed == [panel.selected_bad_file()] and revealed[0].is_relative_to(root)

    # Thumbnails are decoded in the background and arrive.
    panel.tabs.setCurrentIndex(1)
    model = panel.thumbnails.model_
    assert model.rowCount() == int(cell(table, 0, 1))
    qtbot.waitUntil(lambda: model.loaded_count() > 0, timeout=10_000)
    panel.class_list.setCurrentRow(1)
    assert model.rowCount() == int(cell(table, 1, 1))

    assert panel.recent_folders() == [str(root.resolve())]
    assert panel.recent_menu.actions()[0].text() == str(root.resolve())


def test_split_controls_change_the_counts_and_settings(qtbot, panel, tmp_path):
    root = make_image_folder(tmp_path / "data", per_class=40, size=8)
    open_and_wait(qtbot, panel, root)
    session = panel.session
    assert session.split == SplitSettings(100.0, 0.2, 42)
    assert "learns from 96 photos and is checked on 24: the same 24 at every share" in panel.split_result.text()
    with qtbot.waitSignal(session.events.split) as signal:
        qtbot.mouseClick(panel.subset_buttons[10.0], Qt.MouseButton.LeftButton)
    assert signal.args[0].subset_percent == 10.0
    assert [cell(panel.table, r, 2) for r in range(3)] == ["3", "3", "3"]
    panel.subset_buttons[None].click()
    assert panel.custom_subset.isEnabled()
    panel.custom_subset.setValue(50)
    panel.val_spin.setValue(25)
    panel.seed_spin.setValue(7)
    assert session.split == SplitSettings(50.0, 0.25, 7)
    assert [cell(panel.table, r, 3) for r in range(3)] == ["10", "10", "10"]  # a quarter of all 40: the share is for training
    assert not panel.imbalance_label.isVisible()
    # A change made elsewhere (a project opened, the Quick experiment) shows here.
    session.split = SplitSettings(10.0, 0.3, 9)
    assert panel.subset_buttons[10.0].isChecked() and not panel.custom_subset.isEnabled()
    assert (panel.val_spin.value(), panel.seed_spin.value()) == (30, 9)
    assert "learns from" in panel.split_result.text()


def test_imbalance_warning_and_drop_of_a_folder(qtbot, panel, tmp_path):
    root = make_image_folder(tmp_path / "data", per_class=2, size=8)
    make_image_folder(root, per_class=10, size=8, classes={"big": (9, 9, 9)})
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(root))])
    drop = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                      Qt.KeyboardModifier.NoModifier)
    panel.dropEvent(drop)
    assert panel.session.dataset == DatasetChoice(root.resolve())
    assert wait_for_dataset(qtbot, panel.session, 30_000).root == root.resolve()
    assert panel.imbalance_label.isVisible() and "big" in panel.imbalance_label.text()


def test_a_single_class_folder_shows_a_clear_error(qtbot, panel, tmp_path):
    root = make_image_folder(tmp_path / "one", per_class=2, classes={"only": (1, 2, 3)})
    panel.load(str(root))
    qtbot.waitUntil(lambda: "only one class" in panel.message.text(), timeout=10_000)
    assert panel.message.property("role") == "error"
    # No dataset for the other pages; the class stays listed, so another can be made beside it.
    assert panel.session.index is None and panel.table.rowCount() == 1 and panel.new_class_button.isEnabled()


def test_a_missing_folder_says_so_and_clears_the_last_one(qtbot, panel, tmp_path):
    open_and_wait(qtbot, panel, make_image_folder(tmp_path / "data", per_class=4, size=8))
    assert panel.table.rowCount() == 3
    panel.load(str(tmp_path / "gone"))
    assert "not there any more" in panel.message.text() and panel.message.property("role") == "error"
    assert panel.session.index is None and panel.table.rowCount() == 0 and panel.split_result.text() == ""


def test_controls_have_names_tooltips_and_accessible_names(panel):
    for widget in (panel.choose_button, panel.demo_button, panel.recent_button, panel.table, panel.chart,
                   panel.bad_table, panel.reveal_button, panel.custom_subset, panel.val_spin, panel.seed_spin,
                   panel.thumbnails, panel.class_list, *panel.subset_buttons.values()):
        assert widget.objectName() and widget.toolTip() and widget.accessibleName(), widget


def test_a_folder_without_images_clears_everything_of_the_last_one(qtbot, panel, tmp_path):
    open_and_wait(qtbot, panel, make_image_folder(tmp_path / "data", per_class=4, size=8))
    assert panel.table.rowCount() == 3 and "learns from" in panel.split_result.text()
    empty = tmp_path / "empty"
    (empty / "cats").mkdir(parents=True)
    panel.load(str(empty))
    qtbot.waitUntil(lambda: "No images were found" in panel.message.text(), timeout=10_000)
    assert panel.session.index is None and panel.summary.text() == "This folder cannot be used yet."
    # No counts, class names, bars, photos or problems of the old folder stay underneath: only
    # this folder's own class, empty, listed with 0 so that it can be filled.
    assert [cell(panel.table, r, 0) for r in range(panel.table.rowCount())] == ["cats"]
    assert panel.split_result.text() == "" and panel.class_list.count() == 1 and "No problems" in panel.problems_note.text()
    assert list(panel.train_bars.opts["height"]) == [0] and list(panel.val_bars.opts["height"]) == [0]
    assert [name for _, name in panel.chart.getAxis("bottom")._tickLevels[0]] == ["cats"]
    # A folder with images again: the scale and class names come back.
    open_and_wait(qtbot, panel, tmp_path / "data")
    assert panel.table.rowCount() == 3 and panel.chart.getAxis("left")._tickLevels is None


def test_a_dropped_file_says_what_the_page_takes(qtbot, panel, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not photos")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(notes))])
    drop = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                      Qt.KeyboardModifier.NoModifier)
    panel.dropEvent(drop)
    assert drop.isAccepted()
    assert panel.message.isVisible() and "notes.txt is a file" in panel.message.text()
    assert "a folder of photos with one sub-folder per class" in panel.message.text()
    assert panel.session.dataset == DatasetChoice()  # nothing else changed


def test_class_names_under_the_bars_never_run_into_each_other(qtbot, tmp_path):
    from PySide6.QtGui import QFont, QFontMetrics

    from desktop_app.ui.pages.data import fitted_ticks

    names = ["circles", "squares", "stars", "triangles", "a_very_long_class_name"]
    big = QFont()
    big.setPointSizeF(20)
    metrics = QFontMetrics(big)
    for width in (180, 320, 900):
        ticks = fitted_ticks(names, width, metrics)
        slot = width / len(names)
        positions = [i for i, _ in ticks]
        step = positions[1] - positions[0] if len(positions) > 1 else len(names)
        assert all(metrics.horizontalAdvance(text) < slot * step for _, text in ticks), (width, ticks)
    assert [t for _, t in fitted_ticks(names[:4], 2000, metrics)] == names[:4]  # room for all: whole names
    assert len(fitted_ticks(names, 180, metrics)) < len(names)  # a narrow chart names every other class
