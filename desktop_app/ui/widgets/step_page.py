"""The frame every workflow page shares: a title, a plain-words explanation, content."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget


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
        self.help_button = QToolButton(text="What is this?", objectName="stepHelpButton")
        self.help_button.setAccessibleName("What is this step?")
        self.help_button.setToolTip("The idea behind this step, in plain words (F1).")
        self.help_button.hide()
        self._show_help = None
        self.help_button.clicked.connect(lambda: self._show_help and self._show_help())
        title_row.addWidget(self.help_button, 0, Qt.AlignmentFlag.AlignTop)
        self.layout_.addLayout(title_row)
        self.layout_.addWidget(self.explanation)

    def set_help(self, text: str, show) -> None:
        """Offer ``text`` behind the page's "What is this?" button; ``show`` opens it."""
        self.setWhatsThis(text)
        self.help_button.setVisible(bool(text))
        self._show_help = show
