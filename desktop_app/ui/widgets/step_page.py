"""The frame every workflow page shares: a title, a plain-words explanation, content."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import (
    QApplication, QBoxLayout, QHBoxLayout, QLabel, QSizePolicy, QSplitter, QToolButton, QVBoxLayout, QWidget,
)

QT_MAX = 16_777_215  # QWIDGETSIZE_MAX: "no limit"
SCALE_PROPERTY = "presentationScale"  # set on the application by the theme (shell/theme.py)


def presentation_scale() -> float:
    """The font scale in force now: 1.0, or more in presentation mode (for widgets made later)."""
    app = QApplication.instance()
    return float(app.property(SCALE_PROPERTY) or 1.0) if app is not None else 1.0


def named(widget: QWidget, name: str, accessible: str, tip: str) -> QWidget:
    """Give a control what tests, screen readers and students need: a name and a tooltip."""
    widget.setObjectName(name)
    widget.setAccessibleName(accessible)
    widget.setToolTip(tip)
    return widget


def set_role(label: QWidget, role: str) -> None:
    """Change the stylesheet role (title, explain, warning, error...) and restyle at once."""
    if label.property("role") != role:
        label.setProperty("role", role)
        label.style().unpolish(label)
        label.style().polish(label)


def styled_label(text: str, role: str, object_name: str = "") -> QLabel:
    label = QLabel(text)
    label.setProperty("role", role)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if object_name:
        label.setObjectName(object_name)
    return label


class StepPage(QWidget):
    wraps_to_fit = False  # True: the window scrolls the page rather than cut its wrapped text

    def __init__(self, title: str, explanation: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(28, 20, 28, 20)
        self.layout_.setSpacing(12)
        self.title = styled_label(title, "title")
        self.explanation = styled_label(explanation, "explain")
        title_row = QHBoxLayout()
        title_row.addWidget(self.title, 1)
        # "What is this?": the idea behind the step in plain words (filled by set_help).
        # An explicit context: self.tr would look the texts up under each subclass's name.
        self.help_button = QToolButton(text=QCoreApplication.translate("StepPage", "What is this?"),
                                       objectName="stepHelpButton")
        self.help_button.setAccessibleName(QCoreApplication.translate("StepPage", "What is this step?"))
        self.help_button.setToolTip(QCoreApplication.translate("StepPage",
                                                               "The idea behind this step, in plain words (F1)."))
        self.help_button.hide()
        self._show_help = None
        self.help_button.clicked.connect(lambda: self._show_help and self._show_help())
        title_row.addWidget(self.help_button, 0, Qt.AlignmentFlag.AlignTop)
        self.layout_.addLayout(title_row)
        self.layout_.addWidget(self.explanation)

    def fold_in_presentation(self, *widgets: QWidget) -> None:
        """Hide ``widgets`` in presentation mode: details a projector has no room for
        (the explanation always; it stays behind "What is this?")."""
        self._folded = [*getattr(self, "_folded", []), *widgets]

    def stack_in_presentation(self, row: QBoxLayout) -> None:
        """Lay ``row`` out top to bottom in presentation mode (a row of buttons too wide for
        a projector's big text)."""
        self._stacked = [*getattr(self, "_stacked", []), row]

    def apply_presentation_scale(self, scale: float) -> None:
        """Called by the theme when presentation mode is switched on or off."""
        for widget in [self.explanation, *getattr(self, "_folded", [])]:
            widget.setVisible(scale == 1)
        for row in getattr(self, "_stacked", []):
            row.setDirection(QBoxLayout.Direction.LeftToRight if scale == 1 else QBoxLayout.Direction.TopToBottom)
        # Every pixel of a projector goes to the bigger text.
        self.layout_.setContentsMargins(*((28, 20, 28, 20) if scale == 1 else (12, 8, 12, 8)))
        self.layout_.setSpacing(12 if scale == 1 else 6)

    def set_help(self, text: str, show) -> None:
        """Offer ``text`` behind the page's "What is this?" button; ``show`` opens it."""
        self.setWhatsThis(text)
        self.help_button.setVisible(bool(text))
        self._show_help = show


class SettingsDrawer(QWidget):
    """A page's side column (settings, or a table beside a plot) that gives the width away
    in presentation mode: there it folds into a narrow column holding a button that opens
    it and the page's main buttons, stacked, so plots and matrices get the width."""

    def __init__(self, content: QWidget, actions: QBoxLayout | None = None, title: str = "",
                 parent: QWidget | None = None):
        super().__init__(parent)
        title = title or QCoreApplication.translate("SettingsDrawer", "Settings")  # the caller's title is translated
        self.content, self.actions, self.title = content, actions, title
        tip = QCoreApplication.translate("SettingsDrawer", "Show or hide {title}. Presentation mode folds them away "
                                         "to give the plots room.")
        self.toggle = named(QToolButton(checkable=True), "drawerToggle",
                            QCoreApplication.translate("SettingsDrawer", "Show or hide: {title}").format(title=title),
                            tip.format(title=title.lower()))
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.hide()  # only presentation mode folds the column
        self.toggle.toggled.connect(self.set_open)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.toggle)
        layout.addWidget(content, 1)
        if actions is not None:
            layout.addLayout(actions)
        layout.addStretch(0)  # takes the height while the content is folded away
        self.set_open(True)

    def is_open(self) -> bool:
        return not self.content.isHidden()

    def set_open(self, on: bool) -> None:
        self.content.setVisible(on)
        self.toggle.blockSignals(True)
        self.toggle.setChecked(on)
        self.toggle.blockSignals(False)
        self.toggle.setArrowType(Qt.ArrowType.LeftArrow if on else Qt.ArrowType.RightArrow)
        # Folded with nothing else to show, the column is only a handle along the page's side.
        handle = not on and self.actions is None
        hide = QCoreApplication.translate("SettingsDrawer", "Hide {title}").format(title=self.title.lower())
        self.toggle.setText(hide if on else "" if handle else self.title)
        vertical = QSizePolicy.Policy.Expanding if handle else QSizePolicy.Policy.Fixed
        self.toggle.setSizePolicy(QSizePolicy.Policy.Preferred, vertical)
        self.layout().setStretchFactor(self.toggle, 1 if handle else 0)
        if self.actions is not None:
            self.actions.setDirection(QBoxLayout.Direction.LeftToRight if on else QBoxLayout.Direction.TopToBottom)
        # Folded, the column is as narrow as its buttons, even inside a splitter.
        self.layout().invalidate()
        self.setMaximumWidth(QT_MAX if on else self.sizeHint().width())
        self._give_splitter_room(on)

    def _give_splitter_room(self, on: bool) -> None:
        """In a splitter, hand the width over to the next pane when folding, take it back when opening."""
        splitter = self.parentWidget()
        if not isinstance(splitter, QSplitter) or splitter.count() < 2:
            return
        sizes = splitter.sizes()
        me, other = splitter.indexOf(self), (splitter.indexOf(self) + 1) % splitter.count()
        if not on:
            self._open_width = sizes[me] if sizes[me] > self.maximumWidth() else getattr(self, "_open_width", 0)
            target = self.maximumWidth()
        else:
            target = getattr(self, "_open_width", 0)
        if target and sizes[me] != target:
            sizes[other] = max(0, sizes[other] + sizes[me] - target)
            sizes[me] = target
            splitter.setSizes(sizes)

    def apply_presentation_scale(self, scale: float) -> None:
        """Called by the theme: presentation mode folds the column, normal mode opens it."""
        folded = scale > 1
        self.toggle.setVisible(folded)
        self.set_open(not folded)
