"""Help → Check this computer for class: one screen that says what is ready for a lesson.

The findings come from ``core.readiness``; the camera is asked here because only Qt
knows it. The screen updates itself when TensorFlow finishes loading or the photos
finish being checked, so a teacher can leave it open while the app warms up.
"""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt
from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QGridLayout, QLabel, QPushButton, QVBoxLayout, QWidget,
)

from desktop_app.core import readiness
from desktop_app.core.readiness import Check
from desktop_app.core.runs import runs_dir
from desktop_app.core.session import Session
from desktop_app.ui.tasks import Engine
from desktop_app.ui.widgets.bindings import follow
from desktop_app.ui.widgets.dialog_size import fit_to_text
from desktop_app.ui.widgets.step_page import named, styled_label

VERDICT = {True: (QT_TRANSLATE_NOOP("ClassCheckDialog", "Ready"), "ok"),
           False: (QT_TRANSLATE_NOOP("ClassCheckDialog", "Needs attention"), "error"),
           None: (QT_TRANSLATE_NOOP("ClassCheckDialog", "Not yet"), "warning")}
NOT_USED = (QT_TRANSLATE_NOOP("ClassCheckDialog", "Not used"), "explain")


def camera_check() -> Check:
    translate = QCoreApplication.translate
    topic = translate("ClassCheckDialog", "Camera")
    try:
        from PySide6.QtMultimedia import QMediaDevices
    except ImportError:
        return Check(topic, None, translate("ClassCheckDialog", "This version of the app takes photos from folders; "
                                                                "it does not use a camera."), applies=False)
    cameras = QMediaDevices.videoInputs()
    if not cameras:
        return Check(topic, False, translate("ClassCheckDialog", "No camera was found."),
                     translate("ClassCheckDialog", "Plug in a webcam, or use photos from a folder."))
    return Check(topic, True, translate("ClassCheckDialog", "Camera found: {name} ({count} in all).").format(
        name=cameras[0].description(), count=len(cameras)))


class ClassCheckDialog(QDialog):
    def __init__(self, session: Session, engine: Engine, parent: QWidget | None = None):
        super().__init__(parent)
        self.session, self.engine = session, engine
        self.setObjectName("classCheckDialog")
        self.setWindowTitle(self.tr("Check this computer for class"))
        layout = QVBoxLayout(self)
        layout.addWidget(styled_label(self.tr("What a lesson needs, checked now. Anything marked \"Needs attention\" "
                                              "says what to do."), "explain"))
        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(16)
        self.grid.setVerticalSpacing(12)
        self.grid.setColumnStretch(2, 1)
        layout.addLayout(self.grid)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, objectName="classCheckButtons")
        self.again_button = named(QPushButton(self.tr("Check again")), "checkAgainButton", self.tr("Check again"),
                                  self.tr("Look at everything once more, e.g. after plugging in a camera."))
        buttons.addButton(self.again_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.again_button.clicked.connect(self.refresh)
        layout.addWidget(buttons)
        self.engine.warmChanged.connect(self.refresh)
        self.finished.connect(lambda _code: self.engine.warmChanged.disconnect(self.refresh))
        for event in (session.events.index, session.events.model):
            follow(event, self.refresh, self)
        self.engine.start()  # a check should not wait for a page that needs TensorFlow
        self.refresh()
        fit_to_text(self, chars=90)

    def checks(self) -> list[Check]:
        s = self.session
        folder = s.runs_folder or runs_dir()
        return [
            readiness.dataset_check(s.dataset.folder, s.index),
            readiness.weights_check(s.model),
            readiness.engine_check(self.engine.warm, self.engine.process.is_alive()),
            readiness.disk_check(folder, readiness.run_size_estimate(s.model)),
            camera_check(),
        ]

    def refresh(self, *_args) -> None:
        while self.grid.count():
            self.grid.takeAt(0).widget().deleteLater()
        for row, check in enumerate(self.checks()):
            word, role = VERDICT[check.ready] if check.applies else NOT_USED
            word = self.tr(word)
            verdict = styled_label(word, role, f"verdict{row}")
            verdict.setWordWrap(False)
            topic = styled_label(check.topic, "heading")
            topic.setWordWrap(False)
            text = check.finding + (f"\n→ {check.advice}" if check.advice else "")
            top = Qt.AlignmentFlag.AlignTop
            self.grid.addWidget(topic, row, 0, top)
            self.grid.addWidget(verdict, row, 1, top)
            self.grid.addWidget(styled_label(text, ""), row, 2, top)

    @property
    def verdicts(self) -> dict[str, bool | None]:
        return {check.topic: check.ready for check in self.checks()}
