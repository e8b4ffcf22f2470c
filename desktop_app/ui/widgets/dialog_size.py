"""A dialog with wrapped text, sized so that every line shows.

Qt sizes a new window from its layout's size hint, which takes a word-wrapped label at
an arbitrary width and can leave its last lines cut off; this asks for the height the
text needs at a readable width instead, in the dialog's own font (so presentation mode
gets a larger dialog, not a clipped one).
"""

from __future__ import annotations

from PySide6.QtWidgets import QDialog


def fit_to_text(dialog: QDialog, chars: int = 72) -> None:
    dialog.ensurePolished()  # the style sheet's font (larger in presentation mode) applies from here
    width = chars * dialog.fontMetrics().averageCharWidth()
    dialog.layout().activate()
    height = dialog.heightForWidth(width)
    if height < 0:  # nothing in it wraps
        height = dialog.sizeHint().height()
    dialog.setMinimumSize(width, height)
    dialog.resize(width, height)
