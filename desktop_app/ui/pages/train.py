"""Step 4, Train: settings, Start / Stop / Resume / Fine-tune, live curves, checkpoints.

The settings are ``session.training``; a run trains in a child process of its own (the
engine protocol, ``core.engine.TrainRequest``), so the window never waits on TensorFlow.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QHeaderView,
    QFrame, QLabel, QProgressBar, QPushButton, QScrollArea, QSpinBox, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from desktop_app.core.engine import Crashed, Progressed, Refused, TrainRequest
from desktop_app.core.errors import ClassesChanged, UserError
from desktop_app.core.events import (
    BatchEnd, CheckpointSaved, EpochCut, EpochEnd, Estimate, Failed, Finished, Message, PhaseStarted, Progress,
)
from desktop_app.core.results.advice import (
    FINE_TUNE, GO_TO_AUGMENT, GO_TO_DATA, GO_TO_MODEL, HALVE_LEARNING_RATE, MORE_EPOCHS, TRAIN_LONGER, Advice,
    advise_run, more_epochs,
)
from desktop_app.core.runs import RunFolder, list_runs, new_run_dir, runs_dir
from desktop_app.core.session import (
    FIELD_SECTIONS, FINE_TUNING, QUICK_EXPERIMENT, FinishedRun, Session, TrainingConfig, fine_tune_learning_rate,
)
from desktop_app.core.train.plan import fast_mode_decision, plan_fine_tuning
from desktop_app.ui.tasks import BUG, TRAINING_DIED, Engine
from desktop_app.ui.widgets import class_map_dialog
from desktop_app.ui.widgets.bindings import bind, follow
from desktop_app.ui.widgets.run_chooser import relocated_dataset
from desktop_app.ui.widgets.step_page import StepPage, named, set_role, styled_label
from desktop_app.ui.widgets.training_curves import TrainingCurves


# The advice's button: its text and tooltip for each action.
ADVICE_BUTTONS = {
    GO_TO_MODEL: ("Go to the Model page", "Choose the base and its ImageNet weights there."),
    GO_TO_AUGMENT: ("Go to the Augment page", "Switch on augmentation there, then train a new run."),
    GO_TO_DATA: ("Go to the Data page", "Add photos there, then train a new run."),
    HALVE_LEARNING_RATE: ("Halve the learning rate", "Set the learning rate to half of this run's; then press Start."),
    TRAIN_LONGER: (f"Train {MORE_EPOCHS} more epochs", "Continue this run where it ended, on the same timeline."),
    FINE_TUNE: ("Fine-tune this run", "Unfreeze the top of the base and continue this run on the same timeline."),
}
# Steps are named as in the sidebar: the main window goes there (pages don't know each other).
ADVICE_STEPS = {GO_TO_MODEL: "Model", GO_TO_AUGMENT: "Augment", GO_TO_DATA: "Data"}


def format_seconds(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def quick_words() -> str:
    q = QUICK_EXPERIMENT
    return (f"Try ideas fast: {q['subset_percent']:g} % of the training photos, {q['epochs']} epochs, "
            f"learning rate {q['learning_rate']:g}, "
            "fast mode; checked on all the validation photos.")


def fine_tune_label(detail: str, learning_rate: float) -> str:
    return f"fine-tuning\n{detail}\nlearning rate {learning_rate:g}"


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
            self.failed.emit(BUG)
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
            "4. Train: teach the head, then fine-tune",
            "Training shows the model your photos again and again and nudges its numbers to make fewer "
            "mistakes. Watch the validation curves: they show how well it does on photos it does not learn from.",
            parent,
        )
        self.session = session
        self.training: TrainingRun | None = None
        self.phase_epochs: tuple[int, int] = (0, 0)
        self._retry: tuple | None = None  # the last resume, to go on with once classes are matched
        self._cut_epoch: int | None = None
        self.advice: Advice | None = None
        self._advice_run: Path | None = None

        controls = QVBoxLayout()
        controls.setContentsMargins(0, 0, 8, 0)
        controls.addWidget(self._settings_box())
        controls.addWidget(self._fine_tune_box())
        self.mode_label = styled_label("", "explain", "modeLabel")
        controls.addWidget(self.mode_label)
        controls.addLayout(self._buttons())
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
        columns.addWidget(scroll)
        columns.addLayout(right, 1)
        self.layout_.addLayout(columns, 1)
        for signal in (session.events.index, session.events.augmentation, session.events.training):
            follow(signal, self.update_mode, self)
        follow(session.events.training, self._update_fine_tune_lr, self)
        follow(session.events.run, self._run_changed, self)
        follow(session.events.runs_folder, self.refresh_runs, self)
        self.update_mode()
        self._run_changed(session.run)

    # ----- building the page -----
    def _settings_box(self) -> QGroupBox:
        box = QGroupBox("Settings")
        form = QFormLayout(box)
        self.epochs = named(QSpinBox(minimum=1, maximum=1000, value=5), "epochsSpin", "Epochs",
                             "An epoch is one pass over all the training photos. More epochs: more learning, "
                             "but too many and the model memorises the photos instead of learning the classes.")
        self.batch_size = named(QSpinBox(minimum=1, maximum=1024, value=32), "batchSizeSpin", "Batch size",
                                 "How many photos the model looks at before each small correction. Smaller "
                                 "batches need less memory; larger ones are steadier.")
        self.learning_rate = named(QDoubleSpinBox(decimals=5, minimum=0.00001, maximum=1.0, value=0.001,
                                                   singleStep=0.0005), "learningRateSpin", "Learning rate",
                                    "How big each correction is. Too big and learning jumps around; too small "
                                    "and it crawls. 0.001 is a good start with Adam.")
        self.optimizer = named(QComboBox(), "optimizerCombo", "Optimizer",
                                "The method that turns mistakes into corrections. Adam adapts its steps by "
                                "itself and is the usual choice.")
        for label, key in (("Adam (recommended)", "adam"), ("SGD", "sgd"), ("RMSprop", "rmsprop")):
            self.optimizer.addItem(label, key)
        self.label_smoothing = named(QDoubleSpinBox(decimals=2, minimum=0.0, maximum=0.5, singleStep=0.05),
                                     "labelSmoothingSpin", "Label smoothing",
                                     "Tells the model that photos are not 100 % one class: a little of each "
                                     "label goes to the other classes. 0.1 can help with messy photos; 0 is off.")
        self.fast = named(QCheckBox("Use fast mode when it applies"), "fastCheck", "Fast mode",
                           "While the base is frozen, it looks at each photo once (with augmentation on, at a "
                           "few changed versions of it) and only the head trains: much faster, same kind of result.")
        self.quick_button = named(QPushButton("Quick experiment"), "quickExperimentButton", "Quick experiment",
                                   quick_words())
        form.addRow("Epochs", self.epochs)
        form.addRow("Batch size", self.batch_size)
        form.addRow("Learning rate", self.learning_rate)
        form.addRow("Optimizer", self.optimizer)
        form.addRow("Label smoothing", self.label_smoothing)
        form.addRow(self.fast)
        form.addRow(self.quick_button)
        self.quick_button.clicked.connect(self.quick_experiment)
        bind(self.epochs, self.session, "training.epochs")
        bind(self.batch_size, self.session, "training.batch_size")
        bind(self.learning_rate, self.session, "training.learning_rate", from_widget=lambda v: round(v, 8))
        bind(self.optimizer, self.session, "training.optimizer")
        bind(self.label_smoothing, self.session, "training.label_smoothing", from_widget=lambda v: round(v, 2))
        bind(self.fast, self.session, "training.fast")
        return box

    def _fine_tune_box(self) -> QGroupBox:
        box = named(QGroupBox("Then fine-tune"), "fineTuneGroup", "Fine-tune after training",
                     "Fine-tuning unfreezes the top layers of the pretrained base so they adapt a little to "
                     "your photos, at a 10 times lower learning rate.")
        box.setCheckable(True)
        form = QFormLayout(box)
        self.fine_tune_epochs = named(QSpinBox(minimum=1, maximum=1000, value=5), "fineTuneEpochsSpin",
                                       "Fine-tuning epochs", "Extra epochs with the top of the base unfrozen.")
        self.unfreeze = named(QSpinBox(minimum=1, maximum=1000, value=10), "unfreezeSpin", "Layers to unfreeze",
                               "How many layers at the top of the base may change. Batch-normalisation layers "
                               "stay frozen: their statistics come from millions of ImageNet photos.")
        self.fine_tune_lr = named(QDoubleSpinBox(decimals=6, minimum=0.0, maximum=1.0, singleStep=0.00005),
                                   "fineTuneLrSpin", "Fine-tuning learning rate",
                                   "Smaller steps, so the pretrained layers change only a little. "
                                   "Automatic: the learning rate divided by 10.")
        self.fine_tune_lr.setSpecialValueText("automatic")
        self.auto_lr_note = styled_label("", "explain")
        form.addRow("Epochs", self.fine_tune_epochs)
        form.addRow("Unfreeze top layers", self.unfreeze)
        form.addRow("Learning rate", self.fine_tune_lr)
        form.addRow(self.auto_lr_note)
        self.fine_tune_box = box
        bind(box, self.session, "training.fine_tune")
        bind(self.fine_tune_epochs, self.session, "training.fine_tune_epochs")
        bind(self.unfreeze, self.session, "training.unfreeze_layers")
        bind(self.fine_tune_lr, self.session, "training.fine_tune_learning_rate", lambda lr: lr or 0.0,
             lambda value: round(value, 8) or None)
        self._update_fine_tune_lr()
        return box

    def _buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.start_button = named(QPushButton("Start"), "startButton", "Start training",
                                   "Train a new run with these settings.")
        self.stop_button = named(QPushButton("Stop"), "stopButton", "Stop training",
                                  "Stop after the current batch; the checkpoints are kept and you can resume.")
        self.resume_button = named(QPushButton("Resume"), "resumeButton", "Resume the run",
                                    "Continue the last stopped run where it left off.")
        self.fine_tune_button = named(QPushButton("Fine-tune"), "fineTuneButton", "Fine-tune this run",
                                       "Unfreeze the top of the base and continue this run on the same timeline.")
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
        self.epoch_bar = named(QProgressBar(), "epochProgress", "Epochs done", "Epochs done in this run.")
        self.batch_bar = named(QProgressBar(), "batchProgress", "Progress in this epoch",
                                "Batches done in the current epoch.")
        bars = QHBoxLayout()
        for bar in (self.epoch_bar, self.batch_bar):
            bar.setFormat("")
            bar.setValue(0)
            bars.addWidget(bar)
        self.time_label = styled_label("", "explain", "timeLeftLabel")
        self.status = styled_label("Press Start to train.", "summary", "trainStatus")
        self.status.setStyleSheet("font-weight: 600; font-size: 13pt;")
        area.addWidget(self.status)
        area.addLayout(self._advice_row())
        area.addLayout(bars)
        area.addWidget(self.time_label)
        return area

    def _advice_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.advice_label = styled_label("", "advice", "adviceLabel")
        self.advice_label.setAccessibleName("Advice for the next try")
        self.advice_button = named(QPushButton(), "adviceButton", "Follow the advice", "Do what the advice says.")
        self.advice_button.clicked.connect(self.follow_advice)
        row.addWidget(self.advice_label, 1)
        row.addWidget(self.advice_button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.show_advice(None)
        return row

    def _checkpoint_area(self) -> QVBoxLayout:
        area = QVBoxLayout()
        self.checkpoints = named(QTableWidget(0, 5), "checkpointTable", "Checkpoints",
                                 "Saved copies of the model. 'best' has the highest validation accuracy.")
        self.checkpoints.setHorizontalHeaderLabels(
            ["Checkpoint", "Epoch", "Val. accuracy", "Val. loss", "Saved"])
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
        self.restore_button = named(QPushButton("Restore"), "restoreButton", "Restore checkpoint",
                                    "Use the selected checkpoint as this run's model for evaluation and export.")
        self.compare = named(QComboBox(), "compareCombo", "Compare with an earlier run",
                             "Draw an earlier run's validation curves, dashed, for comparison.")
        self.compare.setMinimumContentsLength(18)
        row.addWidget(self.restore_button)
        row.addStretch(1)
        row.addWidget(QLabel("Compare with an earlier run:"))
        row.addWidget(self.compare, 2)
        area.addWidget(self.checkpoints)
        area.addLayout(row)
        self.restore_button.clicked.connect(self.restore_selected)
        self.compare.currentIndexChanged.connect(self._overlay_selected)
        self.refresh_runs()
        return area

    # ----- settings -----
    def _update_fine_tune_lr(self, *_args) -> None:
        auto = fine_tune_learning_rate(self.session.training.learning_rate)
        self.auto_lr_note.setText(f"Automatic fine-tuning rate: {auto:g} (learning rate ÷ 10)")

    def quick_experiment(self) -> None:
        for name, value in QUICK_EXPERIMENT.items():
            self.session.update(FIELD_SECTIONS[name], **{name: value})

    def config(self, out: Path | None = None) -> TrainingConfig:
        """The run the session asks for; a UserError says what is missing."""
        index = self.session.index
        if index is None:
            raise UserError("Choose a dataset on the Data page first (or wait until its photos are checked).")
        problem = index.usability_problem()
        if problem:
            raise UserError(problem)
        out = out or new_run_dir(self.session.model.backbone, self.session.runs_folder)
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

    def start(self) -> None:
        try:
            config = self.config()
        except UserError as e:
            self._show_status(str(e), error=True)
            return
        self.curves.clear()
        self.checkpoints.setRowCount(0)
        self.phase_epochs = (0, config.training.total_epochs)
        self._launch(TrainRequest(config=config), Path(config.out), f"Starting a new run in {config.out}…")

    def resume(self) -> None:
        run = self.run_dir or next((r.path for r in list_runs(self.session.runs_folder) if r.history), None)
        if run is None:
            self._show_status("There is no run to resume yet.", error=True)
            return
        self._continue(run, {}, "Resuming…")

    def _writable(self, run_dir: Path) -> bool:
        if self.session.may_write(run_dir):
            return True
        self._show_status(f"{Path(run_dir).name} lies outside the open project, so the app does not change it. "
                          "Save the project under another name (it then holds a copy) to train it further.",
                          error=True)
        return False

    def fine_tune(self) -> None:
        if self.run_dir is None:
            self._show_status("Train a run first, then fine-tune it.", error=True)
            return
        if not self._writable(self.run_dir):
            return
        training = self.session.training
        try:
            changes = plan_fine_tuning(self.run_dir, training.fine_tune_epochs, training.unfreeze_layers,
                                       training.fine_tune_learning_rate)
        except UserError as e:
            self._show_status(str(e), error=True)
            return
        self._continue(self.run_dir, changes, f"Fine-tuning the top {training.unfreeze_layers} layers…")

    def _run_changed(self, run_dir: Path | None, _old=None) -> None:
        """Show a run's curves and checkpoints (one chosen, or a project opened); None clears."""
        if self.is_training():
            return
        self.curves.clear()
        self.checkpoints.setRowCount(0)
        self.show_advice(None)  # it was about another run
        if run_dir is not None:
            self.curves.set_history(RunFolder(run_dir).read_history())
            self._fill_checkpoints()
            self._show_status(f"Last run: {Path(run_dir).name}. Press Start for a new one, or Fine-tune it.")
        else:
            self._show_status("Press Start to train.")
        self.refresh_runs()
        self._set_running(False)

    def _continue(self, run_dir: Path, changes: dict, text: str) -> None:
        if not self._writable(run_dir):
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
        self.session.run = run_dir
        self._show_status(text)
        self.epoch_bar.setValue(0)
        self.batch_bar.setValue(0)
        self.time_label.setText("")
        self.show_advice(None)
        self._set_running(True)

    def stop(self) -> None:
        if self.is_training():
            self.training.stop()
            self._show_status("Stopping after this batch…")

    def stop_background_work(self, msecs: int) -> None:
        """The window is closing: a run still going stops (its checkpoints are intact)."""
        self.stop()

    def restore_selected(self) -> None:
        row = self.checkpoints.currentRow()
        if row < 0 or self.run_dir is None:
            self._show_status("Choose a checkpoint in the list first.", error=True)
            return
        kind = self.checkpoints.item(row, 0).data(Qt.ItemDataRole.UserRole)
        if not self._writable(self.run_dir):
            return
        try:
            RunFolder(self.run_dir).restore_checkpoint(kind)
        except OSError as e:
            self._show_status(f"Could not restore the checkpoint: {e.strerror or e}.", error=True)
            return
        except UserError as e:
            self._show_status(str(e), error=True)
            return
        self._show_status(f"The {kind} checkpoint is now this run's model.")

    # ----- events from the training process (GUI thread) -----
    def on_event(self, event) -> None:
        if isinstance(event, BatchEnd):
            self.batch_bar.setMaximum(event.batches or 0)
            self.batch_bar.setValue(event.batch)
            self.batch_bar.setFormat(f"Batch {event.batch} of {event.batches}" if event.batches else "")
            self.curves.add_batch(event.epoch, event.batch, event.batches, event.metrics.get("loss"))
            if event.seconds_left is not None:
                self.time_label.setText(f"About {format_seconds(event.seconds_left)} left")
        elif isinstance(event, EpochEnd):
            self.curves.add_epoch(event.epoch, event.metrics)
            self.epoch_bar.setMaximum(event.last_epoch)
            self.epoch_bar.setValue(event.epoch)
            self.epoch_bar.setFormat(f"Epoch {event.epoch} of {event.last_epoch}")
            acc = event.metrics.get("val_accuracy")
            if acc is not None:
                self._show_status(f"Epoch {event.epoch}: {acc:.0%} of the validation photos right")
        elif isinstance(event, PhaseStarted):
            self.epoch_bar.setMaximum(event.last_epoch)
            if event.phase == FINE_TUNING and not event.continues:
                self.curves.mark_phase(event.first_epoch - 1, fine_tune_label(event.detail, event.learning_rate))
            what = ("Fine-tuning the top of the base" if event.phase == FINE_TUNING
                    else "Training the new head (the base stays frozen)")
            self._show_status(f"{what}: epochs {event.first_epoch} to {event.last_epoch}, "
                              f"{event.trainable_params:,} weights learning")
        elif isinstance(event, Estimate):
            left = f"about {format_seconds(event.seconds_left)} left"
            if event.seconds_per_epoch:
                left = f"About {format_seconds(event.seconds_per_epoch)} per epoch, {left}"
            self.time_label.setText(left[0].upper() + left[1:])
        elif isinstance(event, Progress):
            self.batch_bar.setMaximum(event.total)
            self.batch_bar.setValue(event.done)
            self.batch_bar.setFormat(f"{event.words}: {event.done} of {event.total}")
        elif isinstance(event, CheckpointSaved):
            self._fill_checkpoints()
        elif isinstance(event, Message):
            self._show_status(event.text)
        elif isinstance(event, EpochCut):
            self._cut_epoch = event.epoch
        elif isinstance(event, Finished):
            best = event.metrics.get("best_val_accuracy")
            score = f" Best validation accuracy: {best:.0%}." if best is not None else ""
            verb = "Stopped" if event.stopped else "Finished"
            if self._cut_epoch is not None:
                verb = f"Stopped during epoch {self._cut_epoch}; it will run again on Resume"
            self._show_status(f"{verb}.{score}")
            self.time_label.setText("")  # nothing is left to wait for
            self.refresh_runs()
            try:
                self.show_advice(advise_run(Path(event.run_dir)), Path(event.run_dir))
            except UserError:
                self.show_advice(None)  # a run whose files cannot be read has nothing to say
            self.session.finished_run = FinishedRun(Path(event.run_dir), event.stopped)
        elif isinstance(event, Failed):
            self._show_status(event.message, error=True)
            self.time_label.setText("")

    # ----- advice after a run -----
    def show_advice(self, advice: Advice | None, run_dir: Path | None = None) -> None:
        """Say what to try after ``run_dir``, with a button for its action; None hides both."""
        self.advice, self._advice_run = advice, run_dir
        self.advice_label.setText(advice.text if advice else "")
        self.advice_label.setVisible(advice is not None)
        button = ADVICE_BUTTONS.get(advice.action) if advice else None
        if button is not None:
            self.advice_button.setText(button[0])
            self.advice_button.setAccessibleName(button[0])
            self.advice_button.setToolTip(button[1])
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
            self._show_status(f"The learning rate is now {self.session.training.learning_rate:g}: press Start "
                              "for a new run.")
        elif action == TRAIN_LONGER and run_dir is not None:
            self._continue(run_dir, more_epochs(RunFolder(run_dir).settled_history()),
                           f"Training {MORE_EPOCHS} more epochs…")

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
        self.compare.addItem("(none)", None)
        for run in list_runs(self.session.runs_folder or runs_dir()):
            if run.path != self.run_dir and run.history:
                self.compare.addItem(run.label, str(run.path))
        index = self.compare.findData(current)
        self.compare.setCurrentIndex(max(0, index))
        self.compare.blockSignals(False)

    def _overlay_selected(self) -> None:
        path = self.compare.currentData()
        self.curves.set_overlays({Path(path).name: RunFolder(path).read_history()} if path else {})

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.resume_button.setEnabled(not running)
        self.fine_tune_button.setEnabled(not running and self.run_dir is not None)
        self.stop_button.setEnabled(running)
        self.restore_button.setEnabled(not running)

    def _show_status(self, text: str, error: bool = False) -> None:
        set_role(self.status, "error" if error else "summary")
        self.status.setText(text)
