"""The first-run welcome: two big doors, "Try the demo" and "Open my photos". Shown once."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop_app import APP_NAME
from desktop_app.ui.widgets.dialog_size import fit_to_text

WELCOME_KEY = "welcome/shown"
DEMO, PHOTOS = "demo", "photos"


class WelcomeDialog(QDialog):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("welcomeDialog")
        self.setWindowTitle(self.tr("Welcome to {app}").format(app=APP_NAME))
        self.choice: str | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 20)
        layout.setSpacing(14)
        title = QLabel(self.tr("Welcome to {app}").format(app=APP_NAME))
        title.setProperty("role", "title")
        text = QLabel(self.tr(
            "Teach a computer to tell your pictures apart, without programming. "
            "The app borrows a network that has already seen millions of photos and trains a small new "
            "part of it on your own classes. The steps on the left lead the way: Data, Augment, Model, "
            "Train, Evaluate, Export."))
        text.setWordWrap(True)
        text.setProperty("role", "explain")
        layout.addWidget(title)
        layout.addWidget(text)
        buttons = QHBoxLayout()
        self.demo_button = self._button(self.tr("Try the demo"), "tryDemoButton",
                                        self.tr("Start with the built-in shapes dataset: circles, squares, stars "
                                                "and triangles. Nothing to prepare."), DEMO)
        self.photos_button = self._button(self.tr("Open my photos…"), "openMyPhotosButton",
                                          self.tr("Choose a folder with one sub-folder per class, e.g. cats/ and "
                                                  "dogs/."), PHOTOS)
        for button in (self.demo_button, self.photos_button):
            button.setMinimumHeight(56)
            buttons.addWidget(button)
        layout.addLayout(buttons)
        hint = QLabel(self.tr("You can see this again from Help → Welcome."))
        hint.setProperty("role", "explain")
        hint.setAlignment(Qt.AlignmentFlag.AlignRight)
        layout.addWidget(hint)
        self.demo_button.setDefault(True)
        fit_to_text(self, chars=64)  # the wrapped text shows whole, in presentation mode too

    def _button(self, text: str, name: str, tip: str, choice: str) -> QPushButton:
        button = QPushButton(text, objectName=name)
        button.setAccessibleName(text.rstrip("…"))
        button.setToolTip(tip)
        button.setProperty("role", "door")  # the app's style sheet sizes it, presentation mode included
        button.clicked.connect(lambda: self._choose(choice))
        return button

    def _choose(self, choice: str) -> None:
        self.choice = choice
        self.accept()


def should_show_welcome(settings: QSettings | None = None) -> bool:
    settings = settings if settings is not None else QSettings()
    return not settings.value(WELCOME_KEY, False, bool)


def mark_welcome_shown(settings: QSettings | None = None) -> None:
    (settings if settings is not None else QSettings()).setValue(WELCOME_KEY, True)
