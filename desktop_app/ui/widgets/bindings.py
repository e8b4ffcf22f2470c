"""Two-way links between a control and one field of the session.

``bind(widget, session, "training.epochs")`` shows the field in the widget, writes the
user's edits into the session, and follows changes made anywhere else (a project
opened, a preset, the command that reset the settings). A page is then a list of
``bind`` calls; it never keeps a setting of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QSignalBlocker
from PySide6.QtWidgets import (
    QAbstractButton, QAbstractSlider, QAbstractSpinBox, QComboBox, QDoubleSpinBox, QGroupBox, QSpinBox, QWidget,
)

from desktop_app.core.session import Session


def _accessors(widget: QWidget):
    """(read, write, changed signal) for the kinds of control the pages use."""
    if isinstance(widget, (QSpinBox, QDoubleSpinBox, QAbstractSlider)):
        return widget.value, widget.setValue, widget.valueChanged
    if isinstance(widget, QComboBox):
        def select(value: Any) -> None:
            index = widget.findData(value)
            if index >= 0:
                widget.setCurrentIndex(index)
        return widget.currentData, select, widget.currentIndexChanged
    if isinstance(widget, (QAbstractButton, QGroupBox)):
        return widget.isChecked, widget.setChecked, widget.toggled
    raise TypeError(f"cannot bind a {type(widget).__name__}")


class Binding(QObject):
    """Lives as the widget's child: when the widget goes, the link to the session goes too."""

    def __init__(self, widget: QWidget, session: Session, setting: str,
                 to_widget: Callable[[Any], Any], from_widget: Callable[[Any], Any]):
        super().__init__(widget)
        self.widget, self.session = widget, session
        self.section, self.field = setting.split(".")
        self.to_widget, self.from_widget = to_widget, from_widget
        self.read, self.write, changed = _accessors(widget)
        changed.connect(self._edited)
        signal = getattr(session.events, self.section)
        signal.connect(self._section_changed)
        self.destroyed.connect(lambda: signal.disconnect(self._section_changed, missing_ok=True))
        self.show()

    def value(self) -> Any:
        return getattr(getattr(self.session, self.section), self.field)

    def show(self) -> None:
        with QSignalBlocker(self.widget):
            self.write(self.to_widget(self.value()))
        if isinstance(self.widget, QAbstractSpinBox):
            self.widget.update()

    def _edited(self, *_args: Any) -> None:
        value = self.from_widget(self.read())
        if value != self.value():
            self.session.update(self.section, **{self.field: value})

    def _section_changed(self, new: Any, old: Any) -> None:
        if getattr(new, self.field) != getattr(old, self.field):
            self.show()


def bind(widget: QWidget, session: Session, setting: str, to_widget: Callable[[Any], Any] = lambda v: v,
         from_widget: Callable[[Any], Any] = lambda v: v) -> Binding:
    """Link ``widget`` to ``setting`` ("section.field"); converters map the field's value
    to what the widget shows and back (e.g. a fraction shown as a percentage)."""
    return Binding(widget, session, setting, to_widget, from_widget)


def follow(signal, slot: Callable[..., Any], owner: QObject) -> None:
    """Connect a session event (``session.events.index``...) to ``slot`` while ``owner`` lives."""
    signal.connect(slot)
    owner.destroyed.connect(lambda *_: signal.disconnect(slot, missing_ok=True))
