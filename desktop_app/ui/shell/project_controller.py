"""Projects in the window: New / Open / Save / Save As / Recent, autosave, unsaved changes.

A project saves the session's settings (``Session.settings()``) and opening one shows
its settings in the session (``apply``); the pages follow the session. "Modified" means
the session differs from what was last saved (or, with no project open, from how the
app started), so settings that change and change back are not unsaved work. With a
project open and autosave on (the default), settings are written a moment after each
change. A project is changed only by the user: another dataset chosen while a project is
open is asked about first (use it in the project, or start a new unsaved project).

Dialogs are attributes (``ask_*``) so tests can answer them.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from desktop_app import APP_NAME
from desktop_app.core.errors import UserError
from desktop_app.core.project import PROJECT_FILE, Project, create_project, open_project
from desktop_app.core.session import STEP_SECTIONS, DatasetChoice, Session, Settings

RECENT_KEY = "projects/recent"
LAST_KEY = "projects/last"
AUTOSAVE_KEY = "projects/autosave"
MAX_RECENT = 8
AUTOSAVE_MS = 1500
USE_IN_PROJECT, NEW_UNSAVED_PROJECT = "use_in_project", "new_unsaved_project"  # answers to ask_dataset_in_project

# The dialogs below are module functions (tests replace them); their texts belong to "ProjectController".


def ask_new_project_folder(parent: QWidget, title: str) -> Path | None:
    """A name for the new project's folder (created by the app)."""
    path, _ = QFileDialog.getSaveFileName(
        parent, title, str(Path.home() / QCoreApplication.translate("ProjectController", "My project")),
        QCoreApplication.translate("ProjectController", "Transfer Studio project folder (*)"),
        options=QFileDialog.Option.DontConfirmOverwrite)
    return Path(path) if path else None


def ask_project_to_open(parent: QWidget) -> Path | None:
    title = QCoreApplication.translate("ProjectController", "Open a project")
    kind = QCoreApplication.translate("ProjectController", "Transfer Studio project ({file})").format(file=PROJECT_FILE)
    path, _ = QFileDialog.getOpenFileName(parent, title, str(Path.home()), kind)
    return Path(path) if path else None


def ask_locate_dataset(parent: QWidget, missing: str) -> Path | None:
    """The project's photos are not where they were: ask where they went."""
    text = QCoreApplication.translate("ProjectController", "This project's photos are not in {folder} any more.")
    box = QMessageBox(QMessageBox.Icon.Warning, APP_NAME, text.format(folder=missing), parent=parent)
    box.setObjectName("locateDatasetDialog")
    box.setInformativeText(QCoreApplication.translate(
        "ProjectController", "The folder may have been moved or renamed, or it is on a USB stick that is not "
                             "plugged in. Show the app where the folder is now, or do it later on the Data page."))
    locate = box.addButton(QCoreApplication.translate("ProjectController", "Locate the folder…"),
                           QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QCoreApplication.translate("ProjectController", "Later"), QMessageBox.ButtonRole.RejectRole)
    box.exec()
    if box.clickedButton() is not locate:
        return None
    folder = QFileDialog.getExistingDirectory(
        parent, QCoreApplication.translate("ProjectController", "Where are this project's photos now?"),
        str(Path.home()))
    return Path(folder) if folder else None


