"""Light and dark themes (following the system by default) and presentation mode.

Presentation mode is for a projector at 1,280 x 720 read from the back of a classroom:
every font in the stylesheet grows by ``PRESENTATION_SCALE``, and so do the things sized
in pixels that would otherwise stay small or clip the bigger text: fixed widths and
heights, icon and thumbnail sizes, and pyqtgraph's axis fonts. A widget with an
``apply_presentation_scale(scale)`` method is called after that (plots thicken their
lines, pages fold their settings away); ``ThemeManager.presentationChanged`` tells
anything else. Every size is remembered before it is first scaled, so switching the mode
off puts back exactly what was there.
"""

from __future__ import annotations

import re

import pyqtgraph as pg
from PySide6.QtCore import QT_TRANSLATE_NOOP, QObject, QSettings, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPalette
from PySide6.QtWidgets import QAbstractItemView, QApplication, QComboBox, QListView, QStyleFactory, QWidget

from desktop_app.resources import resource_path
from desktop_app.ui.widgets.step_page import QT_MAX, SCALE_PROPERTY

SYSTEM, LIGHT, DARK = "system", "light", "dark"
MODES = (SYSTEM, LIGHT, DARK)
# Shown in View → Theme, translated there (context "ThemeManager").
MODE_TITLES = {SYSTEM: QT_TRANSLATE_NOOP("ThemeManager", "Follow the system"),
               LIGHT: QT_TRANSLATE_NOOP("ThemeManager", "Light"), DARK: QT_TRANSLATE_NOOP("ThemeManager", "Dark")}
THEME_KEY = "view/theme"
PRESENTATION_SCALE = 1.8  # 11 pt body text becomes 19.8 pt: readable 10 m from a projector
_PT = re.compile(r"(\d+(?:\.\d+)?)pt\b")

# Presentation mode: titles are big already; grown as much as the body text, they would
# take two lines of a 1,280 x 720 projector.
PRESENTATION_EXTRA = """
QLabel[role="title"] { font-size: 13pt; }
QListWidget#stepList { font-size: 11pt; }
"""

# Colours that must stay readable on either background.
DARK_EXTRA = """
QLabel[role="warning"] { color: #ffa94d; }
QLabel[role="error"] { color: #ff8787; }
QLabel[role="ok"] { color: #63e6be; }
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
        self.app.setProperty(SCALE_PROPERTY, self.scale)
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
        self.app.setProperty(SCALE_PROPERTY, self.scale)  # for widgets made while it is on
        # Widgets first: their unscaled sizes (a plot's font comes from the stylesheet) are
        # remembered before the new stylesheet changes them.
        tops = self.app.topLevelWidgets()
        for widget in tops:
            scale_widget_tree(widget, self.scale)
        self.apply()
        for widget in tops:  # now that fonts have their new size, for hooks that measure text
            call_presentation_hooks(widget, self.scale)
        self.presentationChanged.emit(self.scale)

    def apply(self) -> None:
        dark = self.effective() == DARK
        self.app.setPalette(dark_palette() if dark else light_palette())
        sheet = self._base_stylesheet + (DARK_EXTRA if dark else "") + (PRESENTATION_EXTRA if self.presentation else "")
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
        sizes = [("W", widget.minimumWidth, widget.setMinimumWidth),
                 ("H", widget.minimumHeight, widget.setMinimumHeight),
                 ("MW", widget.maximumWidth, widget.setMaximumWidth),
                 ("MH", widget.maximumHeight, widget.setMaximumHeight)]
        if isinstance(widget, pg.PlotWidget):  # its curves need no more height; bigger ticks fit inside
            sizes = sizes[::2]
        for axis, getter, setter in sizes:
            base = _base(widget, f"_ts{axis}", getter())
            if 0 < base < QT_MAX:
                setter(round(base * scale))
        if isinstance(widget, QComboBox) and widget.minimumContentsLength() > 0:
            # A projector has no room for long names: they elide (the tooltip has them whole).
            base = _base(widget, "_tsCombo", widget.minimumContentsLength())
            widget.setMinimumContentsLength(base if scale == 1 else 8)
        if isinstance(widget, QAbstractItemView) and widget.iconSize().isValid():
            base = _base(widget, "_tsIcon", widget.iconSize())
            widget.setIconSize(QSize(round(base.width() * scale), round(base.height() * scale)))
            if isinstance(widget, QListView) and widget.gridSize().isValid():
                grid = _base(widget, "_tsGrid", widget.gridSize())
                widget.setGridSize(QSize(round(grid.width() * scale), round(grid.height() * scale)))
        if isinstance(widget, pg.PlotWidget):
            _scale_plot(widget, scale)


def call_presentation_hooks(root: QWidget, scale: float) -> None:
    """``apply_presentation_scale(scale)`` of every widget under ``root`` that has one."""
    for widget in [root, *root.findChildren(QWidget)]:
        hook = getattr(widget, "apply_presentation_scale", None)
        if callable(hook):
            hook(scale)


def _scale_plot(plot: pg.PlotWidget, scale: float) -> None:
    item = plot.getPlotItem()
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        # A copy: panels often hand the same QFont object to several axes.
        font = QFont(axis.style.get("tickFont") or plot.font())
        base = _base(plot, f"_tsTick{name}", font.pointSizeF() if font.pointSizeF() > 0 else 10.0)
        font.setPointSizeF(base * scale)
        axis.setTickFont(font)
        if name == "bottom":  # make room for the taller tick labels now, not after a repaint
            axis.textHeight = QFontMetrics(font).height()
            axis.setHeight()
        # The axis title: as big as the ticks in presentation mode, exactly as it was after.
        label_font = QFont(axis.label.font())
        label_font.setPointSizeF(_base(plot, f"_tsLabelFont{name}", label_font.pointSizeF()) * scale)
        axis.label.setFont(label_font)
        style = dict(_base(plot, f"_tsLabelStyle{name}", dict(axis.labelStyle)))
        if scale != 1:
            style["font-size"] = f"{base * scale:.0f}pt"
        axis.labelStyle = style
        if axis.labelText:
            axis.setLabel(axis.labelText, units=axis.labelUnits or None)
    title = item.titleLabel
    if title.text:
        size = str(title.opts.get("size") or "11pt")
        base = _base(plot, "_tsTitle", float(size[:-2]) if size.endswith("pt") else 11.0)
        title.setText(title.text, size=f"{base * scale:.0f}pt")
