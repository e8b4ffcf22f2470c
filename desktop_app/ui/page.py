"""The frame every workflow page shares: a title, a plain-words explanation, content."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


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
        self.layout_.addWidget(self.title)
        self.layout_.addWidget(self.explanation)


class UpcomingStepPage(StepPage):
    """A step that a later version fills: says what it will do, offers no dead controls."""

    def __init__(self, title: str, explanation: str, upcoming: list[str], parent: QWidget | None = None):
        super().__init__(title, explanation, parent)
        items = "".join(f"<li>{line}</li>" for line in upcoming)
        note = styled_label(
            f"<p><b>Coming to this page:</b></p><ul>{items}</ul>"
            "<p>Until then, the <code>transfer-studio train</code> command does this step headless.</p>",
            "explain",
        )
        note.setTextFormat(Qt.TextFormat.RichText)
        self.layout_.addWidget(note)
        self.layout_.addStretch(1)
