"""Which new class folder is which old class: asked when a run's classes are not in the dataset
any more but new ones are (a class folder renamed outside the app)."""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QVBoxLayout, QWidget,
)

from desktop_app.ui.widgets.dialog_size import fit_to_text

NOT_RENAMED = QT_TRANSLATE_NOOP("ClassMapDialog", "(it is gone, not renamed)")


class ClassMapDialog(QDialog):
    def __init__(self, missing: list[str], added: list[str], parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("classMapDialog")
        self.setWindowTitle(self.tr("Match the classes"))
        layout = QVBoxLayout(self)
        text = QLabel(self.tr(
            "This run was trained on classes that are not in the dataset folder any more, and the folder "
            "has classes the run does not know. If a class folder was only renamed, say which new name "
            "belongs to which old one: the run then keeps working with the renamed folders."))
        text.setWordWrap(True)
        layout.addWidget(text)
        form = QFormLayout()
        self.choices: dict[str, QComboBox] = {}
        for i, old in enumerate(missing):
            combo = QComboBox(objectName=f"classMapCombo_{old}")
            combo.setAccessibleName(self.tr("New name of {name}").format(name=old))
            combo.setToolTip(self.tr("The class folder that {name} is called now.").format(name=old))
            combo.addItem(self.tr(NOT_RENAMED), None)
            for new in added:
                combo.addItem(new, new)
            if i < len(added):
                combo.setCurrentIndex(i + 1)  # a guess in name order; the user checks it
            form.addRow(self.tr("{name} is now:").format(name=old), combo)
            self.choices[old] = combo
        layout.addLayout(form)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.setObjectName("classMapButtons")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        fit_to_text(self)

    def mapping(self) -> dict[str, str]:
        return {old: combo.currentData() for old, combo in self.choices.items() if combo.currentData()}


def ask_class_map(parent: QWidget, missing: list[str], added: list[str]) -> dict[str, str] | None:
    """The renames the user confirms; None when they cancel. Tests replace this function."""
    dialog = ClassMapDialog(missing, added, parent)
    return dialog.mapping() if dialog.exec() == QDialog.DialogCode.Accepted else None
