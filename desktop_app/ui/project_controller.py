"""Projects in the window: New / Open / Save / Save As / Recent, autosave, unsaved changes.

The controller reads every setting from the workflow pages into a ``ProjectSettings``
(``collect``) and shows one back in them (``apply``). "Modified" means the pages differ
from what was last saved (or, with no project open, from how the app started), so
settings that change and change back are not unsaved work. With a project open and
autosave on (the default), settings are written a moment after each change.

Dialogs are attributes (``ask_*``) so tests can answer them.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from desktop_app import APP_NAME
from desktop_app.core.dataset import SplitSettings
from desktop_app.core.demo_data import demo_dataset_dir
from desktop_app.core.errors import UserError
from desktop_app.core.project import (
    DEMO, PROJECT_FILE, DatasetRef, ModelChoice, Project, ProjectSettings, TrainingSettings,
    create_project, open_project,
)

RECENT_KEY = "projects/recent"
LAST_KEY = "projects/last"
AUTOSAVE_KEY = "projects/autosave"
MAX_RECENT = 8
AUTOSAVE_MS = 1500


def ask_new_project_folder(parent: QWidget, title: str) -> Path | None:
    """A name for the new project's folder (created by the app)."""
    path, _ = QFileDialog.getSaveFileName(
        parent, title, str(Path.home() / "My project"), "Transfer Studio project folder (*)",
        options=QFileDialog.Option.DontConfirmOverwrite)
    return Path(path) if path else None


def ask_project_to_open(parent: QWidget) -> Path | None:
    path, _ = QFileDialog.getOpenFileName(parent, "Open a project", str(Path.home()),
                                          f"Transfer Studio project ({PROJECT_FILE})")
    return Path(path) if path else None


