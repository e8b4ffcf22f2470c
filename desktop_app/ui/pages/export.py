"""Step 6, Export: write the model in formats other programs and phones use, checked; lab report."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QBrush, QColor, QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QFileDialog, QGroupBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QProgressBar,
    QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from desktop_app.core.engine import ExportRequest, ReportRequest
from desktop_app.core.events import Progress
from desktop_app.core.export.formats import FORMAT_TITLES
from desktop_app.core.paths import user_data_dir
from desktop_app.core.runs import RunFolder, RunInfo
from desktop_app.core.session import Session
from desktop_app.ui.tasks import Engine, LatestRequest
from desktop_app.ui.widgets.bindings import follow
from desktop_app.ui.widgets.run_chooser import RunChooser, no_model_text
from desktop_app.ui.widgets.step_page import StepPage, named, styled_label

# Which formats start ticked, and a plain-words tooltip for each.
FORMAT_CHOICES = (
    ("keras", True, "The full model in Keras' own format: open it again in Python with keras.saving.load_model."),
    ("savedmodel", True, "A folder TensorFlow Serving and other TensorFlow programs can load, without Keras."),
    ("tflite", True, "A small file for phones and a Raspberry Pi (TensorFlow Lite / LiteRT)."),
    ("tflite-quant", False, "Weights stored as 8-bit numbers: about 4 times smaller and faster, answers very "
                            "slightly different."),
)


class ExportPanel(StepPage):
    """Exports ``session.run`` in the engine, each format checked there; writes its lab report."""

    exportFinished = Signal(object)  # ExportResult
    reportWritten = Signal(object)  # Path of the HTML file

    def __init__(self, session: Session, engine: Engine | None = None, parent: QWidget | None = None):
        super().__init__(
            "6. Export: take your model with you",
            "Save the trained model in formats other programs and phones can use. Each file is loaded back and "
            "tested on a few validation photos, so you know the copy works. The lab report puts your whole "
            "experiment on one web page.",
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
        self.runs = RunChooser("exportRunCombo", "Run to export", "The training run whose best model is exported.")
        top.addWidget(QLabel("Run:"))
        top.addWidget(self.runs, 1)
        self.layout_.addLayout(top)

        columns = QHBoxLayout()
        box = QGroupBox("Formats")
        box_layout = QVBoxLayout(box)
        self.format_checks: dict[str, QCheckBox] = {}
        for key, on, tip in FORMAT_CHOICES:
            title = FORMAT_TITLES[key]
            check = named(QCheckBox(title), f"format_{key.replace('-', '_')}", title, tip)
            check.setChecked(on)
            check.toggled.connect(self._update_buttons)
            self.format_checks[key] = check
            box_layout.addWidget(check)
        box_layout.addWidget(styled_label("labels.txt and a model card (model_card.md and .json) are always "
                                          "written too.", "explain"))
        columns.addWidget(box, 1)

        where = QGroupBox("Where")
        where_layout = QVBoxLayout(where)
        row = QHBoxLayout()
        self.out_edit = named(QLineEdit(), "exportFolderEdit", "Export folder",
                              "The folder the exported files go to. It is created if needed.")
        self.choose_out_button = named(QPushButton("Choose…"), "chooseExportFolderButton", "Choose export folder",
                                       "Pick the folder for the exported files.")
        row.addWidget(self.out_edit, 1)
        row.addWidget(self.choose_out_button)
        where_layout.addLayout(row)
        buttons = QHBoxLayout()
        self.export_button = named(QPushButton("Export"), "exportButton", "Export the model",
                                   "Write the chosen formats and check each one by loading it back.")
        self.export_button.setStyleSheet("font-weight: 600;")
        self.open_folder_button = named(QPushButton("Open folder"), "openExportFolderButton", "Open export folder",
                                        "Show the exported files in your file manager.")
        self.report_button = named(QPushButton("Write lab report"), "reportButton", "Write the lab report",
                                   "Write one web page with the dataset, augmentation, model, curves, confusion "
                                   "matrix and most-wrong photos, and open it in your browser.")
        for b in (self.export_button, self.open_folder_button, self.report_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        where_layout.addLayout(buttons)
        columns.addWidget(where, 2)
        self.layout_.addLayout(columns)

        status_row = QHBoxLayout()
        self.progress = named(QProgressBar(), "exportProgress", "Export progress", "Formats written and checked.")
        self.progress.setMaximumWidth(260)
        self.progress.setVisible(False)
        self.status = styled_label("", "explain", "exportStatus")
        status_row.addWidget(self.progress)
        status_row.addWidget(self.status, 1)
        self.layout_.addLayout(status_row)

        self.results = named(QTableWidget(0, 4), "exportResults", "Export check results",
                             "Each exported file, and whether loading it back gave the same answers as the "
                             "trained model.")
        self.results.setHorizontalHeaderLabels(["Format", "File", "Check", "What the check found"])
        self.results.verticalHeader().setVisible(False)
        self.results.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.results.setWordWrap(True)
        header = self.results.horizontalHeader()
        for col in (0, 1, 2):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.layout_.addWidget(self.results, 1)
        self.notes = styled_label("", "explain", "exportNotes")
        self.layout_.addWidget(self.notes)

        self.runs.set_source(lambda: self.session.runs_folder)
        self.runs.runChanged.connect(self._run_chosen)
        self.choose_out_button.clicked.connect(self.choose_folder)
        self.export_button.clicked.connect(self.export)
        self.open_folder_button.clicked.connect(self.open_folder)
        self.report_button.clicked.connect(self.write_report)
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

    def formats(self) -> list[str]:
        return [key for key, check in self.format_checks.items() if check.isChecked()]

    def _busy(self) -> bool:
        return self.work.is_running()

    def _run_changed(self, run: RunInfo | None) -> None:
        self.out_edit.setText(str(self._own_folder(run) / "export") if run is not None else "")
        self.results.setRowCount(0)
        self.notes.setText("")
        if run is None:
            self.status.setText("No training runs yet: train a model on the Train page first.")
        elif not run.folder.has_model():
            self.status.setText(no_model_text(run))
        else:
            self.status.setText("Choose the formats and press Export.")
        self._update_buttons()

    def _update_buttons(self) -> None:
        run = self.current_run()
        ready = run is not None and run.folder.has_model() and not self._busy()
        self.runs.setEnabled(not self._busy())  # the result in progress belongs to the run shown
        self.export_button.setEnabled(ready and bool(self.formats()))
        self.report_button.setEnabled(ready)
        self.open_folder_button.setEnabled(bool(self.out_edit.text()) and Path(self.out_edit.text()).is_dir())

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose the export folder", self.out_edit.text())
        if folder:
            self.out_edit.setText(folder)
            self._update_buttons()

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
            self.status.setText("Choose a folder for the exported files first.")
            return
        self.results.setRowCount(0)
        self.notes.setText("")
        busy = "Loading the model…" if self.work.engine.warm else \
            "Loading the model (TensorFlow starts the first time, a few seconds)…"
        self._start(ExportRequest(run.path, Path(out).expanduser(), tuple(self.formats())), busy, self._on_exported)

    def write_report(self) -> None:
        run = self.current_run()
        if run is None or self._busy():
            return
        out = None if self.session.may_write(run.path) else self._own_folder(run) / RunFolder.REPORT
        self._start(ReportRequest(run.path, out), "Writing the lab report…", self._on_report)

    def _own_folder(self, run: RunInfo) -> Path:
        """Where this page writes for a run: the run folder, or for a run the app may not write
        into (outside the open project) a folder of its own."""
        return run.path if self.session.may_write(run.path) else user_data_dir() / "exports" / run.name

    def _on_progress(self, event) -> None:
        if isinstance(event, Progress) and event.total:
            self.progress.setRange(0, event.total)
            self.progress.setValue(event.done)
            self.status.setText(f"{event.words}…")

    def _on_finished(self) -> None:
        self.progress.setVisible(False)
        self._update_buttons()

    def _on_exported(self, result) -> None:
        if result is None:
            self.status.setText("Export stopped.")
            return
        self.result = result
        self.results.setRowCount(len(result.checks))
        for r, check in enumerate(result.checks):
            mark = QTableWidgetItem("✔ passed" if check.ok else "✘ failed")
            mark.setForeground(QBrush(QColor("#2b8a3e" if check.ok else "#c92a2a")))
            size = f" ({check.size_bytes / 1e6:.1f} MB)" if check.size_bytes else ""
            cells = [QTableWidgetItem(check.title), QTableWidgetItem(check.path.name + size), mark,
                     QTableWidgetItem(check.detail)]
            for c, item in enumerate(cells):
                item.setToolTip(check.detail if c == 3 else str(check.path))
                self.results.setItem(r, c, item)
        self.results.resizeRowsToContents()
        self.notes.setText(" ".join(result.notes))
        verdict = "All checks passed." if result.ok else "Some checks failed; see the table."
        self.status.setText(f"{result.summary()} {verdict}")
        self.exportFinished.emit(result)

    def _on_report(self, path) -> None:
        if path is None:
            self.status.setText("The lab report was stopped.")
            return
        self.status.setText(f"Wrote the lab report: {path}")
        self.reportWritten.emit(path)
        self.open_url(QUrl.fromLocalFile(str(path)))

    def stop_background_work(self, msecs: int) -> None:
        self.work.cancel()
