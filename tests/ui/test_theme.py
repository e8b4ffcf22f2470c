"""Themes and presentation mode."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QSettings, QSize
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QWidget

from desktop_app.ui.shell.main_window import MainWindow
from desktop_app.ui.shell.theme import DARK, LIGHT, PRESENTATION_SCALE, SYSTEM, THEME_KEY, ThemeManager, scale_points


@pytest.fixture
def manager(qapp, tmp_path):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    old_sheet, old_palette = qapp.styleSheet(), qapp.palette()
    m = ThemeManager(qapp, settings)
    yield m
    m.set_presentation(False)
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
    # Wide enough for its bigger text, not its width times the scale (a third of a projector).
    assert sidebar < window.steps.maximumWidth() < round(sidebar * PRESENTATION_SCALE)
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


# ---- presentation mode for the back row of a classroom (1,280 x 720 projector) ----

BODY_PT = 11.0  # resources/style.qss: QWidget { font-size: 11pt; }
PROJECTOR = QSize(1280, 720)


def _visible_widgets(window):
    return [w for w in window.findChildren(QWidget) if w.isVisibleTo(window) and w.window() is window]


def _plots(window):
    return window.findChildren(pg.PlotWidget)


def _plot_fonts(window) -> dict:
    """Every text size drawn inside the plots: tick labels, axis labels, titles, marker notes."""
    sizes = {}
    for n, plot in enumerate(_plots(window)):
        item = plot.getPlotItem()
        for name in ("left", "bottom"):
            axis = item.getAxis(name)
            sizes[(n, name, "ticks")] = (axis.style.get("tickFont") or plot.font()).pointSizeF()
            sizes[(n, name, "label")] = axis.label.font().pointSizeF()
        sizes[(n, "title")] = item.titleLabel.opts.get("size")
        for m, line in enumerate(i for i in item.items if isinstance(i, pg.InfiniteLine)):
            sizes[(n, "marker", m)] = line.label.textItem.font().pointSizeF()
    return sizes


@pytest.fixture
def shown_window(manager, qtbot, image_folder, monkeypatch):
    """The main window with a run's curves (fine-tuned) and a confusion matrix to show."""
    window = MainWindow(data_folder=str(image_folder))
    qtbot.addWidget(window)
    window.show()
    window.resize(PROJECTOR)
    rows = [{"epoch": e, "phase": "feature_extraction" if e <= 3 else "fine_tuning", "loss": 1 / e,
             "val_loss": 1.2 / e, "accuracy": 1 - 0.5 / e, "val_accuracy": 1 - 0.6 / e,
             "unfreeze_layers": 20 if e > 3 else None, "learning_rate": 1e-4} for e in range(1, 6)]
    window.train_panel.curves.set_history(rows)
    window.evaluate_panel.curves.set_history(rows)
    window.evaluate_panel.matrix.set_matrix(np.array([[9, 1, 0], [0, 10, 0], [2, 0, 8]]), ["red", "green", "blue"])
    qtbot.waitUntil(lambda: window.session.index is not None, timeout=15000)
    return window


def test_presentation_mode_makes_every_text_at_least_1_75_times_the_body_size(manager, shown_window, qtbot):
    window = shown_window
    before = {w: w.font().pointSizeF() for w in _visible_widgets(window)}
    plots_before = _plot_fonts(window)
    window.desktop.set_presentation(True)
    assert PRESENTATION_SCALE >= 1.75
    small = []
    for row in range(window.pages.count()):  # hidden pages' widgets are checked when shown
        window.steps.setCurrentRow(row)
        small += [(type(w).__name__, w.objectName(), w.font().pointSizeF()) for w in _visible_widgets(window)
                  if w.font().pointSizeF() < 1.75 * BODY_PT]
    assert small == []
    body = [w for w, size in before.items() if size == BODY_PT]
    assert body and all(w.font().pointSizeF() >= 1.75 * BODY_PT for w in body)
    for key, size in _plot_fonts(window).items():
        if key[1] != "title":
            assert size >= 1.75 * min(plots_before[key], BODY_PT) - 0.01, key


def test_switching_presentation_off_restores_every_font_and_line(manager, shown_window, qtbot):
    window = shown_window
    widgets = window.findChildren(QWidget)
    fonts = {w: w.font().pointSizeF() for w in widgets}
    plot_fonts = _plot_fonts(window)
    curves = window.train_panel.curves
    widths = {key: item.opts["pen"].widthF() for key, item in curves.curves.items()}
    sidebar = window.steps.width()
    window.desktop.set_presentation(True)
    assert curves.curves["loss"].opts["pen"].widthF() >= 1.75 * widths["loss"]
    window.desktop.set_presentation(False)
    assert {w: w.font().pointSizeF() for w in widgets} == fonts
    assert _plot_fonts(window) == plot_fonts  # the tick labels too
    assert {key: item.opts["pen"].widthF() for key, item in curves.curves.items()} == widths
    assert window.steps.width() == sidebar
    assert window.train_panel.settings_drawer.is_open()
    assert window.train_panel.explanation.isVisibleTo(window.train_panel)


def test_presentation_mode_fits_a_1280_by_720_projector(manager, shown_window, qtbot, monkeypatch):
    window = shown_window
    monkeypatch.setattr(window, "fit_to_screen", lambda: None)  # the test screen is not a projector
    window.desktop.set_presentation(True)
    window.resize(PROJECTOR)
    hint = window.minimumSizeHint()
    assert hint.width() <= PROJECTOR.width() and hint.height() <= PROJECTOR.height()
    for row in range(window.pages.count()):
        window.steps.setCurrentRow(row)
        qtbot.wait(20)
        page = window.pages.currentWidget()
        viewport = window.page_scroll.viewport().size()
        assert page.minimumSizeHint().width() <= viewport.width(), type(page).__name__  # never sideways
        if not page.wraps_to_fit:  # the Data page may scroll down to its split sentences
            assert page.minimumSizeHint().height() <= viewport.height(), type(page).__name__
    # The settings fold away: curves and the confusion matrix take the width.
    window.go_to_step("Train")
    qtbot.wait(20)
    train = window.train_panel
    assert not train.settings_drawer.is_open() and train.start_button.isVisibleTo(train)
    assert train.curves.width() >= 0.7 * train.width()
    window.go_to_step("Evaluate")
    qtbot.wait(20)
    evaluate = window.evaluate_panel
    assert evaluate.matrix.width() >= 0.7 * evaluate.width()
    # ... and open again on demand.
    train.settings_drawer.toggle.click()
    assert train.settings_drawer.is_open()


def test_the_window_never_outgrows_its_screen(manager, qtbot, image_folder):
    window = MainWindow(data_folder=str(image_folder))
    qtbot.addWidget(window)
    window.show()
    free = window.screen().availableGeometry()
    window.resize(free.width() * 2, free.height() * 2)
    window.fit_to_screen()
    assert free.contains(window.frameGeometry())
    window.desktop.set_presentation(True)
    qtbot.wait(20)
    assert free.contains(window.frameGeometry())
    size = window.size()
    window.desktop.set_presentation(False)
    assert window.size() == size


def test_view_menu_shows_both_presentation_shortcuts(qtbot, image_folder):
    window = MainWindow(data_folder=str(image_folder))
    qtbot.addWidget(window)
    action = window.desktop.presentation_action
    shown = action.text().split("\t")[1]
    assert "Ctrl+Shift+P" in shown and "F5" in shown
    assert {k.toString() for k in action.shortcuts()} == {"Ctrl+Shift+P", "F5"}