def ask_locate_dataset(parent: QWidget, missing: str) -> Path | None:
    """The project's photos are not where they were: ask where they went."""
    box = QMessageBox(QMessageBox.Icon.Warning, APP_NAME,
                      f"This project's photos are not in {missing} any more.", parent=parent)
    box.setObjectName("locateDatasetDialog")
    box.setInformativeText("The folder may have been moved or renamed, or it is on a USB stick that is not "
                           "plugged in. Show the app where the folder is now, or do it later on the Data page.")
    locate = box.addButton("Locate the folder…", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Later", QMessageBox.ButtonRole.RejectRole)
    box.exec()
    if box.clickedButton() is not locate:
        return None
    folder = QFileDialog.getExistingDirectory(parent, "Where are this project's photos now?", str(Path.home()))
    return Path(folder) if folder else None


def ask_save_changes(parent: QWidget, what: str) -> QMessageBox.StandardButton:
    """Save, Discard or Cancel. Looked up at call time, so tests can answer it."""
    return QMessageBox.question(
        parent, APP_NAME, f"Save the changes to {what}?",
        QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
        QMessageBox.StandardButton.Save)


class ProjectController(QObject):
    projectChanged = Signal(object)  # Project | None
    modifiedChanged = Signal(bool)

    def __init__(self, window, settings: QSettings | None = None, start_dataset: str | None = None):
        """``window`` is the MainWindow (its panels); ``start_dataset`` what it opened at start."""
        super().__init__(window)
        self.window = window
        self.settings = settings if settings is not None else QSettings()
        self.project: Project | None = None
        self.autosave = bool(self.settings.value(AUTOSAVE_KEY, True, bool))
        self.session_runs: list[Path] = []  # runs trained while no project was open
        self._dataset_unresolved = False
        self._applying = False
        self._modified = False
        self.ask_new_folder = lambda title: ask_new_project_folder(self.window, title)
        self.ask_open = lambda: ask_project_to_open(self.window)
        self.ask_locate = lambda missing: ask_locate_dataset(self.window, missing)
        start_ref = (DatasetRef(DEMO) if start_dataset is None or Path(start_dataset).resolve() == demo_dataset_dir().resolve()
                     else DatasetRef.folder(Path(start_dataset)))
        self._saved = replace(self._collect_pages(), dataset=start_ref)
        self._timer = QTimer(self, singleShot=True, interval=AUTOSAVE_MS)
        self._timer.timeout.connect(self._autosave)
        self._connect_pages()
        self._update_title()

    # ------------------------------------------------------------------ pages <-> settings

    def _connect_pages(self) -> None:
        w = self.window
        data, model, train = w.data_panel, w.model_panel, w.train_panel
        signals = [
            data.splitChanged, w.augment_panel.specChanged, model.specChanged,
            train.epochs.valueChanged, train.batch_size.valueChanged, train.learning_rate.valueChanged,
            train.optimizer.currentIndexChanged, train.fast.toggled, train.fine_tune_box.toggled,
            train.fine_tune_epochs.valueChanged, train.unfreeze.valueChanged, train.fine_tune_lr.valueChanged,
        ]
        for signal in signals:
            signal.connect(self._pages_changed)
        data.datasetChanged.connect(self._dataset_loaded)
        train.runFinished.connect(self._run_finished)

    def _dataset_ref(self) -> DatasetRef | None:
        data = self.window.data_panel
        # Only a fully checked folder counts (datasetChanged comes before the loading task ends,
        # so "is it still loading?" would race); a folder still being read is not chosen yet.
        if data.index is None or not data.index.validated or self._dataset_unresolved:
            return self._saved.dataset  # nothing newer chosen yet: keep what the project says
        root = Path(data.index.root).resolve()
        if root == demo_dataset_dir().resolve():
            return DatasetRef(DEMO)
        return DatasetRef.folder(root, self.project.folder if self.project else None)

    def _collect_pages(self) -> ProjectSettings:
        w = self.window
        split = w.data_panel.split_settings()
        m, t = w.model_panel, w.train_panel
        return ProjectSettings(
            dataset=None,
            split=SplitSettings(float(split.subset_percent), round(float(split.val_fraction), 4), int(split.seed)),
            augmentation=w.augment_panel.spec(),
            model=ModelChoice(m.backbone, m.alpha, m.img_size, m.weights, m.head, m.unfreeze_layers),
            training=TrainingSettings(
                epochs=t.epochs.value(), batch_size=t.batch_size.value(),
                learning_rate=round(t.learning_rate.value(), 8), optimizer=t.optimizer.currentData(),
                fast=t.fast.isChecked(), fine_tune=t.fine_tune_box.isChecked(),
                fine_tune_epochs=t.fine_tune_epochs.value(), unfreeze_layers=t.unfreeze.value(),
                fine_tune_learning_rate=round(t.fine_tune_lr.value(), 8) or None,
            ),
        )

    def collect(self) -> ProjectSettings:
        """Every setting the pages show now."""
        return replace(self._collect_pages(), dataset=self._dataset_ref())

    def apply(self, settings: ProjectSettings) -> None:
        """Show ``settings`` in the pages (the dataset is loaded by ``_load_dataset``)."""
        w = self.window
        self._applying = True
        try:
            s, m, t = settings.split, settings.model, settings.training
            w.data_panel.set_split_settings(s)
            w.augment_panel.set_spec(settings.augmentation)
            mp = w.model_panel
            index = mp.base_combo.findData(m.backbone)
            if index >= 0:
                mp.base_combo.setCurrentIndex(index)
            if m.alpha is not None and mp.alpha_combo.findData(m.alpha) >= 0:
                mp.alpha_combo.setCurrentIndex(mp.alpha_combo.findData(m.alpha))
            mp.size_spin.setValue(m.img_size)
            mp.pooling_combo.setCurrentIndex(max(0, mp.pooling_combo.findData(m.head.pooling)))
            mp.dropout_spin.setValue(m.head.dropout)
            mp.hidden_spin.setValue(m.head.hidden_units)
            (mp.no_weights_radio if m.weights is None else mp.imagenet_radio).setChecked(True)
            mp.set_unfreeze_layers(m.unfreeze_layers)
            t_panel = w.train_panel
            t_panel.epochs.setValue(t.epochs)
            t_panel.batch_size.setValue(t.batch_size)
            t_panel.learning_rate.setValue(t.learning_rate)
            t_panel.optimizer.setCurrentIndex(max(0, t_panel.optimizer.findData(t.optimizer)))
            t_panel.fast.setChecked(t.fast)
            t_panel.fine_tune_box.setChecked(t.fine_tune)
            t_panel.fine_tune_epochs.setValue(t.fine_tune_epochs)
            t_panel.unfreeze.setValue(t.unfreeze_layers)
            t_panel.fine_tune_lr.setValue(t.fine_tune_learning_rate or 0.0)
        finally:
            self._applying = False

    def _load_dataset(self, project: Project) -> None:
        data = self.window.data_panel
        ref = project.settings.dataset
        self._dataset_unresolved = False
        if ref is None:
            return
        if ref.kind == DEMO:
            data.load(None)
            return
        missing = project.missing_dataset()
        if missing is not None:
            found = self.ask_locate(missing)
            if found is None:
                self._dataset_unresolved = True
                data.show_notice(f"This project's photos were in {missing}, which is not there any more. "
                                 "Choose the folder where they are now.", "error")
                return
            project.set_dataset(found)
            self._saved = replace(self._saved, dataset=project.settings.dataset)
            project.save()
        data.load(str(project.dataset_path()))

    # ------------------------------------------------------------------ state

    def is_modified(self) -> bool:
        if self.project is None and self.session_runs:
            return True
        return self.collect() != self._saved

    def _pages_changed(self, *_args) -> None:
        if self._applying:
            return
        self._update_modified()
        if self.project is not None and self.autosave:
            self._timer.start()

    def _dataset_loaded(self, _index) -> None:
        # One slot, in this order: the folder on screen is the dataset now, and only then is
        # "modified" worked out (and autosave started) with it.
        self._dataset_unresolved = False
        self._pages_changed()

    def _update_modified(self) -> None:
        modified = self.is_modified()
        if modified != self._modified:
            self._modified = modified
            self.window.setWindowModified(modified and self.project is not None)  # the title has "[*]"
            self.modifiedChanged.emit(modified)

    def _update_title(self) -> None:
        # "[*]" shows Qt's modified mark; without a project the title is just the app's name.
        self.window.setWindowTitle(f"{self.project.name}[*] — {APP_NAME}" if self.project else APP_NAME)
        self.window.setWindowModified(self._modified and self.project is not None)

    def _set_project(self, project: Project | None) -> None:
        self.project = project
        self._timer.stop()
        train = self.window.train_panel
        train.runs_parent = project.runs_dir if project else None
        runs = project.run_paths() if project else []
        train.show_run(runs[-1] if runs else None)
        if project is not None:
            self._remember(project.folder)
        self._modified = False
        self._update_title()
        self._update_modified()
        self.projectChanged.emit(project)

    def set_autosave(self, on: bool) -> None:
        self.autosave = on
        self.settings.setValue(AUTOSAVE_KEY, on)
        if on and self.project is not None and self.is_modified():
            self._timer.start()

    def _autosave(self) -> None:
        if self.project is not None and self.autosave and self.is_modified():
            self._write(self.project)

    def _write(self, project: Project, settings: ProjectSettings | None = None) -> bool:
        """Save ``settings`` (default: what the pages show now) with the project's runs."""
        project.settings = self.collect() if settings is None else settings
        try:
            project.save()
        except OSError as e:
            self._show_error(f"Could not save the project in {project.folder}: {e.strerror or e}.")
            return False
        self._saved = project.settings
        self._update_modified()
        self.window.statusBar().showMessage(f"Saved {project.file}", 4000)
        return True

    def _run_finished(self, run_dir) -> None:
        if self.project is not None:
            # Record the run with the settings as last saved, not the pages: unsaved (or
            # discarded, when the window closed during training) edits stay unsaved.
            self.project.add_run(Path(run_dir))
            self._write(self.project, self._saved)
        else:
            self.session_runs.append(Path(run_dir))
            self._update_modified()

    # ------------------------------------------------------------------ actions

    def new_project(self, folder: Path | None = None) -> bool:
        """A fresh project with default settings and the demo dataset."""
        if not self.confirm_discard():
            return False
        folder = folder or self.ask_new_folder("Create a new project")
        if folder is None:
            return False
        try:
            project = create_project(folder, ProjectSettings(dataset=DatasetRef(DEMO)))
        except UserError as e:
            self._show_error(str(e))
            return False
        self.session_runs = []
        self._open(project)
        return True

    def open_project(self, path: Path | None = None, ask_first: bool = True) -> bool:
        if ask_first and not self.confirm_discard():
            return False
        path = path or self.ask_open()
        if path is None:
            return False
        try:
            project = open_project(Path(path))
        except UserError as e:
            self._forget(Path(path))
            self._show_error(str(e))
            return False
        self.session_runs = []
        self._open(project)
        return True

    def _open(self, project: Project) -> None:
        self._saved = project.settings
        self.apply(project.settings)
        self._set_project(project)
        self._load_dataset(project)
        self._update_modified()
        self.window.statusBar().showMessage(f"Opened the project {project.name}", 4000)

    def save(self) -> bool:
        if self.project is None:
            return self.save_as()
        return self._write(self.project)

    def save_as(self, folder: Path | None = None) -> bool:
        folder = folder or self.ask_new_folder("Save the project as")
        if folder is None:
            return False
        settings = self.collect()
        try:
            if self.project is None:
                project = create_project(folder, settings)
                for run in self.session_runs:  # what was trained before there was a project
                    target = project.runs_dir / run.name
                    if run.is_dir() and not target.exists():
                        shutil.copytree(run, target)
                        project.add_run(target)
            else:
                self.project.settings = settings
                project = self.project.save_as(folder)
        except (UserError, OSError) as e:
            self._show_error(str(e) if isinstance(e, UserError) else f"Could not save the project: {e}.")
            return False
        self.session_runs = []
        project.settings = settings
        self._set_project(project)
        return self._write(project)

    def confirm_discard(self) -> bool:
        """Before the work on screen is replaced or the window closes: True to go on."""
        if self.project is not None and self.autosave:
            if not self.is_modified() or self._write(self.project):
                return True
            # Autosave failed (read-only folder, disk full): ask, rather than lose the work.
        if not self.is_modified():
            return True
        what = f"the project {self.project.name}" if self.project else "your work (it is not in a project yet)"
        answer = sys.modules[__name__].ask_save_changes(self.window, what)
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def confirm_close(self) -> bool:
        if not self.confirm_discard():
            return False
        self.settings.setValue(LAST_KEY, str(self.project.folder) if self.project else "")
        return True

    # ------------------------------------------------------------------ recent projects

    def recent_projects(self) -> list[str]:
        value = self.settings.value(RECENT_KEY, [])
        if isinstance(value, str):  # QSettings hands back a lone string for a one-item list
            value = [value]
        return [str(v) for v in (value or [])]

    def last_project(self) -> Path | None:
        last = str(self.settings.value(LAST_KEY, "") or "")
        return Path(last) if last and (Path(last) / PROJECT_FILE).is_file() else None

    def _remember(self, folder: Path) -> None:
        entry = str(Path(folder).resolve())
        self.settings.setValue(RECENT_KEY, [entry] + [f for f in self.recent_projects() if f != entry][: MAX_RECENT - 1])

    def _forget(self, folder: Path) -> None:
        entry = str(Path(folder).resolve())
        self.settings.setValue(RECENT_KEY, [f for f in self.recent_projects() if f != entry])

    def fill_recent_menu(self, menu) -> None:
        menu.clear()
        for folder in self.recent_projects():
            action = menu.addAction(folder)
            action.triggered.connect(lambda _=False, f=folder: self.open_project(Path(f)))
        if menu.isEmpty():
            menu.addAction("No recent projects").setEnabled(False)

    def _show_error(self, text: str) -> None:
        QMessageBox.warning(self.window, APP_NAME, text)
