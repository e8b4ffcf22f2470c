"""The Model page: the tree, the filter, the unfreeze control, the weights section."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktop_app.core.model_builder import HeadSpec
from desktop_app.ui.model_panel import ModelPanel

BUILD_TIMEOUT_MS = 120_000


@pytest.fixture
def keras_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "keras-home"
    monkeypatch.setenv("KERAS_HOME", str(home))
    return home


def _counts(panel: ModelPanel) -> tuple[int, ...]:
    return tuple(int(n.replace(",", "")) for n in re.findall(r"[\d,]+", panel.tree.totals.text()))


def _wait_built(qtbot, panel: ModelPanel) -> None:
    qtbot.waitUntil(lambda: panel._summary is not None and not panel._build_task.is_running()
                    and not panel._dirty and panel.busy.isHidden(), timeout=BUILD_TIMEOUT_MS)


def _wait_weights(qtbot, panel: ModelPanel) -> None:
    # Task.finished is queued to this thread, so it cannot fire before we wait for it.
    qtbot.waitSignal(panel._weights_task.finished, timeout=60_000).wait()


@pytest.fixture
def panel(qtbot, keras_home):
    panel = ModelPanel()
    qtbot.addWidget(panel)
    panel.set_class_count(3)
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
    panel.unfreeze_slider.setValue(5)
    assert panel.unfreeze_spin.value() == 5
    _, trainable_after, frozen_after = _counts(panel)
    assert trainable_after == trainable + 256 * 256  # conv_pw_13's kernel, no bias; BN not counted
    assert frozen_after == frozen - 256 * 256
    model = tree.model
    pw13 = tree.proxy.mapToSource(tree.index_of("conv_pw_13"))
    assert model.index(pw13.row(), 3, pw13.parent()).data() == "yes"
    assert pw13.data(Qt.ItemDataRole.ForegroundRole).color() != model.index(0, 0).data(Qt.ItemDataRole.ForegroundRole).color()
    assert "BatchNormalization layers stay frozen" in panel.unfreeze_slider.toolTip()
    assert "0.0001" in panel.lr_label.text()

    tree.filter_edit.clear()
    tree.expand("base_model")
    tree.view.setCurrentIndex(tree.index_of("conv_pw_12"))
    qtbot.mouseClick(panel.cut_button, Qt.MouseButton.LeftButton)
    names = [node.name for node in panel._summary.root.find("base_model").children]
    assert panel.unfreeze_layers == len(names) - names.index("conv_pw_12")
    panel.unfreeze_spin.setValue(0)
    assert _counts(panel)[1] == trainable


def test_settings_make_the_model_spec(qtbot, panel):
    panel.pooling_combo.setCurrentIndex(1)
    panel.dropout_spin.setValue(0.2)
    panel.hidden_spin.setValue(64)
    panel.unfreeze_spin.setValue(7)
    spec = panel.model_spec()
    assert (spec.n_classes, spec.backbone, spec.alpha, spec.img_size, spec.weights) == (3, "mobilenet", 0.25, 64, "imagenet")
    assert spec.head == HeadSpec("max", 0.2, 64) and panel.unfreeze_layers == 7
    _wait_built(qtbot, panel)  # the head change rebuilt the tree
    assert "hidden (Dense)" in panel.tree.visible_rows()
    panel.no_weights_radio.setChecked(True)
    assert panel.model_spec().weights is None and panel.weights_warning.isVisibleTo(panel)
    assert not panel.download_button.isEnabled()


def test_weights_import_and_offline_download(qtbot, panel, shared_weights, keras_home, monkeypatch):
    assert "Not on this computer" in panel.weights_status.text()
    panel.import_file(str(shared_weights))
    _wait_weights(qtbot, panel)
    assert "Ready" in panel.weights_message.text()
    assert "Downloaded" in panel.weights_status.text() and (keras_home / "models" / shared_weights.name).is_file()

    panel.alpha_combo.setCurrentIndex(panel.alpha_combo.findData(0.5))
    panel.import_file(str(shared_weights))
    _wait_weights(qtbot, panel)
    assert "does not fit MobileNet (width 0.5)" in panel.weights_message.text()

    def refuse(*args, **kwargs):
        raise OSError("network disabled by the test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    qtbot.mouseClick(panel.download_button, Qt.MouseButton.LeftButton)
    _wait_weights(qtbot, panel)
    assert "network is not reachable" in panel.weights_message.text()
    assert panel.download_button.isEnabled() and not panel.weights_progress.isVisible()


def test_screenshot_of_the_default_model(qtbot, keras_home, tmp_path):
    panel = ModelPanel()
    qtbot.addWidget(panel)
    panel.set_class_count(10)
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
