"""Edit → Preferences: what the app keeps on this computer, and how much of it."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton,
    QVBoxLayout, QWidget,
)

from desktop_app.core.train.embeddings import EmbeddingStore
from desktop_app.ui.widgets.dialog_size import fit_to_text
from desktop_app.ui.widgets.step_page import named, styled_label

GB = 1024**3


class PreferencesDialog(QDialog):
    def __init__(self, parent: QWidget | None = None, store: EmbeddingStore | None = None):
        super().__init__(parent)
        self.setObjectName("preferencesDialog")
        self.setWindowTitle(self.tr("Preferences"))
        self.store = store or EmbeddingStore.default()
        layout = QVBoxLayout(self)
        box = QGroupBox(self.tr("Embedding cache"), objectName="embeddingCacheGroup")
        form = QFormLayout(box)
        form.addRow(styled_label(self.tr(
            "While the base is frozen, what it makes of a photo never changes: the app keeps it, so later runs "
            "and experiments on the same photos skip that work (they take seconds, not minutes). It stays on "
            "this computer, in {folder}.").format(folder=self.store.folder), "explain"))
        self.size_label = named(QLabel(), "cacheSizeLabel", self.tr("Size of the embedding cache"),
                                self.tr("How much disk space the kept embeddings use now."))
        form.addRow(self.tr("In use:"), self.size_label)
        self.limit_spin = named(QDoubleSpinBox(minimum=0.1, maximum=256.0, singleStep=0.5, decimals=1,
                                               suffix=self.tr(" GB")),
                                "cacheLimitSpin", self.tr("Largest size of the embedding cache"),
                                self.tr("When the cache grows past this, the embeddings used longest ago go first."))
        self.limit_spin.setValue(self.store.limit_bytes / GB)
        form.addRow(self.tr("At most:"), self.limit_spin)
        row = QHBoxLayout()
        self.clear_button = named(QPushButton(self.tr("Clear the cache")), "clearCacheButton",
                                  self.tr("Clear the embedding cache"),
                                  self.tr("Delete every kept embedding. Nothing else is touched; the next runs look "
                                          "at their photos again."))
        row.addWidget(self.clear_button)
        row.addStretch(1)
        form.addRow(row)
        if not self.store.available:
            form.addRow(styled_label(self.store.note, "warning", "cacheUnavailable"))
        layout.addWidget(box)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, objectName="preferencesButtons")
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.clear_button.clicked.connect(self.clear)
        self.limit_spin.valueChanged.connect(lambda gb: self.store.set_limit(int(gb * GB)) or self.refresh())
        self.refresh()
        fit_to_text(self)

    def refresh(self) -> None:
        used = self.store.size_bytes()
        self.size_label.setText(self.tr("{used} MB of {limit} GB").format(
            used=format(used / 1e6, ",.1f"), limit=format(self.store.limit_bytes / GB, ".1f")))
        self.clear_button.setEnabled(self.store.available and used > 0)

    def clear(self) -> None:
        self.store.clear()
        self.refresh()
