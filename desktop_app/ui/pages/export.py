"""Step 6, Export: write the model in formats other programs and phones use, checked; lab report."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt, QUrl, Signal
from PySide6.QtGui import QBrush, QColor, QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QFileDialog, QGroupBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QMessageBox,
    QProgressBar, QPushButton, QSizePolicy, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from desktop_app.core.engine import ExportRequest, ReportRequest
from desktop_app.core.events import Progress
from desktop_app.core.export.check import percent
from desktop_app.core.export.folder import existing_files
from desktop_app.core.export.formats import FORMAT_TITLES, available_formats
from desktop_app.core.model.runtimes import ONNX_EXTRA
from desktop_app.core.paths import user_data_dir
from desktop_app.core.runs import RunFolder, RunInfo
from desktop_app.core.session import Session
from desktop_app.ui.tasks import Engine, LatestRequest
from desktop_app.ui.widgets.bindings import follow
from desktop_app.ui.widgets.run_chooser import RunChooser, no_model_text
from desktop_app.ui.widgets.step_page import StepPage, named, styled_label

# Which formats start ticked, and a plain-words tooltip for each (translated where shown).
FORMAT_CHOICES = (  # two columns of three: TensorFlow and ONNX programs, then phones and chips
    ("keras", True, QT_TRANSLATE_NOOP("ExportPanel", "The full model in Keras' own format: open it again in Python "
                                                     "with keras.saving.load_model.")),
    ("savedmodel", True, QT_TRANSLATE_NOOP("ExportPanel", "A folder TensorFlow Serving and other TensorFlow programs "
                                                          "can load, without Keras.")),
    ("onnx", False, QT_TRANSLATE_NOOP("ExportPanel", "ONNX: opens in ONNX Runtime, Windows ML, OpenCV and many "
                                                     "other programs that are not TensorFlow.")),
    ("tflite", True, QT_TRANSLATE_NOOP("ExportPanel", "A small file for phones and a Raspberry Pi (TensorFlow Lite / "
                                                      "LiteRT).")),
    ("tflite-quant", False, QT_TRANSLATE_NOOP("ExportPanel", "Weights stored as 8-bit numbers: about 4 times smaller, "
                                                             "takes the same photos; a few answers may change.")),
    ("tflite-int8", False, QT_TRANSLATE_NOOP("ExportPanel", "Everything in 8-bit integers, for chips that only do "
                                                            "integer maths (Coral Edge TPU, many phone NPUs, "
                                                            "microcontrollers). The check shows how many answers "
                                                            "stay the same.")),
)

VERDICT_COLOURS = {"ok": "#2b8a3e", "caution": "#b35c00", "failed": "#c92a2a"}  # readable on light and dark rows


def confirm_replace(parent: QWidget, folder: Path, names: list[str]) -> bool:
    """Whether the user lets the files in ``folder`` go to the trash. Tests replace this function."""
    shown = ", ".join(names[:5]) + ("…" if len(names) > 5 else "")
    answer = QMessageBox.question(
        parent, QCoreApplication.translate("ExportPanel", "Replace the files in this folder?"),
        QCoreApplication.translate(
            "ExportPanel", "{folder} already holds files ({names}). An export never mixes with other files: move them "
                           "to the trash (you can take them back from there) and export here?").format(
            folder=folder, names=shown),
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
    return answer == QMessageBox.StandardButton.Yes


class ExportPanel(StepPage):
    """Exports ``session.run`` in the engine, each format checked there; writes its lab report."""

    wraps_to_fit = True  # on a projector its boxes and table are taller than the screen: the page scrolls

    exportFinished = Signal(object)  # ExportResult
    reportWritten = Signal(object)  # Path of the HTML file

    def __init__(self, session: Session, engine: Engine | None = None, parent: QWidget | None = None):
        super().__init__(  # not self.tr: the QObject does not exist before this call
            QCoreApplication.translate("ExportPanel", "6. Export: take your model with you"),
            QCoreApplication.translate(
                "ExportPanel",
                "Save the trained model in formats other programs and phones can use. Each file is run on the "
                "validation photos (up to 500) and compared with the trained model, so you know how well the copy "
                "works. The lab report puts your whole experiment on one web page."),
            parent,
        )
        self.session = session
        self.work = LatestRequest(engine, parent=self)
        self.work.progress.connect(self._on_progress)
        self.work.failed.connect(lambda text: self.status.setText(text))
        self.work.finished.connect(self._on_finished)
        self._on_success = None
        self.work.succeeded.connect(lambda result: self._on_success(result))
        self.result = None
        # Replaced in tests: opening a browser is the system's job.
        self.open_url = QDesktopServices.openUrl

        top = QHBoxLayout()
        self.runs = RunChooser("exportRunCombo", self.tr("Run to export"),
                               self.tr("The training run whose best model is exported."))
        top.addWidget(QLabel(self.tr("Run:")))
        top.addWidget(self.runs, 1)
        self.layout_.addLayout(top)

        columns = QHBoxLayout()
        box = self.formats_box = QGroupBox(self.tr("Formats"))
        box_layout = QVBoxLayout(box)
        # Two columns, so the result table below gets the height; one on a projector.
        format_columns = QHBoxLayout()
        halves = [QVBoxLayout(), QVBoxLayout()]
        for half in halves:
            format_columns.addLayout(half)
        self.format_checks: dict[str, QCheckBox] = {}
        can_write = available_formats()
        for i, (key, on, tip) in enumerate(FORMAT_CHOICES):
            title = FORMAT_TITLES[key]
            tip = self.tr(tip) if key in can_write else self.tr(
                "Needs the ONNX add-on. Install it with: {command}").format(command=ONNX_EXTRA)
            check = named(QCheckBox(title), f"format_{key.replace('-', '_')}", title, tip)
            check.setChecked(on and key in can_write)
            check.setEnabled(key in can_write)
            check.toggled.connect(self._update_buttons)
            self.format_checks[key] = check
            halves[i // 3].addWidget(check)
        self.stack_in_presentation(format_columns)
        box_layout.addLayout(format_columns)
        box_layout.addWidget(styled_label(self.tr("labels.txt and a model card (model_card.md and .json) are always "
                                                  "written too."), "explain"))
        columns.addWidget(box, 1)
        fixed_height = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        box.setSizePolicy(fixed_height)

        right = QVBoxLayout()
        where = QGroupBox(self.tr("Where"))
        where_layout = QVBoxLayout(where)
        row = QHBoxLayout()
        self.out_edit = named(QLineEdit(), "exportFolderEdit", self.tr("Export folder"),
                              self.tr("The folder the exported files go to. It is created if needed."))
        self.choose_out_button = named(QPushButton(self.tr("Choose…")), "chooseExportFolderButton",
                                       self.tr("Choose export folder"),
                                       self.tr("Pick the folder for the exported files."))
        row.addWidget(self.out_edit, 1)
        row.addWidget(self.choose_out_button)
        where_layout.addLayout(row)
        buttons = QHBoxLayout()
        self.export_button = named(QPushButton(self.tr("Export")), "exportButton", self.tr("Export the model"),
                                   self.tr("Write the chosen formats and check each one by loading it back."))
        self.export_button.setStyleSheet("font-weight: 600;")
        self.open_folder_button = named(QPushButton(self.tr("Open folder")), "openExportFolderButton",
                                        self.tr("Open export folder"),
                                        self.tr("Show the exported files in your file manager."))
        self.report_button = named(QPushButton(self.tr("Write lab report")), "reportButton",
                                   self.tr("Write the lab report"),
                                   self.tr("Write one web page with the dataset, augmentation, model, curves, "
                                           "confusion matrix and most-wrong photos, and open it in your browser."))
        self.open_report_button = named(QPushButton(self.tr("Open lab report")), "openReportButton",
                                        self.tr("Open the lab report"),
                                        self.tr("Open this run's lab report in your web browser again. It is there "
                                                "once “Write lab report” has written it."))
        for b in (self.export_button, self.open_folder_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        where_layout.addLayout(buttons)
        where.setSizePolicy(fixed_height)  # never squeezed: the page scrolls instead
        right.addWidget(where)
        lab = QGroupBox(self.tr("Lab report"))
        lab_layout = QVBoxLayout(lab)
        report_buttons = QHBoxLayout()
        for b in (self.report_button, self.open_report_button):
            report_buttons.addWidget(b)
        report_buttons.addStretch(1)
        lab_layout.addLayout(report_buttons)
        self.report_photos_check = named(
            QCheckBox(self.tr("Put example photos in the lab report")), "reportPhotosCheck",
            self.tr("Example photos in the lab report"),
            self.tr("Off: the report shows no photos, so it can be shared safely when the photos show people "
                    "(children in a class, for example). On: a few photos of each class, the augmentation examples "
                    "and the most-wrong photos."))
        lab_layout.addWidget(self.report_photos_check)
        lab.setSizePolicy(fixed_height)
        right.addWidget(lab)
        right.addStretch(1)
        columns.addLayout(right, 1)
        self.layout_.addLayout(columns)

        status_row = QHBoxLayout()
        self.progress = named(QProgressBar(), "exportProgress", self.tr("Export progress"),
                              self.tr("Formats written and checked."))
        self.progress.setMaximumWidth(260)
        self.progress.setVisible(False)
        self.status = styled_label("", "explain", "exportStatus")
        status_row.addWidget(self.progress)
        status_row.addWidget(self.status, 1)
        self.layout_.addLayout(status_row)

        self.results = named(QTableWidget(0, 5), "exportResults", self.tr("Export check results"),
                             self.tr("Each exported file, and whether loading it back gave the same answers as the "
                                     "trained model."))
        self.results.setHorizontalHeaderLabels([self.tr("Format"), self.tr("File"),
                                                self.tr("Same answers as the trained model"), self.tr("Right"),
                                                self.tr("What the check found")])
        self.results.verticalHeader().setVisible(False)
        self.results.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.results.setWordWrap(False)  # one line a file; the whole sentence is its tooltip
        self.results.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = self.results.horizontalHeader()
        for col in (0, 1, 2, 3):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.layout_.addWidget(self.results, 1)
        self.notes = styled_label("", "explain", "exportNotes")
        self.layout_.addWidget(self.notes)

        self.runs.set_source(lambda: self.session.runs_folder)
        self.runs.runChanged.connect(self._run_chosen)
        self.choose_out_button.clicked.connect(self.choose_folder)
        self.export_button.clicked.connect(self.export)
        self.open_folder_button.clicked.connect(self.open_folder)
        self.report_button.clicked.connect(self.write_report)
        self.open_report_button.clicked.connect(self.open_report)
        follow(session.events.run, self._follow_run, self)
        follow(session.events.runs_folder, lambda *_: self.refresh_runs(), self)
        follow(session.events.finished_run, lambda finished, _old=None: finished and self._follow_run(finished.path),
               self)
        self._follow_run(session.run)

    # ----- state -----
    def current_run(self) -> RunInfo | None:
        return self.runs.current_run()

    def _follow_run(self, run_dir: Path | None, _old=None) -> None:
        self.runs.refresh(run_dir, keep_current=run_dir is not None)
        self._run_changed(self.current_run())  # the same run may have a model now

    def _run_chosen(self, run: RunInfo | None) -> None:
        self._run_changed(run)
        if run is not None and run.path != self.session.run:
            self.session.run = run.path

    def refresh_runs(self) -> None:
        self.runs.refresh()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh_runs()
        self._update_buttons()  # a report or export folder made meanwhile (e.g. from the command line)

    def formats(self) -> list[str]:
        return [key for key, check in self.format_checks.items() if check.isChecked()]

    def _busy(self) -> bool:
        return self.work.is_running()

    def _run_changed(self, run: RunInfo | None) -> None:
        self.out_edit.setText(str(self._own_folder(run) / "export") if run is not None else "")
        self.results.setRowCount(0)
        self.notes.setText("")
        if run is None:
            self.status.setText(self.tr("No training runs yet: train a model on the Train page first."))
        elif not run.folder.has_model():
            self.status.setText(no_model_text(run))
        else:
            self.status.setText(self.tr("Choose the formats and press Export."))
        self._update_buttons()

    def _update_buttons(self) -> None:
        run = self.current_run()
        ready = run is not None and run.folder.has_model() and not self._busy()
        self.runs.setEnabled(not self._busy())  # the result in progress belongs to the run shown
        self.export_button.setEnabled(ready and bool(self.formats()))
        self.report_button.setEnabled(ready)
        self.open_folder_button.setEnabled(bool(self.out_edit.text()) and Path(self.out_edit.text()).is_dir())
        self.open_report_button.setEnabled(run is not None and self._report_path(run).is_file())

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Choose the export folder"), self.out_edit.text())
        if folder:
            self.out_edit.setText(folder)
            self._update_buttons()

    def open_report(self) -> None:
        run = self.current_run()
        if run is not None and self._report_path(run).is_file():
            self.open_url(QUrl.fromLocalFile(str(self._report_path(run))))

    def open_folder(self) -> None:
        if self.out_edit.text():
            self.open_url(QUrl.fromLocalFile(self.out_edit.text()))

    # ----- work, in the engine -----
    def _start(self, request, busy_text: str, on_success) -> None:
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.status.setText(busy_text)
        self._on_success = on_success
        self.work.submit(request)
        self._update_buttons()

    def export(self) -> None:
        run = self.current_run()
        if run is None or self._busy() or not self.formats():
            return
        out = self.out_edit.text().strip()
        if not out:
            self.status.setText(self.tr("Choose a folder for the exported files first."))
            return
        folder = Path(out).expanduser()
        names = existing_files(folder)
        if names and not confirm_replace(self, folder, names):
            self.status.setText(self.tr("Nothing exported: the folder already holds files. Choose another folder."))
            return
        self.results.setRowCount(0)
        self.notes.setText("")
        busy = self.tr("Loading the model…") if self.work.engine.warm else \
            self.tr("Loading the model (TensorFlow starts the first time, a few seconds)…")
        self._start(ExportRequest(run.path, folder, tuple(self.formats()), replace=bool(names)), busy,
                    self._on_exported)

    def write_report(self) -> None:
        run = self.current_run()
        if run is None or self._busy():
            return
        out = None if self.session.may_write(run.path) else self._report_path(run)
        self._start(ReportRequest(run.path, out, photos=self.report_photos_check.isChecked()),
                    self.tr("Writing the lab report…"), self._on_report)

    def _own_folder(self, run: RunInfo) -> Path:
        """Where this page writes for a run: the run folder, or for a run the app may not write
        into (outside the open project) a folder of its own."""
        return run.path if self.session.may_write(run.path) else user_data_dir() / "exports" / run.name

    def _report_path(self, run: RunInfo) -> Path:
        """Where this page writes (and finds) a run's lab report."""
        return self._own_folder(run) / RunFolder.REPORT

    def _on_progress(self, event) -> None:
        if isinstance(event, Progress) and event.total:
            self.progress.setRange(0, event.total)
            self.progress.setValue(event.done)
            self.status.setText("{}…".format(event.words))  # the words come from core

    def _on_finished(self) -> None:
        self.progress.setVisible(False)
        self._update_buttons()

    def _on_exported(self, result) -> None:
        if result is None:
            self.status.setText(self.tr("Export stopped."))
            return
        self.result = result
        self.results.setRowCount(len(result.checks))
        for r, check in enumerate(result.checks):
            mark = QTableWidgetItem(self._verdict(check))
            state = "failed" if not check.ok else "caution" if check.caution else "ok"
            mark.setForeground(QBrush(QColor(VERDICT_COLOURS[state])))
            file = (self.tr("{file} ({size:.1f} MB)").format(file=check.file, size=check.size_bytes / 1e6)
                    if check.size_bytes else check.file)
            right = percent(check.accuracy) if check.accuracy is not None else "–"
            cells = [QTableWidgetItem(check.title), QTableWidgetItem(file), mark, QTableWidgetItem(right),
                     QTableWidgetItem(check.detail)]
            for c, item in enumerate(cells):
                item.setToolTip(check.detail if c >= 2 else str(result.path(check)))
                self.results.setItem(r, c, item)
        self._show_all_rows()
        self.notes.setText(" ".join(result.notes))
        if not result.ok:
            verdict = self.tr("Some checks failed; see the table.")
        elif any(check.caution for check in result.checks):
            verdict = self.tr("Every file works; one 8-bit file changes more answers than it should (⚠ in the "
                              "table).")
        else:
            verdict = self.tr("All checks passed.")
        self.status.setText("{} {}".format(result.summary(), verdict))  # the summary comes from core
        self.exportFinished.emit(result)

    def _show_all_rows(self) -> None:
        """Tall enough for four files at least (on a projector the page scrolls rather than hide them)."""
        self.results.resizeRowsToContents()
        height = self.results.horizontalHeader().sizeHint().height() + 2 * self.results.frameWidth()
        height += sum(self.results.rowHeight(r) for r in range(min(4, self.results.rowCount())))
        self.results.setMinimumHeight(height + self.results.horizontalScrollBar().sizeHint().height())

    def apply_presentation_scale(self, scale: float) -> None:
        super().apply_presentation_scale(scale)
        self._show_all_rows()  # bigger text, taller rows
        # The format list turned from two columns into one: its box and the page are taller now.
        self.formats_box.layout().invalidate()
        self.formats_box.updateGeometry()
        self.layout_.invalidate()

    def _verdict(self, check) -> str:
        """The agreement in numbers, never just "passed"."""
        if not check.ok:
            return self.tr("✘ failed")
        agreement = self.tr("agrees on {share} of {count} photos").format(share=percent(check.agreement or 0.0),
                                                                         count=check.images)
        return ("⚠ " if check.caution else "✔ ") + agreement

    def _on_report(self, path) -> None:
        if path is None:
            self.status.setText(self.tr("The lab report was stopped."))
            return
        self.status.setText(self.tr("Wrote the lab report: {path}").format(path=path))
        self.reportWritten.emit(path)
        self.open_url(QUrl.fromLocalFile(str(path)))

    def stop_background_work(self, msecs: int) -> None:
        self.work.cancel()
