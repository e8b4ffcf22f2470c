"""The Augment page: controls -> session -> a preview made in the engine, superseded while dragging."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QAbstractButton, QComboBox, QLabel, QSlider, QSpinBox

from conftest import make_image_folder
from desktop_app.core.augment.spec import FILL_WORDS, AugmentationSpec, turn
from desktop_app.core.data.scan import scan_folder
from desktop_app.core.session import DatasetChoice
from desktop_app.ui.pages.augment import AugmentPanel

PREVIEW_TIMEOUT = 60_000  # the first preview may wait for the engine to start TensorFlow


@pytest.fixture
def panel(qtbot, tmp_path, session):
    session.update("model", img_size=48)  # the preview shows what the model gets
    panel = AugmentPanel(session)
    qtbot.addWidget(panel)
    panel.resize(1000, 640)
    session.index = scan_folder(make_image_folder(tmp_path / "data", per_class=3, size=40))
    yield panel
    panel.stop_background_work(10_000)


def shown(qtbot, panel):
    with qtbot.waitSignal(panel.previewUpdated, timeout=PREVIEW_TIMEOUT) as blocker:
        panel.show()
    return blocker.args[0]


def test_no_preview_work_until_the_page_is_seen(panel, qtbot):
    qtbot.wait(200)
    assert panel.last_preview is None and not panel.previews.is_running()
    first = shown(qtbot, panel)
    assert first.spec == AugmentationSpec.preset("light") == panel.spec()
    assert len(first.variants) >= 9 and first.original.shape == (48, 48, 3)
    assert panel.grid.original is not None and len(panel.grid.variants) == len(first.variants)


def test_changing_a_control_gives_a_new_preview(panel, qtbot):
    first = shown(qtbot, panel)
    slider = panel.findChild(QSlider, "rotationSlider")
    with qtbot.waitSignal(panel.session.events.augmentation, timeout=1000) as changed, \
            qtbot.waitSignal(panel.previewUpdated, timeout=10_000) as updated:
        slider.setValue(45)  # the Rotate slider moves in whole degrees
    assert changed.args[0].rotation == turn(45) == panel.spec().rotation == 0.125
    preview = updated.args[0]
    assert preview.spec == panel.spec()
    assert not all(np.array_equal(a, b) for a, b in zip(first.variants, preview.variants))
    assert panel.rows["rotation"].words.text() == "turn up to ±45°"


def test_dragging_a_slider_does_not_pile_up_previews(panel, qtbot):
    shown(qtbot, panel)
    seen = []
    panel.previewUpdated.connect(seen.append)
    slider = panel.findChild(QSlider, "zoomSlider")
    for value in range(5, 45):  # 40 steps, faster than any preview
        slider.setValue(value)
        qtbot.wait(5)
    qtbot.waitUntil(lambda: bool(seen) and seen[-1].spec == panel.spec() and not panel.previews.is_running(),
                    timeout=20_000)
    assert panel.spec().zoom == pytest.approx(0.44)
    assert len(seen) <= 8  # merged, not 40 jobs


def test_switches_presets_and_words(panel, qtbot):
    check = panel.rows["contrast"].check
    assert not check.isChecked() and panel.rows["contrast"].words.text() == "off"
    assert panel.preset_buttons["light"].isChecked()
    check.setChecked(True)
    assert panel.spec().contrast > 0 and "contrast up or down by up to" in panel.rows["contrast"].words.text()
    assert not any(b.isChecked() for b in panel.preset_buttons.values())  # a custom mix
    # Moving the slider of a switched-off setting switches it on.
    panel.findChild(QSlider, "brightnessSlider").setValue(30)
    assert panel.spec().brightness == pytest.approx(0.3)
    panel.preset_buttons["strong"].click()
    assert panel.spec() == AugmentationSpec.preset("strong") and panel.preset_buttons["strong"].isChecked()
    panel.preset_buttons["none"].click()
    assert panel.spec().is_identity
    panel.findChild(QComboBox, "flipMode").setCurrentIndex(1)  # picking a direction switches flip on
    assert panel.spec().flip == "vertical"


def test_same_seed_same_grid_and_another_image(panel, qtbot):
    first = shown(qtbot, panel)
    with qtbot.waitSignal(panel.previewUpdated, timeout=10_000) as blocker:
        panel.new_variants_button.click()
    rolled = blocker.args[0]
    assert rolled.seed == first.seed + 1 == panel.findChild(QSpinBox, "augmentSeed").value()
    assert not all(np.array_equal(a, b) for a, b in zip(first.variants, rolled.variants))
    with qtbot.waitSignal(panel.previewUpdated, timeout=10_000) as blocker:
        panel.seed_box.setValue(first.seed)
    assert all(np.array_equal(a, b) for a, b in zip(first.variants, blocker.args[0].variants))

    before = panel.current_image()
    with qtbot.waitSignal(panel.previewUpdated, timeout=10_000) as blocker:
        panel.another_image_button.click()
    after = panel.current_image()
    assert after.label != before.label  # classes take turns
    assert not np.array_equal(blocker.args[0].original, first.original)


def test_the_session_drives_the_page(panel, qtbot):
    first = shown(qtbot, panel)
    with qtbot.waitSignal(panel.previewUpdated, timeout=10_000) as blocker:
        panel.session.augmentation = AugmentationSpec(flip="horizontal")  # a project opened, say
    assert blocker.args[0].spec == AugmentationSpec(flip="horizontal")
    assert panel.flip_check.isChecked() and not panel.rows["rotation"].check.isChecked()
    with qtbot.waitSignal(panel.previewUpdated, timeout=10_000) as blocker:
        panel.session.update("model", img_size=64)
    assert blocker.args[0].original.shape == (64, 64, 3) != first.original.shape
    panel.session.index = None
    assert panel.current_image() is None and not panel.new_variants_button.isEnabled()


def test_every_control_is_named_and_explained(panel):
    controls = panel.findChildren(QAbstractButton) + panel.findChildren(QSlider) + \
        panel.findChildren(QComboBox) + panel.findChildren(QSpinBox)
    assert len(controls) >= 20
    for control in controls:
        if control.parent() is not None and control.parent().metaObject().className() == "QSpinBox":
            continue
        assert control.objectName() and control.accessibleName() and control.toolTip(), control


def test_the_light_preset_is_light_and_its_words_are_true(panel):
    panel.preset_buttons["light"].click()
    assert panel.rows["rotation"].words.text() == "turn up to ±10°"  # not the notebook's ±72°
    assert panel.rows["zoom"].words.text() == "zoom in or out by up to 10 %"
    assert "±10°" in panel.preset_buttons["light"].toolTip()
    # Touching a control and going back keeps it the Light preset (the slider's degrees are exact).
    panel.rows["rotation"].slider.setValue(11)
    panel.rows["rotation"].slider.setValue(10)
    assert panel.spec() == AugmentationSpec.preset("light") and panel.preset_buttons["light"].isChecked()
    assert panel.fill_note.text() == FILL_WORDS and "mirrored" in FILL_WORDS


def test_the_grid_says_loading_not_choose_while_a_chosen_dataset_is_read(panel, qtbot, tmp_path):
    session = panel.session
    session.index = None  # the Data page is reading the demo photos (chosen by default)
    assert session.dataset.is_demo and panel.grid.placeholder.startswith("Loading the demo photos")
    folder = make_image_folder(tmp_path / "flowers", per_class=3, size=40)
    session.dataset = DatasetChoice(folder)
    session.index = None
    assert "Loading the photos of “flowers”" in panel.grid.placeholder
    session.dataset = DatasetChoice(tmp_path / "gone")
    session.index = None
    assert panel.grid.placeholder.startswith("Choose a dataset")

    session.index = scan_folder(folder)  # checked: the preview is made once the page is seen
    with qtbot.waitSignal(panel.previewUpdated, timeout=PREVIEW_TIMEOUT):
        panel.show()
        assert panel.grid.placeholder == "Preparing the preview…"


def test_the_preview_says_the_models_image_size(panel, qtbot):
    first = shown(qtbot, panel)
    assert "48 px" in panel.status.text() and first.original.shape[0] == 48
    panel.hide()
    panel.session.update("model", img_size=64)  # on the Model page
    assert "48 px" not in panel.status.text() and "64 px" in panel.status.text()
    second = shown(qtbot, panel)
    assert second.original.shape == (64, 64, 3) and "64 px" in panel.status.text()


def test_the_preview_seed_says_it_is_not_the_training_seed(panel):
    label = next(label for label in panel.findChildren(QLabel) if label.buddy() is panel.seed_box)
    assert label.text() == "Preview seed:" and panel.seed_box.accessibleName() == "Preview seed"
    assert "preview only" in panel.seed_box.toolTip() and "Data page" in panel.seed_box.toolTip()
