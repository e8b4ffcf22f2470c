"""Step 4, Train: settings, Start / Stop / Resume / Fine-tune, live curves, checkpoints.

The settings are ``session.training``; a run trains in a child process of its own (the
engine protocol, ``core.engine.TrainRequest``), so the window never waits on TensorFlow.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QHeaderView,
    QFrame, QLabel, QProgressBar, QPushButton, QScrollArea, QSpinBox, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from desktop_app.core.engine import Crashed, Progressed, Refused, TrainRequest
from desktop_app.core.errors import ClassesChanged, UserError
from desktop_app.core.events import (
    BatchEnd, CheckpointSaved, DevicesInUse, EpochCut, EpochEnd, Estimate, Failed, Finished, Message, PhaseStarted,
    Progress,
)
from desktop_app.core.results.advice import (
    FINE_TUNE, GO_TO_AUGMENT, GO_TO_DATA, GO_TO_MODEL, HALVE_LEARNING_RATE, MORE_EPOCHS, TRAIN_LONGER, Advice,
    advise_run, more_epochs,
)
from desktop_app.core.runs import RunFolder, RunInfo, list_runs, new_run_dir, runs_dir
from desktop_app.core.session import (
    FIELD_SECTIONS, FINE_TUNING, QUICK_EXPERIMENT, FinishedRun, Session, TrainingConfig, fine_tune_learning_rate,
)
from desktop_app.core.train.plan import epochs_left, fast_mode_decision, plan_fine_tuning
from desktop_app.core.train.quick_start import choose_quick_start
from desktop_app.ui.tasks import BUG, TRAINING_DIED, Engine, engine_text
from desktop_app.ui.widgets import class_map_dialog
from desktop_app.ui.widgets.bindings import bind, follow
from desktop_app.ui.widgets.run_chooser import (
    another_dataset_text, of_another_dataset, relocated_dataset, run_label,
)
from desktop_app.ui.widgets.step_page import SettingsDrawer, StepPage, named, set_role, styled_label
from desktop_app.ui.widgets.training_curves import TrainingCurves


# The advice's button: its text and tooltip for each action (translated, and {epochs} filled in, where shown).
ADVICE_BUTTONS = {
    GO_TO_MODEL: (QT_TRANSLATE_NOOP("TrainPanel", "Go to the Model page"),
                  QT_TRANSLATE_NOOP("TrainPanel", "Choose the base and its ImageNet weights there.")),
    GO_TO_AUGMENT: (QT_TRANSLATE_NOOP("TrainPanel", "Go to the Augment page"),
                    QT_TRANSLATE_NOOP("TrainPanel", "Switch on augmentation there, then train a new run.")),
    GO_TO_DATA: (QT_TRANSLATE_NOOP("TrainPanel", "Go to the Data page"),
                 QT_TRANSLATE_NOOP("TrainPanel", "Add photos there, then train a new run.")),
    HALVE_LEARNING_RATE: (QT_TRANSLATE_NOOP("TrainPanel", "Halve the learning rate"),
                          QT_TRANSLATE_NOOP("TrainPanel", "Set the learning rate to half of this run's; then press "
                                                          "Start.")),
    TRAIN_LONGER: (QT_TRANSLATE_NOOP("TrainPanel", "Train {epochs} more epochs"),
                   QT_TRANSLATE_NOOP("TrainPanel", "Continue this run where it ended, on the same timeline.")),
    FINE_TUNE: (QT_TRANSLATE_NOOP("TrainPanel", "Fine-tune this run"),
                QT_TRANSLATE_NOOP("TrainPanel", "Unfreeze the top of the base and continue this run on the same "
                                                "timeline.")),
}
# Steps are named as in the sidebar: the main window goes there (pages don't know each other).
ADVICE_STEPS = {GO_TO_MODEL: "Model", GO_TO_AUGMENT: "Augment", GO_TO_DATA: "Data"}
RESUME_TIP = QT_TRANSLATE_NOOP("TrainPanel", "Continue the last stopped run where it left off.")
FINE_TUNE_TIP = QT_TRANSLATE_NOOP(
    "TrainPanel", "Unfreeze the top of the base and continue this run on the same timeline, with the Fine-tuning "
                  "settings on the left: its epochs, layers to unfreeze and learning rate.")


def format_seconds(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return QCoreApplication.translate("TrainPanel", "{seconds} s").format(seconds=seconds)
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return QCoreApplication.translate("TrainPanel", "{minutes} min {seconds:02d} s").format(
            minutes=minutes, seconds=seconds)
    hours, minutes = divmod(minutes, 60)
    return QCoreApplication.translate("TrainPanel", "{hours} h {minutes:02d} min").format(
        hours=hours, minutes=minutes)


ESTIMATING = QT_TRANSLATE_NOOP("TrainPanel", "Time left: estimating… (known once the first batches are timed)")


def time_left_words(seconds_left: float, seconds_per_epoch: float | None = None) -> str:
    """The time estimate in words; under a second is said so, never "0 s"."""
    # Whole sentences for each case, so a translation need not glue pieces together.
    left = format_seconds(seconds_left)
    if not seconds_per_epoch:
        return (QCoreApplication.translate("TrainPanel", "Almost done") if seconds_left < 1 else
                QCoreApplication.translate("TrainPanel", "About {left} left").format(left=left))
    per = format_seconds(seconds_per_epoch)
    if seconds_per_epoch < 1:
        text = (QCoreApplication.translate("TrainPanel", "Under a second per epoch, almost done") if seconds_left < 1
                else QCoreApplication.translate("TrainPanel", "Under a second per epoch, about {left} left"))
    else:
        text = (QCoreApplication.translate("TrainPanel", "About {per} per epoch, almost done") if seconds_left < 1
                else QCoreApplication.translate("TrainPanel", "About {per} per epoch, about {left} left"))
    return text.format(per=per, left=left)


def devices_words(event: DevicesInUse) -> str:
    """e.g. "Training on: 2 GPUs: NVIDIA H200, each batch split between them; mixed precision"."""
    tr = lambda text: QCoreApplication.translate("TrainPanel", text)  # noqa: E731
    text = tr("Training on: {devices}").format(devices=event.words)
    if event.replicas > 1:
        text += tr(", each batch split between them")
    if event.mixed_precision:
        text += tr("; mixed precision")
    return text


def finished_run_text(run_dir: Path, shown: bool = True) -> str:
    """Why Resume has nothing to do for ``run_dir`` (``shown``: the run on the page); "" when it
    has epochs left (or cannot tell: the resume itself then says what is wrong)."""
    try:
        if epochs_left(run_dir):
            return ""
        total = RunFolder(run_dir).read_config().training.total_epochs
    except UserError:
        return ""
    if shown:
        text = QCoreApplication.translate(
            "TrainPanel", "This run already finished all {total} of its epochs, so there is nothing to resume. Press "
                          "Fine-tune to train it further, or Start for a new run.")
    else:
        text = QCoreApplication.translate(
            "TrainPanel", "{run} already finished all {total} of its epochs, so there is nothing to resume. Press "
                          "Fine-tune to train it further, or Start for a new run.")
    return text.format(run=Path(run_dir).name, total=total)


def quick_words() -> str:
    q = QUICK_EXPERIMENT
    return QCoreApplication.translate(
        "TrainPanel", "Try ideas fast: {percent:g} % of the training photos, {epochs} epochs, learning rate "
                      "{rate:g}, fast mode; checked on all the validation photos.",
    ).format(percent=q["subset_percent"], epochs=q["epochs"], rate=q["learning_rate"])


def fine_tune_label(detail: str, learning_rate: float) -> str:
    return QCoreApplication.translate("TrainPanel", "fine-tuning\n{detail}\nlearning rate {rate:g}").format(
        detail=detail, rate=learning_rate)


class TrainingRun(QObject):
    """One run in its own training process: events out, Stop in, one outcome at the end."""

    event = Signal(object)  # core.events, in order
    failed = Signal(str)
    refused = Signal(object)  # the UserError behind ``failed``
    finished = Signal()

    def __init__(self, request: TrainRequest, parent: QObject | None = None):
        super().__init__(parent)
        self.engine = Engine("training", restart=False, died_text=TRAINING_DIED, warm_up=False, parent=self)
        self.running = True
        self.ticket = self.engine.submit(request, self._on_message)

    def _on_message(self, message: object) -> None:
        if isinstance(message, Progressed):
            self.event.emit(message.event)
            return
        if isinstance(message, Refused):
            self.failed.emit(message.message)
            if message.error is not None:
                self.refused.emit(message.error)
        elif isinstance(message, Crashed):
            self.failed.emit(engine_text(BUG))
        self.running = False
        self.engine.close(wait=False)  # the process has nothing left to do; it ends on its own
        self.finished.emit()

    def stop(self) -> None:
        """The run ends after the current batch, its checkpoints written."""
        if self.running:
            self.engine.cancel(self.ticket)


class TrainPanel(StepPage):
    """Shows and edits ``session.training``; trains ``session.index`` into ``session.run``
    and says so in ``session.finished_run``."""

    stepRequested = Signal(str)  # a workflow step's name, for the main window to show

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(
            QCoreApplication.translate("TrainPanel", "4. Train: teach the head, then fine-tune"),
            QCoreApplication.translate(
                "TrainPanel", "Training shows the model your photos again and again and nudges its numbers to make "
                              "fewer mistakes. Watch the validation curves: they show how well it does on photos it "
                              "does not learn from."),
            parent,
        )
        self.session = session
        self.training: TrainingRun | None = None
        self.phase_epochs: tuple[int, int] = (0, 0)
        self._retry: tuple | None = None  # the last resume, to go on with once classes are matched
        self._cut_epoch: int | None = None
        self._timed = False  # whether this job has timed enough work for a time estimate
        self._new_run: Path | None = None  # a new run being started: the session's run once it saves an epoch
        self.advice: Advice | None = None
        self._advice_run: Path | None = None

        controls = QVBoxLayout()
        controls.setContentsMargins(0, 0, 8, 0)
        # Which base "Train with these photos" chose, and why, above the settings it chose.
        self.quick_note = styled_label("", "explain", "quickStartNote")
        self.quick_note.installEventFilter(self)  # as tall as its wrapped lines need: never cut off
        self.quick_note.hide()
        controls.addWidget(self.quick_note)
        controls.addWidget(self._settings_box())
        controls.addWidget(self._fine_tune_box())
        self.mode_label = styled_label("", "explain", "modeLabel")
        controls.addWidget(self.mode_label)
        buttons = self._buttons()  # below the settings, outside their scroll area: always in view
        controls.addStretch(1)
        left = QWidget()
        left.setLayout(controls)
        scroll = QScrollArea(widgetResizable=True, frameShape=QFrame.Shape.NoFrame)
        scroll.setWidget(left)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(left.sizeHint().width() + 12)
        scroll.setMaximumWidth(420)

        self.curves = TrainingCurves()
        right = QVBoxLayout()
        right.addLayout(self._progress_area())
        right.addWidget(self.curves, 1)
        right.addLayout(self._checkpoint_area())

        columns = QHBoxLayout()
        # Presentation mode folds the settings into a narrow column: the curves get the width.
        self.settings_drawer = SettingsDrawer(scroll, buttons)
        columns.addWidget(self.settings_drawer)
        columns.addLayout(right, 1)
        self.layout_.addLayout(columns, 1)
        for signal in (session.events.index, session.events.augmentation, session.events.training):
            follow(signal, self.update_mode, self)
        follow(session.events.training, self._update_fine_tune_lr, self)
        follow(session.events.run, self._run_changed, self)
        follow(session.events.runs_folder, self.refresh_runs, self)
        # Another dataset on the Data page: the run shown may now be of another dataset.
        follow(session.events.index, lambda *_: self._run_changed(self.session.run), self)
        self.update_mode()
        self._run_changed(session.run)

    # ----- building the page -----
    def _settings_box(self) -> QGroupBox:
        box = QGroupBox(self.tr("Settings"))
        form = QFormLayout(box)
        self.epochs = named(QSpinBox(minimum=1, maximum=1000, value=5), "epochsSpin", self.tr("Epochs"),
                             self.tr("An epoch is one pass over all the training photos. More epochs: more "
                                     "learning, but too many and the model memorises the photos instead of learning "
                                     "the classes."))
        self.batch_size = named(QSpinBox(minimum=1, maximum=1024, value=32), "batchSizeSpin", self.tr("Batch size"),
                                 self.tr("How many photos the model looks at before each small correction. Smaller "
                                         "batches need less memory; larger ones are steadier."))
        self.learning_rate = named(QDoubleSpinBox(decimals=5, minimum=0.00001, maximum=1.0, value=0.001,
                                                   singleStep=0.0005), "learningRateSpin", self.tr("Learning rate"),
                                    self.tr("How big each correction is. Too big and learning jumps around; too "
                                            "small and it crawls. 0.001 is a good start with Adam."))
        self.optimizer = named(QComboBox(), "optimizerCombo", self.tr("Optimizer"),
                                self.tr("The method that turns mistakes into corrections. Adam adapts its steps by "
                                        "itself and is the usual choice."))
        # SGD and RMSprop are names, the same in every language.
        for label, key in ((self.tr("Adam (recommended)"), "adam"), ("SGD", "sgd"), ("RMSprop", "rmsprop")):
            self.optimizer.addItem(label, key)
        self.label_smoothing = named(QDoubleSpinBox(decimals=2, minimum=0.0, maximum=0.5, singleStep=0.05),
                                     "labelSmoothingSpin", self.tr("Label smoothing"),
                                     self.tr("Tells the model that photos are not 100 % one class: a little of each "
                                             "label goes to the other classes. 0.1 can help with messy photos; 0 is "
                                             "off."))
        self.fast = named(QCheckBox(self.tr("Use fast mode when it applies")), "fastCheck", self.tr("Fast mode"),
                           self.tr("While the base is frozen, it looks at each photo once (with augmentation on, at "
                                   "a few changed versions of it) and only the head trains: much faster, same kind "
                                   "of result."))
        self.mixed_precision = named(QCheckBox(self.tr("Mixed precision on a recent GPU")), "mixedPrecisionCheck",
                                     self.tr("Mixed precision"),
                                     self.tr("On an NVIDIA GPU of compute capability 7.0 or newer, most of the "
                                             "arithmetic is done with half as many digits: faster, same kind of "
                                             "result. On other computers it is not used, and the run says why."))
        self.quick_button = named(QPushButton(self.tr("Quick experiment")), "quickExperimentButton",
                                   self.tr("Quick experiment"), quick_words())
        form.addRow(self.tr("Epochs"), self.epochs)
        form.addRow(self.tr("Batch size"), self.batch_size)
        form.addRow(self.tr("Learning rate"), self.learning_rate)
        form.addRow(self.tr("Optimizer"), self.optimizer)
        form.addRow(self.tr("Label smoothing"), self.label_smoothing)
        form.addRow(self.fast)
        form.addRow(self.mixed_precision)
        form.addRow(self.quick_button)
        self.quick_button.clicked.connect(self.quick_experiment)
        bind(self.epochs, self.session, "training.epochs")
        bind(self.batch_size, self.session, "training.batch_size")
        bind(self.learning_rate, self.session, "training.learning_rate", from_widget=lambda v: round(v, 8))
        bind(self.optimizer, self.session, "training.optimizer")
        bind(self.label_smoothing, self.session, "training.label_smoothing", from_widget=lambda v: round(v, 2))
        bind(self.fast, self.session, "training.fast")
        bind(self.mixed_precision, self.session, "training.mixed_precision")
        return box

    def _fine_tune_box(self) -> QGroupBox:
        # Not a checkable group: that would grey out the settings the Fine-tune button uses.
        box = QGroupBox(self.tr("Fine-tuning"))
        box.setToolTip(self.tr("Fine-tuning unfreezes the top layers of the pretrained base so they adapt a little "
                               "to your photos, at a 10 times lower learning rate."))
        form = QFormLayout(box)
        self.fine_tune_box = named(QCheckBox(self.tr("Fine-tune right after training")), "fineTuneCheck",
                                   self.tr("Fine-tune after training"),
                                   self.tr("Ticked: Start trains the head, then fine-tunes in the same run with the "
                                           "settings below."))
        self.fine_tune_epochs = named(QSpinBox(minimum=1, maximum=1000, value=5), "fineTuneEpochsSpin",
                                       self.tr("Fine-tuning epochs"),
                                       self.tr("Extra epochs with the top of the base unfrozen."))
        self.unfreeze = named(QSpinBox(minimum=1, maximum=1000, value=10), "unfreezeSpin",
                               self.tr("Layers to unfreeze"),
                               self.tr("How many layers at the top of the base may change. Batch-normalisation "
                                       "layers stay frozen: their statistics come from millions of ImageNet photos."))
        self.fine_tune_lr = named(QDoubleSpinBox(decimals=6, minimum=0.0, maximum=1.0, singleStep=0.00005),
                                   "fineTuneLrSpin", self.tr("Fine-tuning learning rate"),
                                   self.tr("Smaller steps, so the pretrained layers change only a little. Automatic: "
                                           "the learning rate divided by 10."))
        self.fine_tune_lr.setSpecialValueText(self.tr("automatic"))
        self.auto_lr_note = styled_label("", "explain")
        form.addRow(self.fine_tune_box)
        form.addRow(self.tr("Epochs"), self.fine_tune_epochs)
        form.addRow(self.tr("Unfreeze top layers"), self.unfreeze)
        form.addRow(self.tr("Learning rate"), self.fine_tune_lr)
        form.addRow(self.auto_lr_note)
        form.addRow(styled_label(self.tr("The Fine-tune button uses these settings too, ticked or not."), "explain",
                                 "fineTuneNote"))
        bind(self.fine_tune_box, self.session, "training.fine_tune")
        bind(self.fine_tune_epochs, self.session, "training.fine_tune_epochs")
        bind(self.unfreeze, self.session, "training.unfreeze_layers")
        bind(self.fine_tune_lr, self.session, "training.fine_tune_learning_rate", lambda lr: lr or 0.0,
             lambda value: round(value, 8) or None)
        self._update_fine_tune_lr()
        return box

    def _buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.start_button = named(QPushButton(self.tr("Start")), "startButton", self.tr("Start training"),
                                   self.tr("Train a new run with these settings."))
        self.stop_button = named(QPushButton(self.tr("Stop")), "stopButton", self.tr("Stop training"),
                                  self.tr("Stop after the current batch; the checkpoints are kept and you can "
                                          "resume."))
        self.resume_button = named(QPushButton(self.tr("Resume")), "resumeButton", self.tr("Resume the run"),
                                   self.tr(RESUME_TIP))
        self.fine_tune_button = named(QPushButton(self.tr("Fine-tune")), "fineTuneButton",
                                      self.tr("Fine-tune this run"), self.tr(FINE_TUNE_TIP))
        self.start_button.setStyleSheet("font-weight: 600;")
        for button in (self.start_button, self.stop_button, self.resume_button, self.fine_tune_button):
            row.addWidget(button)
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.resume_button.clicked.connect(self.resume)
        self.fine_tune_button.clicked.connect(self.fine_tune)
        return row

    def _progress_area(self) -> QVBoxLayout:
        area = QVBoxLayout()
        self.epoch_bar = named(QProgressBar(), "epochProgress", self.tr("Whole run"),
                               self.tr("Epochs done in this run."))
        self.batch_bar = named(QProgressBar(), "batchProgress", self.tr("This epoch"),
                               self.tr("Batches done in the current epoch."))
        bars = QHBoxLayout()
        bars.setSpacing(16)
        self.bar_words: dict[QProgressBar, QLabel] = {}
        for bar in (self.epoch_bar, self.batch_bar):
            # A thin bar under its words: it cannot be taken for a box to type in.
            bar.setTextVisible(False)
            bar.setFixedHeight(10)
            words = QLabel(objectName=f"{bar.objectName()}Words")
            words.setBuddy(bar)
            column = QVBoxLayout()
            column.setSpacing(2)
            column.addWidget(words)
            column.addWidget(bar)
            bars.addLayout(column, 1)
            self.bar_words[bar] = words
        self._reset_progress(started=False)
        self.time_label = styled_label("", "explain", "timeLeftLabel")
        # What the run trains on (its time estimate is measured there), said by the training process.
        self.devices_label = styled_label("", "explain", "devicesLabel")
        self.devices_label.setAccessibleName(self.tr("Training on"))
        self.status = styled_label(self.tr("Press Start to train."), "summary", "trainStatus")
        self.status.setStyleSheet("font-weight: 600; font-size: 13pt;")
        area.addWidget(self.status)
        area.addLayout(self._advice_row())
        area.addLayout(bars)
        area.addWidget(self.time_label)
        area.addWidget(self.devices_label)
        return area

    def eventFilter(self, watched, event) -> bool:
        if watched is self.quick_note and event.type() == QEvent.Type.Resize:
            self.quick_note.setMinimumHeight(self.quick_note.heightForWidth(self.quick_note.width()))
        return super().eventFilter(watched, event)

    def _reset_progress(self, started: bool) -> None:
        """Both bars empty, saying "starting…" or "not started": nothing of an earlier job stays on them."""
        words = self.tr("starting…") if started else self.tr("not started")
        for bar in (self.epoch_bar, self.batch_bar):
            self._show_progress(bar, 0, 1, words)
            bar.setEnabled(started)

    def _show_progress(self, bar: QProgressBar, done: int, total: int, words: str, title: str = "") -> None:
        """A bar at ``done`` of ``total`` (0: busy, amount unknown), its words above it."""
        bar.setRange(0, total)
        bar.setValue(done)
        bar.setAccessibleDescription(words)
        self.bar_words[bar].setText(self.tr("{title}: {words}").format(title=title or bar.accessibleName(),
                                                                      words=words))

    def _advice_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.advice_label = styled_label("", "advice", "adviceLabel")
        self.advice_label.setAccessibleName(self.tr("Advice for the next try"))
        self.advice_button = named(QPushButton(), "adviceButton", self.tr("Follow the advice"),
                                   self.tr("Do what the advice says."))
        self.advice_button.clicked.connect(self.follow_advice)
        row.addWidget(self.advice_label, 1)
        row.addWidget(self.advice_button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.show_advice(None)
        return row

    def _checkpoint_area(self) -> QVBoxLayout:
        area = QVBoxLayout()
        self.checkpoints = named(QTableWidget(0, 5), "checkpointTable", self.tr("Checkpoints"),
                                 self.tr("Saved copies of the model. 'best' has the highest validation accuracy."))
        self.checkpoints.setHorizontalHeaderLabels(
            [self.tr("Checkpoint"), self.tr("Epoch"), self.tr("Val. accuracy"), self.tr("Val. loss"), self.tr("Saved")])
        self.checkpoints.verticalHeader().hide()
        self.checkpoints.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.checkpoints.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.checkpoints.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.checkpoints.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.checkpoints.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.checkpoints.setFixedHeight(104)
        row = QHBoxLayout()
        self.restore_button = named(QPushButton(self.tr("Restore")), "restoreButton", self.tr("Restore checkpoint"),
                                    self.tr("Use the selected checkpoint as this run's model for evaluation and "
                                            "export."))
        self.compare = named(QComboBox(), "compareCombo", self.tr("Compare with an earlier run"),
                             self.tr("Draw an earlier run's validation curves, dashed, for comparison."))
        self.compare.setMinimumContentsLength(18)
        row.addWidget(self.restore_button)
        row.addStretch(1)
        row.addWidget(QLabel(self.tr("Compare with an earlier run:")))
        row.addWidget(self.compare, 2)
        area.addWidget(self.checkpoints)
        area.addLayout(row)
        self.fold_in_presentation(self.checkpoints, self.restore_button)  # the curves need the height
        self.restore_button.clicked.connect(self.restore_selected)
        self.compare.currentIndexChanged.connect(self._overlay_selected)
        self.refresh_runs()
        return area

    # ----- settings -----
    def _update_fine_tune_lr(self, *_args) -> None:
        auto = fine_tune_learning_rate(self.session.training.learning_rate)
        self.auto_lr_note.setText(self.tr("Automatic fine-tuning rate: {rate:g} (learning rate ÷ 10)").format(
            rate=auto))

    def quick_experiment(self) -> None:
        for name, value in QUICK_EXPERIMENT.items():
            self.session.update(FIELD_SECTIONS[name], **{name: value})

    def config(self, out: Path | None = None) -> TrainingConfig:
        """The run the session asks for; a UserError says what is missing."""
        index = self.session.index
        if index is None:
            raise UserError(self.tr("Choose a dataset on the Data page first (or wait until its photos are "
                                    "checked)."))
        problem = index.usability_problem()
        if problem:
            raise UserError(problem)
        out = out or new_run_dir(self.session.model.backbone, self.session.runs_folder, index.root)
        return self.session.training_config(index.root, out)

    def update_mode(self, *_args) -> None:
        try:
            config = self.config(out=Path("."))
        except UserError:
            self.mode_label.setText("")
            return
        self.mode_label.setText(fast_mode_decision(config)[1])

    # ----- actions -----
    def is_training(self) -> bool:
        return self.training is not None and self.training.running

    @property
    def run_dir(self) -> Path | None:
        return self.session.run

    def train_now(self) -> None:
        """Right after a capture: a base whose weights are here, the quick settings, a new run."""
        if self.is_training():  # its settings stay as they are until it ends
            self._show_status(self.tr("A run is training now. Stop it first, or wait until it ends."), error=True)
            return
        quick = choose_quick_start()
        quick.apply(self.session)
        if quick.weights_here:
            self.start()
        self.quick_note.setText(quick.sentence)
        set_role(self.quick_note, "explain" if quick.weights_here else "error")
        self.quick_note.show()

    def start(self) -> None:
        self.quick_note.hide()  # a Start of the user's own: their settings, not the quick start's
        try:
            config = self.config()
        except UserError as e:
            self._show_status(str(e), error=True)
            return
        self.curves.clear()
        self.checkpoints.setRowCount(0)
        self.phase_epochs = (0, config.training.total_epochs)
        self._launch(TrainRequest(config=config), Path(config.out),
                     self.tr("Starting a new run in {folder}…").format(folder=config.out))

    def resume(self) -> None:
        index = self.session.index
        run = self.run_dir or next((r.path for r in list_runs(self.session.runs_folder)
                                    if r.history and not of_another_dataset(r, index)), None)
        if run is None:
            self._show_status(self.tr("There is no run to resume yet."), error=True)
            return
        finished = finished_run_text(run, shown=run == self.run_dir)
        if finished:
            self._show_status(finished)
            return
        self._continue(run, {}, self.tr("Resuming…"))

    def _other_dataset_run(self, run_dir: Path | None) -> RunInfo | None:
        """The run, when it was trained on another dataset than the one on the Data page."""
        info = RunFolder(run_dir).info() if run_dir is not None else None
        return info if info is not None and of_another_dataset(info, self.session.index) else None

    def _may_continue(self, run_dir: Path, action: str) -> bool:
        """Whether the app may train ``run_dir`` further: a run of the open project and of the
        dataset on the Data page; otherwise the status says why not."""
        if not self._writable(run_dir):
            return False
        other = self._other_dataset_run(run_dir)
        if other is not None:
            self._show_status(another_dataset_text(other, action), error=True)
        return other is None

    def _writable(self, run_dir: Path) -> bool:
        if self.session.may_write(run_dir):
            return True
        self._show_status(self.tr("{run} lies outside the open project, so the app does not change it. Save the "
                                  "project under another name (it then holds a copy) to train it further.").format(
                              run=Path(run_dir).name), error=True)
        return False

    def fine_tune(self) -> None:
        if self.run_dir is None:
            self._show_status(self.tr("Train a run first, then fine-tune it."), error=True)
            return
        if not self._may_continue(self.run_dir, self.tr("fine-tune it")):
            return
        training = self.session.training
        try:
            changes = plan_fine_tuning(self.run_dir, training.fine_tune_epochs, training.unfreeze_layers,
                                       training.fine_tune_learning_rate)
        except UserError as e:
            self._show_status(str(e), error=True)
            return
        self._continue(self.run_dir, changes, self.tr(
            "Fine-tuning the top {layers} layers for {epochs} more epochs at learning rate {rate:g} (the "
            "Fine-tuning settings)…").format(layers=training.unfreeze_layers, epochs=training.fine_tune_epochs,
                                             rate=training.fine_tune_lr))

    def _run_changed(self, run_dir: Path | None, _old=None) -> None:
        """Show a run's curves and checkpoints (one chosen, or a project opened); None clears."""
        if self.is_training():
            return
        self._show_run(run_dir)
        self.show_advice(None)  # it was about another run
        other = self._other_dataset_run(run_dir)
        if other is not None:
            self._show_status(another_dataset_text(other, self.tr("fine-tune or resume it")))
        elif run_dir is not None:
            self._show_status(self.tr("Last run: {run}. Press Start for a new one, or Fine-tune it.").format(
                run=Path(run_dir).name))
        else:
            self._show_status(self.tr("Press Start to train."))
        self.refresh_runs()
        self._set_running(False)

    def _show_run(self, run_dir: Path | None) -> None:
        """A run's curves and checkpoints; None clears them."""
        self.curves.clear()
        self.checkpoints.setRowCount(0)
        if run_dir is not None:
            self.curves.set_history(RunFolder(run_dir).read_history())
            self._fill_checkpoints()

    def _continue(self, run_dir: Path, changes: dict, text: str) -> None:
        if not self._may_continue(run_dir, self.tr("train it further")):
            return
        run = RunFolder(run_dir)
        info = run.info()
        self.curves.set_history(run.settled_history())
        relocated = relocated_dataset(info, self.session) if info is not None else None
        self._retry = (run_dir, changes, text)
        self._launch(TrainRequest(resume=Path(run_dir), changes=changes, relocated=relocated,
                                  class_map=dict(self.session.class_renames)), Path(run_dir), text)
        self._fill_checkpoints()

    def _on_refused(self, error) -> None:
        """Classes renamed outside the app: ask which is which, then go on with that."""
        if isinstance(error, ClassesChanged) and error.missing and error.added and self._retry is not None:
            mapping = class_map_dialog.ask_class_map(self, error.missing, error.added)
            if mapping:
                self.session.class_renames = {**self.session.class_renames, **mapping}
                QTimer.singleShot(0, lambda retry=self._retry: self._continue(*retry))

    def _launch(self, request: TrainRequest, run_dir: Path, text: str) -> None:
        if self.is_training():
            return
        self.training = TrainingRun(request, parent=self)
        self.training.event.connect(self.on_event)
        self.training.failed.connect(lambda message: self._show_status(message, error=True))
        self.training.refused.connect(self._on_refused)
        self._cut_epoch = None
        self.training.finished.connect(lambda: self._set_running(False))
        self.training.finished.connect(self._training_ended)
        if request.resume is not None:
            self.session.run = run_dir
        elif not Path(run_dir).exists():  # the session's run once it saves an epoch: a failed start changes nothing
            self._new_run = Path(run_dir)
        self._show_status(text)
        self._reset_progress(started=True)  # not the last job's "4 of 4 epochs done"
        self._timed = False
        self.time_label.setText(self.tr(ESTIMATING))
        self.devices_label.setText("")  # said again by this job when it starts
        self.show_advice(None)
        self._set_running(True)

    def _became_run(self) -> None:
        """The new run has saved an epoch (or finished): it is the session's run from now on."""
        if self._new_run is not None:
            self.session.run, self._new_run = self._new_run, None

    def _training_ended(self) -> None:
        """A new run that never saved an epoch failed to start: its folder goes, and the run
        shown before comes back (the failure's sentence stays)."""
        failed, self._new_run = self._new_run, None
        if failed is not None:
            RunFolder(failed).discard_unstarted()  # the training process may have died before it could
            self._show_run(self.session.run)
            self.refresh_runs()

    def stop(self) -> None:
        if self.is_training():
            self.training.stop()
            self._show_status(self.tr("Stopping after this batch…"))

    def stop_background_work(self, msecs: int) -> None:
        """The window is closing: a run still going stops (its checkpoints are intact)."""
        self.stop()

    def restore_selected(self) -> None:
        row = self.checkpoints.currentRow()
        if row < 0 or self.run_dir is None:
            self._show_status(self.tr("Choose a checkpoint in the list first."), error=True)
            return
        kind = self.checkpoints.item(row, 0).data(Qt.ItemDataRole.UserRole)
        if not self._writable(self.run_dir):
            return
        try:
            RunFolder(self.run_dir).restore_checkpoint(kind)
        except OSError as e:
            self._show_status(self.tr("Could not restore the checkpoint: {reason}.").format(reason=e.strerror or e),
                              error=True)
            return
        except UserError as e:
            self._show_status(str(e), error=True)
            return
        self._show_status(self.tr("The {kind} checkpoint is now this run's model.").format(kind=kind))

    # ----- events from the training process (GUI thread) -----
    def on_event(self, event) -> None:
        if isinstance(event, BatchEnd):
            words = (self.tr("batch {batch} of {batches}") if event.batches else self.tr("batch {batch}")).format(
                batch=event.batch, batches=event.batches)
            self._show_progress(self.batch_bar, event.batch, event.batches or 0, words)
            self.curves.add_batch(event.epoch, event.batch, event.batches, event.metrics.get("loss"))
            if event.seconds_left is not None:  # only once a few batches were timed
                self._timed = True
                self.time_label.setText(time_left_words(event.seconds_left))
        elif isinstance(event, EpochEnd):
            self.curves.add_epoch(event.epoch, event.metrics)
            self._timed = True
            self._show_epochs_done(event.epoch, event.last_epoch)
            acc = event.metrics.get("val_accuracy")
            if acc is not None:
                self._show_status(self.tr("Epoch {epoch}: {accuracy:.0%} of the validation photos right").format(
                    epoch=event.epoch, accuracy=acc))
        elif isinstance(event, PhaseStarted):
            self._show_epochs_done(event.first_epoch - 1, event.last_epoch)
            # A new phase goes at its own speed (fine-tuning is slower): time it afresh. This also
            # passes over the guess made before the first epoch from a few forward passes.
            self._timed = False
            self.time_label.setText(self.tr(ESTIMATING))
            if event.phase == FINE_TUNING and not event.continues:
                self.curves.mark_phase(event.first_epoch - 1, fine_tune_label(event.detail, event.learning_rate))
            text = (self.tr("Fine-tuning the top of the base: epochs {first} to {last}, {weights:,} weights "
                            "learning") if event.phase == FINE_TUNING else
                    self.tr("Training the new head (the base stays frozen): epochs {first} to {last}, {weights:,} "
                            "weights learning"))
            self._show_status(text.format(first=event.first_epoch, last=event.last_epoch,
                                          weights=event.trainable_params))
        elif isinstance(event, DevicesInUse):
            self.devices_label.setText(devices_words(event))
        elif isinstance(event, Estimate):
            if self._timed:
                self.time_label.setText(time_left_words(event.seconds_left, event.seconds_per_epoch))
        elif isinstance(event, Progress):
            self._timed = True  # the estimate that follows comes from timing these photos
            self._show_progress(self.batch_bar, event.done, event.total,
                                self.tr("{what}, {done} of {total}").format(what=event.words.lower(), done=event.done,
                                                                            total=event.total),
                                title=self.tr("Getting ready"))
        elif isinstance(event, CheckpointSaved):
            self._became_run()
            self._fill_checkpoints()
        elif isinstance(event, Message):
            self._show_status(event.text)
        elif isinstance(event, EpochCut):
            self._cut_epoch = event.epoch
        elif isinstance(event, Finished):
            best = event.metrics.get("best_val_accuracy")
            text = self.tr("Stopped.") if event.stopped else self.tr("Finished.")
            if self._cut_epoch is not None:
                text = self.tr("Stopped during epoch {epoch}; it will run again on Resume.").format(
                    epoch=self._cut_epoch)
            if best is not None:
                text += " " + self.tr("Best validation accuracy: {accuracy:.0%}.").format(accuracy=best)
            self._show_status(text)
            self.time_label.setText("")  # nothing is left to wait for
            self.refresh_runs()
            try:
                self.show_advice(advise_run(Path(event.run_dir)), Path(event.run_dir))
            except UserError:
                self.show_advice(None)  # a run whose files cannot be read has nothing to say
            self._became_run()
            self.session.finished_run = FinishedRun(Path(event.run_dir), event.stopped)
        elif isinstance(event, Failed):
            self._show_status(event.message, error=True)
            self.time_label.setText("")

    def _show_epochs_done(self, done: int, last: int) -> None:
        words = self.tr("{done} of {last} epochs done").format(done=done, last=last)
        self._show_progress(self.epoch_bar, done, last, words)

    # ----- advice after a run -----
    def show_advice(self, advice: Advice | None, run_dir: Path | None = None) -> None:
        """Say what to try after ``run_dir``, with a button for its action; None hides both."""
        self.advice, self._advice_run = advice, run_dir
        self.advice_label.setText(advice.text if advice else "")
        self.advice_label.setVisible(advice is not None)
        button = ADVICE_BUTTONS.get(advice.action) if advice else None
        if button is not None:
            text = self.tr(button[0]).format(epochs=MORE_EPOCHS)
            self.advice_button.setText(text)
            self.advice_button.setAccessibleName(text)
            self.advice_button.setToolTip(self.tr(button[1]))
        self.advice_button.setVisible(button is not None)

    def follow_advice(self) -> None:
        action, run_dir = (self.advice.action, self._advice_run) if self.advice else (None, None)
        if action in ADVICE_STEPS:
            self.stepRequested.emit(ADVICE_STEPS[action])
        elif action == FINE_TUNE:
            self.fine_tune()
        elif action == HALVE_LEARNING_RATE and run_dir is not None:
            try:
                learning_rate = RunFolder(run_dir).read_config().training.learning_rate / 2
            except UserError as e:
                self._show_status(str(e), error=True)
                return
            self.session.update("training", learning_rate=round(learning_rate, 8))
            self._show_status(self.tr("The learning rate is now {rate:g}: press Start for a new run.").format(
                rate=self.session.training.learning_rate))
        elif action == TRAIN_LONGER and run_dir is not None:
            self._continue(run_dir, more_epochs(RunFolder(run_dir).settled_history()),
                           self.tr("Training {epochs} more epochs…").format(epochs=MORE_EPOCHS))

    def _fill_checkpoints(self) -> None:
        if self.run_dir is None:
            return
        entries = RunFolder(self.run_dir).checkpoints()
        self.checkpoints.setRowCount(len(entries))
        for row, info in enumerate(entries):
            acc, loss = info.metrics.get("val_accuracy"), info.metrics.get("val_loss")
            cells = [info.kind, str(info.epoch), "" if acc is None else f"{acc:.1%}",
                     "" if loss is None else f"{loss:.3f}", time.strftime("%H:%M", time.localtime(info.saved_at))]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, info.kind)
                self.checkpoints.setItem(row, col, item)

    def refresh_runs(self, *_args) -> None:
        current = self.compare.currentData()
        self.compare.blockSignals(True)
        self.compare.clear()
        self.compare.addItem(self.tr("(none)"), None)
        for run in list_runs(self.session.runs_folder or runs_dir()):
            if run.path != self.run_dir and run.history:
                self.compare.addItem(run_label(run, self.session.index), str(run.path))
        index = self.compare.findData(current)
        self.compare.setCurrentIndex(max(0, index))
        self.compare.blockSignals(False)

    def _overlay_selected(self) -> None:
        path = self.compare.currentData()
        self.curves.set_overlays({Path(path).name: RunFolder(path).read_history()} if path else {})

    def _set_running(self, running: bool) -> None:
        other = None if running else self._other_dataset_run(self.run_dir)
        self.start_button.setEnabled(not running)
        self.resume_button.setEnabled(not running and other is None)
        self.fine_tune_button.setEnabled(not running and self.run_dir is not None and other is None)
        self.resume_button.setToolTip(another_dataset_text(other, self.tr("resume it")) if other
                                      else self.tr(RESUME_TIP))
        self.fine_tune_button.setToolTip(another_dataset_text(other, self.tr("fine-tune it")) if other
                                         else self.tr(FINE_TUNE_TIP))
        self.stop_button.setEnabled(running)
        self.restore_button.setEnabled(not running)

    def _show_status(self, text: str, error: bool = False) -> None:
        set_role(self.status, "error" if error else "summary")
        self.status.setText(text)
