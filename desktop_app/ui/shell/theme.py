"""Light and dark themes (following the system by default) and presentation mode.

Presentation mode is for a projector: every font in the stylesheet grows by
``PRESENTATION_SCALE``, and so do the things sized in pixels that would otherwise stay
small or clip the bigger text: fixed widths and heights, icon and thumbnail sizes, and
pyqtgraph's axis fonts. ``ThemeManager.presentationChanged`` tells anything else.
"""

from __future__ import annotations

import re

import pyqtgraph as pg
from PySide6.QtCore import QObject, QSettings, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPalette
from PySide6.QtWidgets import QAbstractItemView, QApplication, QListView, QStyleFactory, QWidget

from desktop_app.resources import resource_path

SYSTEM, LIGHT, DARK = "system", "light", "dark"
MODES = (SYSTEM, LIGHT, DARK)
MODE_TITLES = {SYSTEM: "Follow the system", LIGHT: "Light", DARK: "Dark"}
THEME_KEY = "view/theme"
PRESENTATION_SCALE = 1.35
QT_MAX = 16_777_215  # QWIDGETSIZE_MAX: "no limit"
_PT = re.compile(r"(\d+(?:\.\d+)?)pt\b")

# Colours that must stay readable on either background.
DARK_EXTRA = """
QLabel[role="warning"] { color: #ffa94d; }
QLabel[role="error"] { color: #ff8787; }
"""


def scale_points(stylesheet: str, scale: float) -> str:
    """Every ``NNpt`` in a stylesheet times ``scale``."""
    if scale == 1:
        return stylesheet
    return _PT.sub(lambda m: f"{float(m.group(1)) * scale:.1f}pt", stylesheet)


def dark_palette() -> QPalette:
    p = QPalette()
    colours = {
        QPalette.ColorRole.Window: "#2b2d31", QPalette.ColorRole.WindowText: "#e8e8e8",
        QPalette.ColorRole.Base: "#1e1f22", QPalette.ColorRole.AlternateBase: "#2b2d31",
        QPalette.ColorRole.ToolTipBase: "#3a3d42", QPalette.ColorRole.ToolTipText: "#f0f0f0",
        QPalette.ColorRole.PlaceholderText: "#a9adb3", QPalette.ColorRole.Text: "#e8e8e8",
        QPalette.ColorRole.Button: "#3a3d42", QPalette.ColorRole.ButtonText: "#e8e8e8",
        QPalette.ColorRole.BrightText: "#ff6b6b", QPalette.ColorRole.Light: "#4a4d52",
        QPalette.ColorRole.Midlight: "#404348", QPalette.ColorRole.Mid: "#5a5d63",
        QPalette.ColorRole.Dark: "#191a1c", QPalette.ColorRole.Shadow: "#0d0d0e",
        QPalette.ColorRole.Highlight: "#3d7bd9", QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: "#74a7f5", QPalette.ColorRole.LinkVisited: "#b197fc",
    }
    for role, colour in colours.items():
        p.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7c7f85"))
    return p


def light_palette() -> QPalette:
    palette = QStyleFactory.create("Fusion").standardPalette()
    palette.setColor(QPalette.ColorRole.PlaceholderText, QColor("#5f6368"))  # explanations stay readable
    return palette


