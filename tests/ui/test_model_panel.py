"""The Model page: the tree, the filter, the unfreeze control, the weights section."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGroupBox, QScrollArea

from desktop_app.core.data.scan import scan_folder
from desktop_app.core.session import ModelSettings
from desktop_app.ui.pages.model import ModelPanel
from desktop_app.ui.widgets.model_tree import fitted_name
from conftest import make_image_folder

BUILD_TIMEOUT_MS = 120_000


@pytest.fixture
def keras_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "keras-home"
    monkeypatch.setenv("KERAS_HOME", str(home))
    return home


def _counts(panel: ModelPanel) -> tuple[int, ...]:
    return tuple(int(n.replace(",", "")) for n in re.findall(r"[\d,]+", panel.tree.totals.text()))


def _wait_built(qtbot, panel: ModelPanel) -> None:
    qtbot.waitUntil(lambda: panel._summary is not None and not panel.builds.is_running()
                    and panel.busy.isHidden(), timeout=BUILD_TIMEOUT_MS)


def _wait_weights(qtbot, panel: ModelPanel) -> None:
    qtbot.waitUntil(lambda: not panel.weights_work.is_running(), timeout=60_000)


def _three_classes(tmp_path):
    return scan_folder(make_image_folder(tmp_path / "data", per_class=2, size=8))


@pytest.fixture
def panel(qtbot, keras_home, session, tmp_path):
    session.index = _three_classes(tmp_path)
    panel = ModelPanel(session)
    qtbot.addWidget(panel)
    panel.base_combo.setCurrentIndex(panel.base_combo.findData("mobilenet"))
    panel.alpha_combo.setCurrentIndex(panel.alpha_combo.findData(0.25))
    panel.size_spin.setValue(64)
    panel.resize(1300, 850)
    panel.show()
    _wait_built(qtbot, panel)
    yield panel
    panel.stop_background_work(5000)


def test_tree_filter_and_unfreeze(qtbot, panel):
    tree = panel.tree
    assert panel.unfreeze_spin.maximum() == 86  # MobileNet's layers
    total, trainable, frozen = _counts(panel)
    assert trainable == 256 * 3 + 3 and total == trainable + frozen

    tree.expand("base_model")
    base_index = tree.index_of("base_model")
    assert tree.view.isExpanded(base_index) and tree.proxy.rowCount(base_index) == 86

    qtbot.keyClicks(tree.filter_edit, "conv_pw_13")
    rows = tree.visible_rows()
    assert "base_model (Functional)" in rows and "conv_pw_13 (Conv2D)" in rows
    assert "conv_dw_1 (DepthwiseConv2D)" not in rows and "predictions (Dense)" not in rows

    # Move the control: the top 5 layers hold conv_pw_13 and BatchNorm layers (which stay frozen).
    assert not panel.preview_check.isChecked()  # the tree shows the model as it starts
    panel.unfreeze_slider.setValue(5)
    assert panel.unfreeze_spin.value() == 5 == panel.session.training.unfreeze_layers
    assert panel.preview_check.isChecked()  # moving the control shows what fine-tuning trains
    _, trainable_after, frozen_after = _counts(panel)
    assert trainable_after == trainable + 256 * 256  # conv_pw_13's kernel, no bias; BN not counted
    assert frozen_after == frozen - 256 * 256
    model = tree.model
    pw13 = tree.proxy.mapToSource(tree.index_of("conv_pw_13"))
    assert model.index(pw13.row(), 3, pw13.parent()).data() == "yes"
    assert pw13.data(Qt.ItemDataRole.ForegroundRole).color() != model.index(0, 0).data(Qt.ItemDataRole.ForegroundRole).color()
    assert "BatchNorm (batch normalisation) layers keep" in panel.unfreeze_slider.toolTip()
    assert "0.0001" in panel.lr_label.text()
    # Says how many layers actually learn: of the top 5 only conv_pw_13 has weights and is not BatchNorm.
    assert "unfreezes the top 5 layers of the base and trains 1 layer with weights" in panel.lr_label.text()
    assert "The other 4 have no numbers to learn, or are BatchNorm layers" in panel.lr_label.text()
    panel.unfreeze_spin.setValue(20)
    base = panel.tree.model.summary.root.find("base_model")
    # blocks 13, 12 and 11 each have a depthwise and a pointwise convolution that learn
    assert "trains 6 layers with weights" in panel.lr_label.text() and base.layers_that_learn() == 6

    tree.filter_edit.clear()
    tree.expand("base_model")
    tree.view.setCurrentIndex(tree.index_of("conv_pw_12"))
    panel.unfreeze_spin.setValue(5)
    qtbot.mouseClick(panel.cut_button, Qt.MouseButton.LeftButton)
    names = [node.name for node in panel._summary.root.find("base_model").children]
    assert panel.session.training.unfreeze_layers == len(names) - names.index("conv_pw_12")
    assert panel.unfreeze_spin.value() == panel.session.training.unfreeze_layers
    panel.preview_check.setChecked(False)
    assert _counts(panel)[1] == trainable


def test_controls_write_the_session(qtbot, panel):
    panel.pooling_combo.setCurrentIndex(1)
    panel.dropout_spin.setValue(0.2)
    panel.hidden_spin.setValue(64)
    panel.unfreeze_spin.setValue(7)
    assert panel.session.model == ModelSettings("mobilenet", 0.25, 64, "imagenet", "max", 0.2, 64)
    assert panel.session.training.unfreeze_layers == 7 and panel.n_classes == 3
    _wait_built(qtbot, panel)  # the head change rebuilt the tree
    assert "hidden (Dense)" in panel.tree.visible_rows()
    panel.no_weights_radio.setChecked(True)
    assert panel.session.model.weights is None and panel.weights_warning.isVisibleTo(panel)
    assert not panel.download_button.isEnabled()


def test_the_session_drives_the_page_and_a_new_base_keeps_what_still_fits(qtbot, panel):
    panel.session.model = ModelSettings("mobilenet_v2", 0.5, 96, None, "max")
    assert panel.base_combo.currentData() == "mobilenet_v2" and panel.alpha_combo.currentData() == 0.5
    assert panel.size_spin.value() == 96 and panel.pooling_combo.currentData() == "max"
    assert panel.no_weights_radio.isChecked()
    _wait_built(qtbot, panel)
    assert "MobileNetV2 at 96 px" in panel.status.text()
    panel.base_combo.setCurrentIndex(panel.base_combo.findData("mobilenet"))  # 0.5 is a MobileNet width too
    assert (panel.session.model.backbone, panel.session.model.alpha, panel.session.model.img_size) == (
        "mobilenet", 0.5, 96)
    panel.base_combo.setCurrentIndex(panel.base_combo.findData("resnet50_v2"))  # no widths: none kept
    assert panel.session.model.alpha is None and not panel.alpha_combo.isEnabled()
    assert panel.session.model.img_size == 96
    panel.session.update("training", learning_rate=0.01)
    assert "0.001 (10x lower than 0.01)" in panel.lr_label.text()


def _weights_here(panel: ModelPanel) -> bool:
    return "On this computer" in panel.weights_status.text() and not panel.download_button.isEnabled()


def test_one_import_sets_base_and_width_and_serves_every_size(qtbot, keras_home, session, shared_weights, tmp_path):
    """The classroom from a USB stick: the default base and width, one import, any image size."""
    session.index = _three_classes(tmp_path)
    panel = ModelPanel(session)
    qtbot.addWidget(panel)
    panel.show()
    assert session.model.backbone == "efficientnet_v2_b0" and "Not on this computer" in panel.weights_status.text()
    panel.import_file(str(shared_weights))
    _wait_weights(qtbot, panel)
    assert (session.model.backbone, session.model.alpha) == ("mobilenet", 0.25)
    assert panel.base_combo.currentData() == "mobilenet" and panel.alpha_combo.currentData() == 0.25
    message = panel.weights_message
    assert message.text() == ("This file is MobileNet with width 0.25; switched to it. "
                              "Its weights serve every image size.")
    assert message.property("role") == "ok" and message.isVisible()  # success is not a warning
    for size in (96, 128, 224):
        panel.size_spin.setValue(size)
        assert session.model.img_size == size
        assert _weights_here(panel), (size, panel.weights_status.text())
        assert message.isVisible()  # the size is not what the message is about
    assert sorted(p.name for p in (keras_home / "models").iterdir()) == [shared_weights.name]  # one file
    _wait_built(qtbot, panel)
    panel.stop_background_work(5000)


def test_weights_messages_are_sentences_and_go_when_their_cause_goes(qtbot, panel, shared_weights, monkeypatch):
    assert "Not on this computer" in panel.weights_status.text() and panel.weights_message.isHidden()
    # The download runs in the engine process: send it to a port where nothing listens.
    monkeypatch.setenv("TRANSFER_STUDIO_WEIGHTS_MIRROR", "http://127.0.0.1:9/")
    qtbot.mouseClick(panel.download_button, Qt.MouseButton.LeftButton)
    _wait_weights(qtbot, panel)
    assert "network is not reachable" in panel.weights_message.text()
    assert panel.weights_message.property("role") == "error"
    assert panel.download_button.isEnabled() and not panel.weights_progress.isVisible()

    panel.import_file(str(shared_weights))  # the base and width the file is for: nothing to switch
    _wait_weights(qtbot, panel)
    assert panel.weights_message.text().startswith("Ready: the ImageNet weights of MobileNet with width 0.25")
    assert panel.weights_message.property("role") == "ok" and _weights_here(panel)
    # The long file name in the status wraps: nothing is cut off at the settings column's right edge.
    scroll = panel.findChild(QScrollArea, "modelSettings")
    assert scroll.widget().minimumSizeHint().width() <= scroll.viewport().width()
    for box in scroll.widget().findChildren(QGroupBox):  # a title cannot wrap: each must fit the column
        assert box.fontMetrics().horizontalAdvance(box.title()) < scroll.viewport().width() - 40, box.title()

    panel.alpha_combo.setCurrentIndex(panel.alpha_combo.findData(0.5))  # other weights: the message is stale
    assert panel.weights_message.isHidden() and "Not on this computer" in panel.weights_status.text()
    panel.alpha_combo.setCurrentIndex(panel.alpha_combo.findData(0.25))
    assert _weights_here(panel)


def test_a_new_base_remembers_the_width_it_had(qtbot, keras_home, session):
    panel = ModelPanel(session)
    qtbot.addWidget(panel)
    panel.base_combo.setCurrentIndex(panel.base_combo.findData("mobilenet"))
    panel.alpha_combo.setCurrentIndex(panel.alpha_combo.findData(0.25))
    panel.size_spin.setValue(128)
    panel.base_combo.setCurrentIndex(panel.base_combo.findData("mobilenet_v2"))  # has no 0.25
    assert session.model.alpha is None and session.model.img_size == 128
    panel.base_combo.setCurrentIndex(panel.base_combo.findData("mobilenet"))
    assert (session.model.alpha, session.model.img_size) == (0.25, 128)
    assert panel.alpha_combo.currentData() == 0.25


def test_screenshot_of_the_default_model(qtbot, keras_home, tmp_path, session):
    session.index = scan_folder(make_image_folder(tmp_path / "data", per_class=1, size=8, classes={
        f"c{i}": (i * 20, 0, 0) for i in range(10)}))
    panel = ModelPanel(session)
    qtbot.addWidget(panel)
    panel.resize(1400, 900)
    panel.show()
    _wait_built(qtbot, panel)
    assert _counts(panel) == (5_932_122, 12_810, 5_919_312)
    panel.tree.expand("base_model")
    panel.unfreeze_spin.setValue(10)
    panel.tree.view.scrollToBottom()
    assert panel.tree.view.font().pointSize() >= 12
    assert panel.grab().save(str(tmp_path / "model_panel.png"))
    panel.stop_background_work(5000)


def test_the_tree_and_options_speak_in_words(qtbot, panel):
    tree = panel.tree
    model = tree.model
    headers = [model.headerData(i, Qt.Orientation.Horizontal) for i in range(4)]
    assert headers == ["Layer (type)", "What comes out", "Numbers it learns", "Trainable"]
    assert all(model.headerData(i, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole) for i in range(4))
    assert "Param #" in model.headerData(2, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)

    tree.expand("base_model")
    base = tree.proxy.mapToSource(tree.index_of("base_model"))
    assert "A whole network used as one layer" in base.data(Qt.ItemDataRole.ToolTipRole)
    last_conv = tree.proxy.mapToSource(tree.index_of("conv_pw_13"))
    shape = model.index(last_conv.row(), 1, last_conv.parent())
    assert shape.data() == "2 x 2 grid of 256 numbers"  # 64 px photos: (None, 2, 2, 256)
    assert "(None, 2, 2, 256)" in shape.data(Qt.ItemDataRole.ToolTipRole)
    bn = tree.proxy.mapToSource(tree.index_of("conv_dw_13_bn"))
    tip = bn.data(Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith("conv_dw_13_bn (BatchNormalization)\n") and "steady range" in tip  # the full name
    # A narrow name column shortens the type first, then the name's middle, never its number.
    metrics = tree.view.fontMetrics()
    full = "conv_dw_13_bn (BatchNormalization)"
    assert fitted_name("conv_dw_13_bn", "BatchNormalization", metrics, 10_000) == full
    shorter = fitted_name("conv_dw_13_bn", "BatchNormalization", metrics, metrics.horizontalAdvance(full) - 20)
    assert shorter.startswith("conv_dw_13_bn (") and shorter.endswith("…)")
    tiny = fitted_name("conv_dw_13_bn", "BatchNormalization", metrics, metrics.horizontalAdvance("conv_dw_13"))
    assert tiny.startswith("conv") and tiny.endswith("bn") and "…" in tiny
    tree.resize(500, 400)
    tree.fit_columns()
    assert tree.view.header().sectionSize(0) >= 0.25 * tree.view.viewport().width()  # the names keep room
    assert "numbers in the model" in tree.totals.text().lower()

    assert "softmax turns the scores into these chances" in panel.output_label.text()
    form_labels = [panel.pooling_combo, panel.dropout_spin, panel.hidden_spin]
    for field in form_labels:  # hovering the label explains as much as hovering the field
        label = field.parentWidget().layout().labelForField(field)
        assert label.toolTip() == field.toolTip() and len(label.toolTip()) > 60
    assert panel.dropout_spin.text() == "off" and panel.pooling_combo.currentText() == "Average over the photo"
    assert panel.cut_button.text() == "Unfreeze from selected layer" and "fine-tuning" in panel.cut_button.toolTip()