def ask_dataset_in_project(parent: QWidget, project: str, choice: DatasetChoice) -> str | None:
    """Another dataset while a project is open: USE_IN_PROJECT, NEW_UNSAVED_PROJECT, or None
    (Cancel: the project's dataset stays)."""
    folder = QCoreApplication.translate("ProjectController", "the demo dataset") if choice.is_demo \
        else str(choice.folder)
    text = QCoreApplication.translate("ProjectController", "Use {folder} in the project {project}?")
    box = QMessageBox(QMessageBox.Icon.Question, APP_NAME, text.format(folder=folder, project=project), parent=parent)
    box.setObjectName("datasetInProjectDialog")
    box.setInformativeText(QCoreApplication.translate(
        "ProjectController", "The project {project} then trains on these photos and keeps them as its dataset. "
                             "Or start a new unsaved project with them: {project} stays as it was saved.",
    ).format(project=project))
    use = box.addButton(QCoreApplication.translate("ProjectController", "Use in {project}").format(project=project),
                        QMessageBox.ButtonRole.AcceptRole)
    new = box.addButton(QCoreApplication.translate("ProjectController", "Start a new unsaved project"),
                        QMessageBox.ButtonRole.ActionRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(use)
    box.exec()
    return {use: USE_IN_PROJECT, new: NEW_UNSAVED_PROJECT}.get(box.clickedButton())


def ask_save_changes(parent: QWidget, what: str) -> QMessageBox.StandardButton:
    """Save, Discard or Cancel. Looked up at call time, so tests can answer it."""
    return QMessageBox.question(
        parent, APP_NAME, QCoreApplication.translate("ProjectController", "Save the changes to {what}?").format(
            what=what),
        QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
        QMessageBox.StandardButton.Save)


class ProjectController(QObject):
    projectChanged = Signal(object)  # Project | None
    modifiedChanged = Signal(bool)

    def __init__(self, window, session: Session, settings: QSettings | None = None):
        """``window`` is the MainWindow (for dialogs and its title); ``session`` what it shows."""
        super().__init__(window)
        self.window = window
        self.session = session
        self.settings = settings if settings is not None else QSettings()
        self.project: Project | None = None
        self.autosave = bool(self.settings.value(AUTOSAVE_KEY, True, bool))
        self.session_runs: list[Path] = []  # runs trained while no project was open
        self._applying = False
        self._modified = False
        self.ask_new_folder = lambda title: ask_new_project_folder(self.window, title)
        self.ask_open = lambda: ask_project_to_open(self.window)
        self.ask_locate = lambda missing: ask_locate_dataset(self.window, missing)
        self.ask_dataset = lambda choice: ask_dataset_in_project(self.window, self.project.name, choice)
        self._dataset_before: DatasetChoice | None = None  # the project's dataset while its successor is asked about
        self._saved = session.settings()  # how the app started: nothing to save yet
        self._timer = QTimer(self, singleShot=True, interval=AUTOSAVE_MS)
        self._timer.timeout.connect(self._autosave)
        session.events.connect(self._session_changed)
        self._update_title()

    # ------------------------------------------------------------------ session <-> project

    def collect(self) -> Settings:
        """Every setting as the session holds it now."""
        return self.session.settings()

    def apply(self, settings: Settings) -> None:
        """Show ``settings`` (the pages follow the session; the Data page loads the dataset)."""
        self._applying = True
        try:
            self.session.apply(settings)
        finally:
            self._applying = False

    def _session_changed(self, info) -> None:
        name = info.signal.name
        if name == "finished_run":
            self._run_finished(info.args[0])
        if name not in STEP_SECTIONS or self._applying:
            return
        self._update_modified()
        if name == "dataset" and self.project is not None:
            if self._dataset_before is None:
                self._dataset_before = info.args[1]
                QTimer.singleShot(0, self._ask_about_dataset)  # once every page has heard of the choice
        elif self.project is not None and self.autosave:
            self._timer.start()

    def _ask_about_dataset(self) -> None:
        """Use the dataset just chosen in the open project, start a new unsaved project with it,
        or (Cancel) go back to the project's dataset. Nothing is saved before the answer."""
        before = self._dataset_before
        if before is None or self.project is None:
            self._dataset_before = None
            return
        answer = self.ask_dataset(self.session.dataset)
        self._dataset_before = None
        if answer == USE_IN_PROJECT:
            if self.autosave:
                self._timer.start()
        elif answer == NEW_UNSAVED_PROJECT:
            name = self.project.name
            self._set_project(None)  # the session keeps every choice; the project stays as it was saved
            note = self.tr("A new unsaved project; {name} is unchanged.").format(name=name)
            self.window.statusBar().showMessage(note, 8000)
        else:
            self.apply(replace(self.session.settings(), dataset=before))
            self._update_modified()

    def _resolved(self, project: Project) -> Settings:
        """The project's settings with its dataset where it is on this machine (asking if it moved)."""
        missing = project.missing_dataset()
        if missing is not None:
            found = self.ask_locate(missing)
            if found is None:
                return project.settings  # the Data page says the folder is not there
            project.set_dataset(found)
            project.save()
        found = project.dataset_path()
        if found is not None and not project.settings.dataset.is_demo:
            project.set_dataset(found)
        return project.settings

    # ------------------------------------------------------------------ state

    def is_modified(self) -> bool:
        if self.project is None and self.session_runs:
            return True
        return self.collect() != self._saved

    def _update_modified(self) -> None:
        modified = self.is_modified()
        if modified != self._modified:
            self._modified = modified
            self.window.setWindowModified(modified and self.project is not None)  # the title has "[*]"
            self.modifiedChanged.emit(modified)

    def _update_title(self) -> None:
        # "[*]" shows Qt's modified mark; without a project the title is just the app's name.
        self.window.setWindowTitle(self.tr("{project}[*] — {app}").format(project=self.project.name, app=APP_NAME)
                                   if self.project else APP_NAME)
        self.window.setWindowModified(self._modified and self.project is not None)

    def _set_project(self, project: Project | None) -> None:
        self.project = project
        self._timer.stop()
        self.session.runs_folder = project.runs_dir if project else None
        self.session.protected_runs = frozenset(p.resolve() for p in project.outside_runs) if project else frozenset()
        runs = project.run_paths() if project else []
        self.session.run = runs[-1] if runs else None
        if project is not None and project.read_only:
            self.window.statusBar().showMessage(self.tr("Read-only project: runs outside its folder are not changed."))
            self._inform(project.warning)
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
        if self._dataset_before is not None:  # a question about the dataset is open: the answer decides
            return
        if self.project is not None and not self.project.read_only and self.autosave and self.is_modified():
            self._write(self.project)

    def _write(self, project: Project, settings: Settings | None = None) -> bool:
        """Save ``settings`` (default: the session's now) with the project's runs."""
        project.settings = self.collect() if settings is None else settings
        try:
            project.save()
        except OSError as e:
            self._show_error(self.tr("Could not save the project in {folder}: {reason}.").format(
                folder=project.folder, reason=e.strerror or e))
            return False
        self._saved = project.settings
        self._update_modified()
        self.window.statusBar().showMessage(self.tr("Saved {file}").format(file=project.file), 4000)
        return True

    def _run_finished(self, finished) -> None:
        if finished is None:
            return
        if self.project is not None:
            # Record the run with the settings as last saved, not the session's: unsaved (or
            # discarded, when the window closed during training) edits stay unsaved.
            self.project.add_run(finished.path)
            if not self.project.read_only:
                self._write(self.project, self._saved)
        elif finished.path not in self.session_runs:
            self.session_runs.append(finished.path)
            self._update_modified()

    # ------------------------------------------------------------------ actions

    def new_project(self, folder: Path | None = None) -> bool:
        """A fresh project with default settings and the demo dataset."""
        if not self.confirm_discard():
            return False
        folder = folder or self.ask_new_folder(self.tr("Create a new project"))
        if folder is None:
            return False
        try:
            project = create_project(folder, Settings(dataset=DatasetChoice()))
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
        settings = self._resolved(project)
        self._saved = settings
        before = self.session.dataset
        self.apply(settings)
        if self.session.dataset == before:  # the same folder: read it again, it may have changed
            self.window.data_panel.reload()
        self._set_project(project)
        self._update_modified()
        self.window.statusBar().showMessage(self.tr("Opened the project {name}").format(name=project.name), 4000)

    def save(self) -> bool:
        if self.project is None or self.project.read_only:
            return self.save_as()
        return self._write(self.project)

    def save_as(self, folder: Path | None = None) -> bool:
        folder = folder or self.ask_new_folder(self.tr("Save the project as"))
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
            self._show_error(str(e) if isinstance(e, UserError)
                             else self.tr("Could not save the project: {reason}.").format(reason=e))
            return False
        self.session_runs = []
        project.settings = settings
        self._set_project(project)
        return self._write(project)

    def confirm_discard(self) -> bool:
        """Before the work on screen is replaced or the window closes: True to go on."""
        if self.project is not None and self.autosave and not self.project.read_only:
            if not self.is_modified() or self._write(self.project):
                return True
            # Autosave failed (read-only folder, disk full): ask, rather than lose the work.
        if not self.is_modified():
            return True
        what = (self.tr("the project {name}").format(name=self.project.name) if self.project
                else self.tr("your work (it is not in a project yet)"))
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
            menu.addAction(self.tr("No recent projects")).setEnabled(False)

    def _show_error(self, text: str) -> None:
        QMessageBox.warning(self.window, APP_NAME, text)

    def _inform(self, text: str) -> None:
        """A warning that does not stop the work: the box stays open beside the window."""
        box = QMessageBox(QMessageBox.Icon.Warning, APP_NAME, text, parent=self.window)
        box.setObjectName("projectWarning")
        box.setModal(False)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.show()
        self.warning_box = box