class ThemeManager(QObject):
    """Owns the application's palette and stylesheet; one per QApplication."""

    themeChanged = Signal(str)  # the effective theme: LIGHT or DARK
    presentationChanged = Signal(float)  # the font scale: 1.0, or PRESENTATION_SCALE

    def __init__(self, app: QApplication, settings: QSettings | None = None):
        super().__init__(app)
        self.app = app
        self.settings = settings if settings is not None else QSettings()
        mode = str(self.settings.value(THEME_KEY, SYSTEM))
        self.mode = mode if mode in MODES else SYSTEM
        self.presentation = False
        self._base_stylesheet = resource_path("style.qss").read_text(encoding="utf-8")
        self.app.styleHints().colorSchemeChanged.connect(self._system_scheme_changed)
        self.apply()

    @property
    def scale(self) -> float:
        return PRESENTATION_SCALE if self.presentation else 1.0

    def effective(self) -> str:
        if self.mode != SYSTEM:
            return self.mode
        return DARK if self.app.styleHints().colorScheme() == Qt.ColorScheme.Dark else LIGHT

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(mode)
        self.mode = mode
        self.settings.setValue(THEME_KEY, mode)
        self.apply()

    def set_presentation(self, on: bool) -> None:
        if on == self.presentation:
            return
        self.presentation = on
        self.apply()
        for widget in self.app.topLevelWidgets():
            scale_widget_tree(widget, self.scale)
        self.presentationChanged.emit(self.scale)

    def apply(self) -> None:
        dark = self.effective() == DARK
        self.app.setPalette(dark_palette() if dark else light_palette())
        sheet = self._base_stylesheet + (DARK_EXTRA if dark else "")
        self.app.setStyleSheet(scale_points(sheet, self.scale))
        self.themeChanged.emit(self.effective())

    def _system_scheme_changed(self, _scheme) -> None:
        if self.mode == SYSTEM:
            self.apply()


def theme_manager(app: QApplication | None = None) -> ThemeManager | None:
    """The manager installed on the application, if any."""
    app = app or QApplication.instance()
    return app.findChild(ThemeManager) if app is not None else None


def _base(widget: QWidget, name: str, value):
    """The value a widget had before any scaling, remembered on the widget."""
    stored = widget.property(name)
    if stored is None:
        widget.setProperty(name, value)
        return value
    return stored


def scale_widget_tree(root: QWidget, scale: float) -> None:
    """Scale what is sized in pixels or set per widget under ``root`` (idempotent)."""
    for widget in [root, *root.findChildren(QWidget)]:
        sheet = widget.styleSheet()
        if sheet and "pt" in sheet:
            widget.setStyleSheet(scale_points(_base(widget, "_tsSheet", sheet), scale))
        for axis, getter, setter in (("W", widget.minimumWidth, widget.setMinimumWidth),
                                     ("H", widget.minimumHeight, widget.setMinimumHeight),
                                     ("MW", widget.maximumWidth, widget.setMaximumWidth),
                                     ("MH", widget.maximumHeight, widget.setMaximumHeight)):
            base = _base(widget, f"_ts{axis}", getter())
            if 0 < base < QT_MAX:
                setter(round(base * scale))
        if isinstance(widget, QAbstractItemView) and widget.iconSize().isValid():
            base = _base(widget, "_tsIcon", widget.iconSize())
            widget.setIconSize(QSize(round(base.width() * scale), round(base.height() * scale)))
            if isinstance(widget, QListView) and widget.gridSize().isValid():
                grid = _base(widget, "_tsGrid", widget.gridSize())
                widget.setGridSize(QSize(round(grid.width() * scale), round(grid.height() * scale)))
        if isinstance(widget, pg.PlotWidget):
            _scale_plot(widget, scale)


def _scale_plot(plot: pg.PlotWidget, scale: float) -> None:
    item = plot.getPlotItem()
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        # A copy: panels often hand the same QFont object to several axes.
        font = QFont(axis.style.get("tickFont") or plot.font())
        base = _base(plot, f"_tsTick{name}", font.pointSizeF() if font.pointSizeF() > 0 else 10.0)
        font.setPointSizeF(base * scale)
        axis.setTickFont(font)
        axis.label.setFont(font)
        if name == "bottom":  # make room for the taller tick labels now, not after a repaint
            axis.textHeight = QFontMetrics(font).height()
            axis.setHeight()
        label_text = axis.labelText
        if label_text:
            axis.setLabel(label_text, units=axis.labelUnits or None, **{"font-size": f"{base * scale:.0f}pt"})
    title = item.titleLabel
    if title.text:
        base = _base(plot, "_tsTitle", 11.0)
        title.setText(title.text, size=f"{base * scale:.0f}pt")
