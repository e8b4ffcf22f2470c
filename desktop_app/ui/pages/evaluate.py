"""Step 5, Evaluate: where does the model go wrong? And: try it on new photos.

Evaluation and prediction run in the engine process (TensorFlow lives there); this page
only shows their results: accuracy, per-class table, a confusion matrix whose cells list
their photos, the most-wrong gallery, the run's curves (optionally over another run's),
and top-3 predictions for dropped or chosen photos.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt, QTimer, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QProgressBar, QPushButton, QSplitter,
    QTableWidget, QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget,
)

from desktop_app.core.engine import EvaluateRequest, PredictRequest
from desktop_app.core.errors import ClassesChanged
from desktop_app.core.events import Progress, Step
from desktop_app.core.results.evaluation import load_evaluation
from desktop_app.core.runs import RunInfo
from desktop_app.core.session import Session
from desktop_app.ui.tasks import Engine, LatestRequest, LocalWork
from desktop_app.ui.widgets import class_map_dialog, live_view
from desktop_app.ui.widgets.bindings import follow
from desktop_app.ui.widgets.drops import dropped_paths
from desktop_app.ui.widgets.evaluation_views import (
    THUMB_SIDE, CaptionedThumbnails, ConfusionMatrixView, PredictionRows, decode_prediction_thumbnails,
)
from desktop_app.ui.widgets.run_chooser import (
    RunChooser, another_dataset_text, no_model_text, of_another_dataset, relocated_dataset,
)
from desktop_app.ui.widgets.step_page import SettingsDrawer, StepPage, named, styled_label
from desktop_app.ui.widgets.training_curves import TrainingCurves


EVALUATE_TIP = QT_TRANSLATE_NOOP("EvaluatePanel", "Test the run's best model on its validation photos.")
LIVE_TIP = QT_TRANSLATE_NOOP("EvaluatePanel", "Point the camera at things: big bars show, many times a second, what "
                                              "the run's model thinks it sees.")


def thumbnails_for(result, report, should_stop):
    """Local work for "Try new photos": the thumbnails of the rows shown, off the GUI thread."""
    return result, decode_prediction_thumbnails(result.predictions[: PredictionRows.MAX_ROWS], THUMB_SIDE)


class EvaluatePanel(StepPage):
    """Evaluates ``session.run`` in the engine and shows where it goes wrong."""

    evaluationFinished = Signal(object)  # Evaluation
    predictionsFinished = Signal(object)  # PredictionSet

    def __init__(self, session: Session, engine: Engine | None = None, parent: QWidget | None = None):
        super().__init__(
            self.tr("5. Evaluate: where does it go wrong?"),
            self.tr("The model is tested on the validation photos it never learned from. See which classes it mixes "
                    "up, the mistakes it was most sure of, and try it on new photos."),
            parent,
        )
        self.session = session
        self.evaluation = None
        self.predictions = None
        self.task_run: Path | None = None  # the run the evaluation in progress is about
        self.predict_run: Path | None = None  # the run the predictions in progress are about
        self._shown_run: Path | None = None
        self.evaluations = LatestRequest(engine, parent=self)
        self.evaluations.progress.connect(self._on_progress)
        self.evaluations.succeeded.connect(self._on_evaluated)
        self.evaluations.failed.connect(self._on_failed)
        self.evaluations.refused.connect(self._on_refused)
        self.evaluations.cancelled.connect(lambda: self._on_evaluated(None))
        self.evaluations.finished.connect(self._on_finished)
        self.predicting = LatestRequest(engine, parent=self)
        self.predicting.progress.connect(self._predict_progress)
        self.predicting.succeeded.connect(self._on_predicted)
        self.thumbnailing = LatestRequest(parent=self)
        self.thumbnailing.succeeded.connect(self._show_predictions)
        self.setAcceptDrops(True)

        top = QHBoxLayout()
        self.runs = RunChooser("runCombo", self.tr("Run to evaluate"),
                               self.tr("The training run whose best model is tested. Every run you train is kept "
                                       "here."))
        self.compare = RunChooser("compareCombo", self.tr("Run to compare with"),
                                  self.tr("Draw another run's validation curves over this one's, e.g. 10 % data vs "
                                          "100 % data, or before and after fine-tuning."),
                                  empty_text=self.tr("(no comparison)"))
        self.evaluate_button = named(QPushButton(self.tr("Evaluate")), "evaluateButton", self.tr("Evaluate the run"),
                                     self.tr(EVALUATE_TIP))
        self.evaluate_button.setStyleSheet("font-weight: 600;")
        top.addWidget(QLabel(self.tr("Run:")))
        top.addWidget(self.runs, 3)
        top.addWidget(QLabel(self.tr("Compare with:")))
        top.addWidget(self.compare, 2)
        top.addWidget(self.evaluate_button)
        self.live_button = named(QPushButton(self.tr("Try it live")), "liveButton", self.tr("Try the model live"),
                                 self.tr(LIVE_TIP))
        self.live_dialog: live_view.LiveDialog | None = None
        self._update_live_button(None)
        top.addWidget(self.live_button)
        self.layout_.addLayout(top)

        status_row = QHBoxLayout()
        self.progress = named(QProgressBar(), "evaluateProgress", self.tr("Evaluation progress"),
                              self.tr("Photos looked at so far."))
        self.progress.setMaximumWidth(260)
        self.progress.setVisible(False)
        self.status = styled_label("", "explain", "evaluateStatus")
        status_row.addWidget(self.progress)
        status_row.addWidget(self.status, 1)
        self.layout_.addLayout(status_row)

        self.tabs = named(QTabWidget(), "evaluateTabs", self.tr("Evaluation views"),
                          self.tr("Results, most-wrong photos, curves, and trying the model on new photos."))
        self.tabs.addTab(self._results_tab(), self.tr("Results"))
        self.tabs.addTab(self._wrong_tab(), self.tr("Most wrong"))
        self.tabs.addTab(self._curves_tab(), self.tr("Curves"))
        self.tabs.addTab(self._predict_tab(), self.tr("Try new photos"))
        self.layout_.addWidget(self.tabs, 1)

        self.predicting.failed.connect(self.predict_status.setText)
        for chooser in (self.runs, self.compare):
            chooser.dataset = lambda: self.session.index
            chooser.set_source(lambda: self.session.runs_folder)
        self.runs.runChanged.connect(self._run_chosen)
        self.compare.runChanged.connect(lambda _: self._show_curves())
        self.evaluate_button.clicked.connect(self.evaluate)
        self.live_button.clicked.connect(self.open_live)
        follow(session.events.run, self._follow_run, self)
        follow(session.events.runs_folder, lambda *_: self.refresh_runs(), self)
        follow(session.events.finished_run, self._run_finished, self)
        follow(session.events.index, self._dataset_changed, self)
        self._follow_run(session.run)

    # ----- building -----
    def _results_tab(self) -> QWidget:
        page = QWidget()
        split = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        self.accuracy_label = named(QLabel(self.tr("Not evaluated yet.")), "accuracyLabel", self.tr("Accuracy"),
                                    self.tr("The share of validation photos the model got right."))
        self.accuracy_label.setStyleSheet("font-size: 15pt; font-weight: 600; color: palette(link);")
        self.accuracy_label.setWordWrap(True)
        self.class_table = named(QTableWidget(0, 5), "classScores", self.tr("Scores per class"),
                                 self.tr("Precision: of the photos it called this class, how many were. Recall: of "
                                         "the photos of this class, how many it found. F1 combines both."))
        self.class_table.setHorizontalHeaderLabels([self.tr("Class"), self.tr("Precision"), self.tr("Recall"),
                                                    self.tr("F1"), self.tr("Photos")])
        self.class_table.verticalHeader().setVisible(False)
        self.class_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.class_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        left_layout.addWidget(self.class_table, 1)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        matrix_words = styled_label(self.tr("Confusion matrix. Rows: the true class; columns: what the model said. "
                                            "Click a cell to see its photos."), "explain")
        right_layout.addWidget(matrix_words)
        self.fold_in_presentation(matrix_words)  # the matrix's tooltip says the same
        self.matrix = ConfusionMatrixView()
        self.cell_label = styled_label("", "explain", "cellLabel")
        self.cell_images = CaptionedThumbnails("cellImages", self.tr("Photos in the chosen cell"),
                                               self.tr("The photos in the confusion-matrix cell you clicked."),
                                               side=80)
        right_layout.addWidget(self.matrix, 3)
        right_layout.addWidget(self.cell_label)
        right_layout.addWidget(self.cell_images, 2)
        self.matrix.cellChosen.connect(self.show_cell)
        # Presentation mode folds the table away: the confusion matrix gets the width.
        self.scores_drawer = SettingsDrawer(left, title=self.tr("Scores per class"))
        split.addWidget(self.scores_drawer)
        split.addWidget(right)
        split.setSizes([380, 600])
        layout = QVBoxLayout(page)
        layout.addWidget(self.accuracy_label)
        layout.addWidget(split, 1)
        return page

    def _wrong_tab(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(styled_label(
            self.tr("The wrong answers the model was most sure of. They often point at confusing photos, or at "
                    "photos in the wrong class folder."), "explain"))
        self.wrong_gallery = CaptionedThumbnails(
            "mostWrongGallery", self.tr("Most-wrong photos"),
            self.tr("Wrong predictions with the highest confidence: the true class, what the model said, how sure "
                    "it was."),
            side=112)
        layout.addWidget(self.wrong_gallery, 1)
        return page

    def _curves_tab(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.curves_note = styled_label("", "explain", "curvesNote")
        self.curves = TrainingCurves()
        layout.addWidget(self.curves_note)
        layout.addWidget(self.curves, 1)
        return page

    def _predict_tab(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.drop_zone = named(QLabel(self.tr("Drop photos or a folder here")), "dropZone", self.tr("Drop photos here"),
                               self.tr("Drag photos or a folder of photos from your file manager and drop them on "
                                       "this page."))
        self.drop_zone.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.drop_zone.setMinimumHeight(56)
        self.drop_zone.setStyleSheet("QLabel#dropZone { border: 2px dashed palette(link); border-radius: 8px; "
                                     "color: palette(link); font-size: 11pt; background: palette(alternate-base); }")
        buttons = QHBoxLayout()
        self.choose_images_button = named(QPushButton(self.tr("Choose photos…")), "choosePhotosButton",
                                          self.tr("Choose photos"),
                                          self.tr("Pick one or more photo files to try the model on."))
        self.choose_folder_button = named(QPushButton(self.tr("Choose folder…")), "chooseFolderButton",
                                          self.tr("Choose a folder"),
                                          self.tr("Pick a folder: the model looks at every photo in it."))
        self.save_csv_button = named(QPushButton(self.tr("Save CSV…")), "saveCsvButton",
                                     self.tr("Save predictions as CSV"),
                                     self.tr("Save every photo's top classes and probabilities as a table for a "
                                             "spreadsheet."))
        self.save_csv_button.setEnabled(False)
        for b in (self.choose_images_button, self.choose_folder_button, self.save_csv_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.predict_status = styled_label("", "explain", "predictStatus")
        self.prediction_rows = PredictionRows()
        layout.addWidget(self.drop_zone)
        layout.addLayout(buttons)
        layout.addWidget(self.predict_status)
        layout.addWidget(self.prediction_rows, 1)
        self.choose_images_button.clicked.connect(self.choose_images)
        self.choose_folder_button.clicked.connect(self.choose_folder)
        self.save_csv_button.clicked.connect(self.save_csv)
        return page

    # ----- runs -----
    def refresh_runs(self, select: Path | None = None) -> None:
        self.runs.refresh(select)
        self.compare.refresh()

    def _follow_run(self, run_dir: Path | None, _old=None) -> None:
        """The session's run changed (trained, resumed, chosen on another page): show it."""
        self.runs.refresh(run_dir, keep_current=run_dir is not None)
        self.compare.refresh()
        current = self.current_run()
        if (current.path if current else None) != self._shown_run:
            self._run_changed(current)

    def _dataset_changed(self, *_args) -> None:
        """Another dataset on the Data page: runs say again whose they are; Evaluate follows."""
        self.refresh_runs()
        self._run_changed(self.current_run())

    def _run_chosen(self, run: RunInfo | None) -> None:
        self._run_changed(run)
        if run is not None and run.path != self.session.run:
            self.session.run = run.path

    def _run_finished(self, finished, _old=None) -> None:
        """A run just finished training: show it and evaluate its model."""
        if finished is None:
            return
        self.refresh_runs(finished.path)
        self._run_changed(self.current_run())  # the same run may have grown (resumed, fine-tuned)
        self.evaluate()

    def current_run(self) -> RunInfo | None:
        return self.runs.current_run()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh_runs()  # runs trained meanwhile (or from the command line) appear

    def _can_evaluate(self, run: RunInfo | None) -> bool:
        """A run with a model, of the dataset on the Data page (its own photos are the test)."""
        return run is not None and run.folder.has_model() and not of_another_dataset(run, self.session.index)

    def _run_changed(self, run: RunInfo | None) -> None:
        self._shown_run = run.path if run else None
        other = run is not None and of_another_dataset(run, self.session.index)
        self.evaluate_button.setEnabled(run is not None and not self._busy() and not other)
        self._update_live_button(run)
        self.evaluate_button.setToolTip(another_dataset_text(run, self.tr("evaluate it")) if other
                                        else self.tr(EVALUATE_TIP))
        self._show_curves()
        self._clear_results()
        if run is None:
            self.status.setText(self.tr("No training runs yet: train a model on the Train page first."))
            return
        if self._busy() and self.task_run != run.path:
            self.status.setText(self.tr("Still evaluating {run}; its result is saved with that run.").format(
                run=self.task_run.name))
        if not run.folder.has_model():
            if not self._busy():
                self.status.setText(no_model_text(run))
            self.evaluate_button.setEnabled(False)
            return
        saved = load_evaluation(run.path)
        if saved is not None:
            self.show_evaluation(saved)
        if self._busy():
            return
        if other:
            why = another_dataset_text(run, self.tr("evaluate it"))
            self.status.setText(self.tr("Showing its last evaluation. {why}").format(why=why) if saved is not None
                                else why)
        elif saved is not None:
            self.status.setText(self.tr("Showing this run's last evaluation. Press Evaluate to run it again."))
        else:
            self.status.setText(self.tr("Press Evaluate to test this run's model on its validation photos."))

    def _show_curves(self) -> None:
        run = self.current_run()
        self.curves.set_history(run.history if run else [])
        other = self.compare.current_run()
        overlays = {other.name: other.history} if other is not None and run is not None and other.path != run.path else {}
        self.curves.set_overlays(overlays)
        if run is None:
            self.curves_note.setText("")
        elif overlays:
            self.curves_note.setText(self.tr("Solid: {run}. Dashed: {other} (validation).").format(
                run=run.label, other=other.label))
        else:
            note = self.tr("{run}. Choose a run under “Compare with” to draw its curves too.")
            self.curves_note.setText(note.format(run=run.label))

    # ----- evaluation -----
    def _busy(self) -> bool:
        return self.evaluations.is_running()

    def evaluate(self) -> None:
        run = self.current_run()
        if run is None or self._busy():
            return
        if of_another_dataset(run, self.session.index):
            self.status.setText(another_dataset_text(run, self.tr("evaluate it")))
            return
        self.evaluate_button.setEnabled(False)
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.status.setText(self.tr("Checking the photos…"))
        self.task_run = run.path
        self.evaluations.submit(EvaluateRequest(
            run.path, relocated=relocated_dataset(run, self.session), class_map=dict(self.session.class_renames),
            save=self.session.may_write(run.path)))

    def _showing_task_run(self) -> bool:
        run = self.current_run()
        return run is not None and run.path == self.task_run

    def _on_progress(self, event) -> None:
        if not isinstance(event, Progress):
            return
        if event.step == Step.LOADING_MODEL:
            self.progress.setRange(0, 0)
            words = (self.tr("Loading the model…") if self.evaluations.engine.warm else
                     self.tr("Loading the model (TensorFlow starts the first time, a few seconds)…"))
        elif event.total:
            self.progress.setRange(0, event.total)
            self.progress.setValue(event.done)
            words = self.tr("{step}: {done} of {total}").format(step=event.words, done=event.done, total=event.total)
        else:
            return
        if self._showing_task_run():  # another run chosen meanwhile: its page keeps its own words
            self.status.setText(words)

    def _on_evaluated(self, evaluation) -> None:
        if not self._showing_task_run():
            # Another run was chosen meanwhile: this result is not about the run shown. It is
            # saved with its own run (evaluation.json), which shows it when chosen again.
            run = self.current_run()
            if run is not None and run.folder.has_model():
                self.status.setText(self.tr("Finished evaluating {run}; choose it to see its result.").format(
                    run=self.task_run.name))
            return
        if evaluation is None:
            self.status.setText(self.tr("Evaluation stopped."))
            return
        self.show_evaluation(evaluation)
        if evaluation.skipped:
            self.status.setText(self.tr("Evaluated on {source}. {count} file(s) could not be read.").format(
                source=evaluation.source, count=len(evaluation.skipped)))
        else:
            self.status.setText(self.tr("Evaluated on {source}.").format(source=evaluation.source))
        self.evaluationFinished.emit(evaluation)

    def _on_failed(self, message: str) -> None:
        if self._showing_task_run():
            self.status.setText(message)
        elif self.task_run is not None:
            self.status.setText(self.tr("Evaluating {run} failed: {message}").format(run=self.task_run.name,
                                                                                     message=message))

    def _on_refused(self, error) -> None:
        """Classes renamed outside the app: ask which is which, then evaluate with that."""
        if isinstance(error, ClassesChanged) and error.missing and error.added and self._showing_task_run():
            mapping = class_map_dialog.ask_class_map(self, error.missing, error.added)
            if mapping:
                self.session.class_renames = {**self.session.class_renames, **mapping}
                QTimer.singleShot(0, self.evaluate)  # once this request has finished

    def _on_finished(self) -> None:
        self.progress.setVisible(False)
        self.evaluate_button.setEnabled(self._can_evaluate(self.current_run()))

    def _clear_results(self) -> None:
        self.evaluation = None
        self.accuracy_label.setText(self.tr("Not evaluated yet."))
        self.class_table.setRowCount(0)
        self.matrix.setRowCount(0)
        self.matrix.setColumnCount(0)
        self.cell_label.setText("")
        self.cell_images.set_items([], [])
        self.wrong_gallery.set_items([], [])

    def show_evaluation(self, evaluation) -> None:
        self.evaluation = evaluation
        wrong = evaluation.count - int((evaluation.y_pred == evaluation.y_true).sum())
        self.accuracy_label.setText(self.tr("Accuracy {accuracy}: {right} of {count} photos right, {wrong} wrong.")
                                    .format(accuracy=format(evaluation.accuracy, ".1%"), right=evaluation.count - wrong,
                                            count=evaluation.count, wrong=wrong))
        scores = evaluation.per_class
        self.class_table.setRowCount(len(scores))
        for r, s in enumerate(scores):
            cells = [s.name, f"{s.precision:.2f}", f"{s.recall:.2f}", f"{s.f1:.2f}", str(s.support)]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.class_table.setItem(r, c, item)
        self.matrix.set_matrix(evaluation.confusion, evaluation.classes)
        self.cell_label.setText(self.tr("Click a cell of the matrix to see its photos here."))
        self.cell_images.set_items([], [])
        most = evaluation.most_wrong()
        c = evaluation.classes
        caption = self.tr("is {true}, said {said} {percent}")
        tip = self.tr("{file}\nTrue class: {true}\nPredicted: {said} ({percent} sure)")
        self.wrong_gallery.set_items(
            [w.path for w in most],
            [caption.format(true=c[w.true_label], said=c[w.predicted_label], percent=format(w.probability, ".0%"))
             for w in most],
            [tip.format(file=w.path, true=c[w.true_label], said=c[w.predicted_label],
                        percent=format(w.probability, ".1%")) for w in most],
        )
        if not most:
            self.wrong_gallery.setToolTip(self.tr("No wrong answers on the validation photos."))

    def show_cell(self, true_label: int, predicted_label: int) -> None:
        if self.evaluation is None:
            return
        c = self.evaluation.classes
        paths = self.evaluation.cell(true_label, predicted_label)
        text = (self.tr("{count} photo(s) of {true} the model called {said} (right).") if true_label == predicted_label
                else self.tr("{count} photo(s) of {true} the model called {said} (wrong)."))
        self.cell_label.setText(text.format(count=len(paths), true=c[true_label], said=c[predicted_label]))
        self.cell_images.set_items(paths, [p.name for p in paths], [str(p) for p in paths])

    # ----- live prediction -----
    def _update_live_button(self, run: RunInfo | None) -> None:
        has_model = run is not None and run.folder.has_model()
        self.live_button.setEnabled(has_model)
        self.live_button.setToolTip(self.tr(LIVE_TIP) if has_model else no_model_text(run) if run is not None
                                    else self.tr("Train a model on the Train page first, then try it live."))

    def make_live_source(self):
        """The frames live prediction looks at: the webcam (tests and screenshots give generated ones)."""
        return live_view.camera_source()

    def open_live(self) -> live_view.LiveDialog:
        """Try it live: the run's model on the camera, in a window (full-screen when presenting)."""
        if self.live_dialog is not None:
            self.live_dialog.close()
        run = self.current_run()
        dialog = live_view.live_dialog_for_run(
            run.path if run is not None else None, dict(self.session.class_renames), self.session.index,
            self.make_live_source(), self.evaluations.engine, self)
        dialog.finished.connect(lambda _result: self._live_closed(dialog))
        self.live_dialog = dialog
        dialog.open_live()
        return dialog

    def _live_closed(self, dialog) -> None:
        if self.live_dialog is dialog:
            self.live_dialog = None

    # ----- prediction -----
    def choose_images(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, self.tr("Choose photos"), "",
                                                self.tr("Images (*.jpg *.jpeg *.png *.bmp *.gif *.webp)"))
        if files:
            self.predict(files)

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Choose a folder of photos"))
        if folder:
            self.predict([folder])

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_paths(event):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = dropped_paths(event)
        if paths:
            event.acceptProposedAction()
            self.predict([str(p) for p in paths])

    def predict(self, items: list[str]) -> None:
        run = self.current_run()
        self.tabs.setCurrentIndex(3)
        if run is None or not run.folder.has_model():
            self.predict_status.setText(self.tr("Choose a run with a trained model first (train one on the Train "
                                                "page)."))
            return
        self.predict_status.setText(self.tr("Looking at {count} item(s)…").format(count=len(items)))
        self.save_csv_button.setEnabled(False)
        self.predict_run = run.path
        self.predicting.submit(PredictRequest(run.path, tuple(str(i) for i in items)))

    def _predict_progress(self, event) -> None:
        if isinstance(event, Progress):
            self.predict_status.setText(self.tr("Looked at {done} of {total} photo(s)…").format(done=event.done,
                                                                                                total=event.total))

    def _on_predicted(self, result) -> None:
        run = self.current_run()
        if run is None or run.path != self.predict_run:
            self.predict_status.setText(self.tr("Another run was chosen meanwhile: drop the photos again to try it."))
            return
        self.thumbnailing.submit(LocalWork(thumbnails_for, result))

    def _show_predictions(self, answer) -> None:
        result, thumbnails = answer
        self.predictions = result
        self.prediction_rows.set_predictions(result.predictions, thumbnails)
        n = len(result.predictions)
        if n > PredictionRows.MAX_ROWS:
            text = self.tr("Top 3 classes for {count} photo(s) (the first {shown} are shown; Save CSV keeps all).")
        else:
            text = self.tr("Top 3 classes for {count} photo(s).")
        self.predict_status.setText(text.format(count=n, shown=PredictionRows.MAX_ROWS))
        self.save_csv_button.setEnabled(n > 0)
        self.predictionsFinished.emit(result)

    def save_csv(self, path: str | None = None) -> None:
        if self.predictions is None:
            return
        if not path:
            path, _ = QFileDialog.getSaveFileName(self, self.tr("Save predictions"), "predictions.csv",
                                                  self.tr("CSV (*.csv)"))
        if not path:
            return
        from desktop_app.core.errors import UserError

        try:
            self.predictions.save_csv(Path(path))
        except UserError as e:
            self.predict_status.setText(str(e))
            return
        self.predict_status.setText(self.tr("Saved {count} prediction(s) to {path}.").format(
            count=len(self.predictions.predictions), path=path))

    def stop_background_work(self, msecs: int) -> None:
        if self.live_dialog is not None:
            self.live_dialog.close()  # the camera off
        for work in (self.evaluations, self.predicting, self.thumbnailing):
            work.cancel()
        self.thumbnailing.wait(msecs)
        self.cell_images.stop(msecs)
        self.wrong_gallery.stop(msecs)
