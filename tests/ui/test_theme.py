"""Themes and presentation mode."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QPalette

from desktop_app.ui.shell.main_window import MainWindow
from desktop_app.ui.shell.theme import DARK, LIGHT, PRESENTATION_SCALE, SYSTEM, THEME_KEY, ThemeManager, scale_points


@pytest.fixture
def manager(qapp, tmp_path):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    old_sheet, old_palette = qapp.styleSheet(), qapp.palette()
    m = ThemeManager(qapp, settings)
    yield m
    m.setParent(None)
    m.deleteLater()
    qapp.setStyleSheet(old_sheet)
    qapp.setPalette(old_palette)


def _is_dark(qapp) -> bool:
    return qapp.palette().color(QPalette.ColorRole.Window).lightness() < 128


def test_dark_and_light_switch_and_persist(manager, qapp):
    manager.set_mode(DARK)
    assert manager.effective() == DARK and _is_dark(qapp)
    assert "#ff8787" in qapp.styleSheet()  # readable error colour on dark
    manager.set_mode(LIGHT)
    assert not _is_dark(qapp)
    assert manager.settings.value(THEME_KEY) == LIGHT
    again = ThemeManager(qapp, manager.settings)
    assert again.mode == LIGHT
    again.setParent(None)


def test_system_mode_follows_the_platform_scheme(manager, qapp):
    manager.set_mode(SYSTEM)
    scheme = qapp.styleHints().colorScheme()
    from PySide6.QtCore import Qt

    assert manager.effective() == (DARK if scheme == Qt.ColorScheme.Dark else LIGHT)


def test_scale_points():
    assert scale_points("QWidget { font-size: 11pt; } QLabel { font-size: 20pt; }", 1.5) == \
        "QWidget { font-size: 16.5pt; } QLabel { font-size: 30.0pt; }"
    assert scale_points("padding: 6px", 2) == "padding: 6px"


def test_presentation_mode_enlarges_fonts_widths_thumbnails_and_plots(manager, qapp, qtbot, image_folder):
    window = MainWindow(data_folder=str(image_folder))
    qtbot.addWidget(window)
    sidebar = window.steps.width()
    thumbs = window.data_panel.thumbnails.iconSize().width()
    tick = window.data_panel.chart.getAxis("left").style["tickFont"].pointSizeF()
    scales = []
    manager.presentationChanged.connect(scales.append)
    window.desktop.set_presentation(True)
    assert scales == [PRESENTATION_SCALE]
    assert f"font-size: {11 * PRESENTATION_SCALE:.1f}pt" in qapp.styleSheet()
    assert window.steps.maximumWidth() == round(sidebar * PRESENTATION_SCALE)
    assert window.data_panel.thumbnails.iconSize().width() == round(thumbs * PRESENTATION_SCALE)
    assert window.data_panel.chart.getAxis("left").style["tickFont"].pointSizeF() == pytest.approx(tick * PRESENTATION_SCALE)
    assert f"{14 * PRESENTATION_SCALE:.1f}pt" in window.data_panel.summary.styleSheet()  # its own 14pt
    window.desktop.set_presentation(False)
    assert window.steps.maximumWidth() == sidebar
    assert window.data_panel.thumbnails.iconSize().width() == thumbs
    assert "14pt" in window.data_panel.summary.styleSheet() or "14.0pt" in window.data_panel.summary.styleSheet()


def test_view_menu_switches_theme(manager, qapp, qtbot, image_folder):
    window = MainWindow(data_folder=str(image_folder))
    qtbot.addWidget(window)
    window.desktop.theme = manager
    window.desktop.theme_actions[DARK].trigger()
    assert manager.mode == DARK and _is_dark(qapp)
    window.desktop.theme_actions[LIGHT].trigger()
    assert not _is_dark(qapp)
