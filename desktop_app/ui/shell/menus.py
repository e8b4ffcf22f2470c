"""Desktop conventions for the main window: project actions in File, Edit and View menus,
step-by-step keyboard navigation, "What is this?" help per page, the About box.

Kept out of ``main_window.py`` so the window stays about navigation and wiring.
"""

from __future__ import annotations

import importlib.metadata
import platform

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QCoreApplication, QObject, Qt, QUrl, qVersion
from PySide6.QtGui import QAction, QActionGroup, QDesktopServices, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView, QApplication, QMenu, QMessageBox, QTableWidget, QWhatsThis,
)

from desktop_app import APP_NAME, __version__
from desktop_app.core.session import Settings
from desktop_app.ui.shell.steps import STEPS, step_help, step_title
from desktop_app.ui.shell.theme import MODE_TITLES, MODES, ThemeManager, theme_manager

def library_versions(engine_info=None) -> dict[str, str]:
    """Versions without importing TensorFlow here: the engine's, else the installed metadata."""
    versions = {}
    for name, dist in (("TensorFlow", "tensorflow"), ("Keras", "keras"), ("pyqtgraph", "pyqtgraph")):
        try:
            versions[name] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = QCoreApplication.translate("DesktopActions", "unknown")
    if engine_info is not None:
        versions.update(TensorFlow=engine_info.tensorflow, Keras=engine_info.keras)
    versions["Qt"] = qVersion()
    versions["Qt for Python"] = pyside_version
    versions["Python"] = platform.python_version()
    return versions


def about_html(engine_info=None) -> str:
    rows = "".join(f"<tr><td>{name}</td><td>&nbsp;{version}</td></tr>"
                   for name, version in library_versions(engine_info).items())
    what = QCoreApplication.translate("DesktopActions", "Train image classifiers by transfer learning, without "
                                                        "programming.")
    return f"<h3>{APP_NAME} {__version__}</h3><p>{what}</p><table>{rows}</table>"


def copy_from_focus() -> bool:
    """Edit → Copy: the focused widget's selection; tables copy their selected cells as TSV."""
    widget = QApplication.focusWidget()
    if widget is None:
        return False
    if isinstance(widget, QTableWidget):
        ranges = widget.selectedRanges()
        if not ranges:
            return False
        r = ranges[0]
        lines = ["\t".join((widget.item(row, col).text() if widget.item(row, col) else "")
                           for col in range(r.leftColumn(), r.rightColumn() + 1))
                 for row in range(r.topRow(), r.bottomRow() + 1)]
        QGuiApplication.clipboard().setText("\n".join(lines))
        return True
    if isinstance(widget, QAbstractItemView):
        texts = [str(i.data()) for i in widget.selectedIndexes() if i.data() is not None]
        if texts:
            QGuiApplication.clipboard().setText("\n".join(texts))
            return True
        return False
    copy = getattr(widget, "copy", None)
    if callable(copy):
        copy()
        return True
    return False


def _action(parent: QObject, text: str, slot, shortcut=None, tip: str = "") -> QAction:
    action = QAction(text, parent)
    if shortcut is not None:
        if isinstance(shortcut, (list, tuple)):
            action.setShortcuts([QKeySequence(s) for s in shortcut])
        else:
            action.setShortcut(QKeySequence(shortcut))
    if tip:
        action.setToolTip(tip)
        action.setStatusTip(tip)
    action.triggered.connect(slot)
    return action


def _menu(window, name: str) -> QMenu | None:
    """The menu bar's menu called ``name`` (its object name: the title is translated). Found as a
    child, not through ``QAction.menu()``, whose wrapper PySide6 before 6.11 lets go of the menu."""
    return window.menuBar().findChild(QMenu, name)


class DesktopActions(QObject):
    """Adds the menus and shortcuts; ``window`` must already have its File, Go and Help menus."""

    def __init__(self, window, theme: ThemeManager | None = None):
        super().__init__(window)
        self.window = window
        self.theme = theme or theme_manager()
        self._add_file_actions()
        self._add_edit_menu()
        self._add_view_menu()
        self._add_go_actions()
        self._add_help_actions()
        self._add_page_help()

    # ---- File ----
    def _add_file_actions(self) -> None:
        w, projects = self.window, self.window.projects
        menu = _menu(w, "fileMenu")
        first = menu.actions()[0] if menu.actions() else None
        self.new_action = _action(w, self.tr("&New project…"), lambda: projects.new_project(),
                                  QKeySequence.StandardKey.New,
                                  self.tr("Start a project: a folder that keeps your settings and training runs."))
        self.open_action = _action(w, self.tr("&Open project…"), lambda: projects.open_project(),
                                   QKeySequence.StandardKey.Open, self.tr("Open a project you saved before."))
        self.recent_menu = QMenu(self.tr("Open &recent project"), w)
        self.recent_menu.setObjectName("recentProjectsMenu")
        self.recent_menu.aboutToShow.connect(lambda: projects.fill_recent_menu(self.recent_menu))
        projects.fill_recent_menu(self.recent_menu)
        self.save_action = _action(w, self.tr("&Save project"), lambda: projects.save(), QKeySequence.StandardKey.Save,
                                   self.tr("Save the settings of every step into the project."))
        self.save_as_action = _action(w, self.tr("Save project &as…"), lambda: projects.save_as(),
                                      QKeySequence.StandardKey.SaveAs,
                                      self.tr("Save a copy of the project, with its runs, in another folder."))
        self.autosave_action = _action(w, self.tr("Save settings &automatically"), projects.set_autosave,
                                       tip=self.tr("Save a project's settings a moment after each change."))
        self.autosave_action.setCheckable(True)
        self.autosave_action.setChecked(projects.autosave)
        for action in (self.new_action, self.open_action):
            menu.insertAction(first, action)
        menu.insertMenu(first, self.recent_menu)
        for action in (self.save_action, self.save_as_action, self.autosave_action):
            menu.insertAction(first, action)
        menu.insertSeparator(first)

    # ---- Edit ----
    def _add_edit_menu(self) -> None:
        w = self.window
        menu = QMenu(self.tr("&Edit"), w)
        menu.setObjectName("editMenu")
        menu.addAction(w.data_panel.undo_action)  # Undo of a deletion on the Data page (Ctrl+Z there)
        menu.addSeparator()
        self.copy_action = _action(w, self.tr("&Copy"), copy_from_focus, QKeySequence.StandardKey.Copy,
                                   self.tr("Copy the selected text or table cells."))
        # Text fields handle Ctrl+C themselves first; this reaches tables and lists.
        self.copy_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        menu.addAction(self.copy_action)
        menu.addSeparator()
        self.reset_action = _action(w, self.tr("&Reset settings to defaults"), self._reset_settings,
                                    tip=self.tr("Put every setting of every step back to how the app starts."))
        menu.addAction(self.reset_action)
        self.preferences_action = _action(w, self.tr("&Preferences…"), self.show_preferences,
                                          QKeySequence.StandardKey.Preferences,
                                          self.tr("What the app keeps on this computer (the embedding cache), and "
                                                  "how much."))
        menu.addAction(self.preferences_action)
        w.menuBar().insertMenu(_menu(w, "goMenu").menuAction(), menu)
        self.edit_menu = menu

    def show_preferences(self) -> None:
        from desktop_app.ui.shell.preferences import PreferencesDialog

        PreferencesDialog(self.window).exec()

    def _reset_settings(self) -> None:
        question = self.tr("Put every setting back to its default? Your dataset and training runs stay as they are.")
        answer = QMessageBox.question(self.window, APP_NAME, question)
        if answer == QMessageBox.StandardButton.Yes:
            session = self.window.session
            session.apply(Settings(dataset=session.dataset))

    # ---- View ----
    def _add_view_menu(self) -> None:
        w = self.window
        menu = QMenu(self.tr("&View"), w)
        menu.setObjectName("viewMenu")
        theme_menu = menu.addMenu(self.tr("&Theme"))
        group = QActionGroup(w)
        self.theme_actions: dict[str, QAction] = {}
        for mode in MODES:
            title = QCoreApplication.translate("ThemeManager", MODE_TITLES[mode])
            action = _action(w, title, lambda _=False, m=mode: self.theme and self.theme.set_mode(m))
            action.setCheckable(True)
            action.setChecked(self.theme is not None and self.theme.mode == mode)
            group.addAction(action)
            theme_menu.addAction(action)
            self.theme_actions[mode] = action
        presentation = self.tr("&Presentation mode")
        self.presentation_action = _action(
            w, presentation, self.set_presentation, ["Ctrl+Shift+P", "F5"],
            self.tr("Bigger text, plots and pictures, for a projector (Ctrl+Shift+P or F5)."))
        # A menu shows only an action's first shortcut, unless its text names them after a tab.
        shortcuts = self.presentation_action.shortcuts()
        keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in shortcuts)
        self.presentation_action.setText(presentation + "\t" + keys)
        self.presentation_action.setCheckable(True)
        self.fullscreen_action = _action(w, self.tr("&Full screen"), self._toggle_full_screen,
                                         QKeySequence.StandardKey.FullScreen, self.tr("Use the whole screen (F11)."))
        self.fullscreen_action.setCheckable(True)
        menu.addAction(self.presentation_action)
        menu.addAction(self.fullscreen_action)
        w.menuBar().insertMenu(_menu(w, "goMenu").menuAction(), menu)
        self.view_menu = menu

    def set_presentation(self, on: bool) -> None:
        self.presentation_action.setChecked(on)
        if self.theme is not None:
            self.theme.set_presentation(on)

    def _toggle_full_screen(self, on: bool) -> None:
        self.window.showFullScreen() if on else self.window.showNormal()

    # ---- Go ----
    def _add_go_actions(self) -> None:
        w = self.window
        menu = _menu(w, "goMenu")
        menu.insertSeparator(menu.actions()[0] if menu.actions() else None)
        self.previous_action = _action(w, self.tr("&Previous step"), lambda: self.step_by(-1),
                                       ["Ctrl+PgUp", "Alt+Left"], self.tr("Go to the step before this one."))
        self.next_action = _action(w, self.tr("&Next step"), lambda: self.step_by(1), ["Ctrl+PgDown", "Alt+Right"],
                                   self.tr("Go to the next step."))
        first = menu.actions()[0]
        menu.insertAction(first, self.previous_action)
        menu.insertAction(first, self.next_action)

    def step_by(self, delta: int) -> None:
        steps = self.window.steps
        steps.setCurrentRow(max(0, min(steps.count() - 1, steps.currentRow() + delta)))
        page = self.window.pages.currentWidget()
        if page is not None:
            page.setFocus(Qt.FocusReason.ShortcutFocusReason)

    # ---- Help ----
    def _add_help_actions(self) -> None:
        w = self.window
        menu = _menu(w, "helpMenu")
        first = menu.actions()[0] if menu.actions() else None
        self.step_help_action = _action(w, self.tr("&What is this step?"), self.show_step_help,
                                        QKeySequence.StandardKey.HelpContents,
                                        self.tr("The idea behind the current step."))
        whats_this = QWhatsThis.createAction(w)
        whats_this.setText(self.tr("What's this? (point at a control)"))
        self.welcome_action = _action(w, self.tr("&Welcome…"), self.show_welcome,
                                      tip=self.tr("Show the welcome screen again."))
        self.log_action = _action(w, self.tr("Open the &log folder"), self._open_log_folder,
                                  tip=self.tr("The log helps whoever looks after the app find what went wrong."))
        self.class_check_action = _action(w, self.tr("&Check this computer for class…"), self.show_class_check,
                                          tip=self.tr("Weights, photos, TensorFlow, disk space and camera: is "
                                                      "everything ready for a lesson, and what to do if not."))
        for action in (self.step_help_action, whats_this, self.welcome_action, self.class_check_action,
                       self.log_action):
            menu.insertAction(first, action)
        menu.insertSeparator(first)

    def show_step_help(self) -> None:
        row = self.window.steps.currentRow()
        page = self.window.pages.widget(row)
        QMessageBox.information(self.window, self.tr("What is this? {step}").format(step=step_title(STEPS[row])),
                                page.whatsThis())

    def show_welcome(self) -> None:
        from desktop_app.ui.shell.welcome import PHOTOS, WelcomeDialog, mark_welcome_shown

        dialog = WelcomeDialog(self.window)
        dialog.exec()
        mark_welcome_shown()
        self.window.go_to_step("Data")
        if dialog.choice == PHOTOS:
            self.window.data_panel.choose_folder()
        elif dialog.choice is not None:
            self.window.data_panel.load(None)

    def show_class_check(self) -> None:
        from desktop_app.ui.shell.class_check import ClassCheckDialog

        ClassCheckDialog(self.window.session, self.window.engine, self.window).exec()

    def _open_log_folder(self) -> None:
        from desktop_app.ui.shell.errors import log_dir

        log_dir().mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(log_dir())))

    def _add_page_help(self) -> None:
        w = self.window
        for row, name in enumerate(STEPS):
            page = w.pages.widget(row)
            text = step_help(name)
            page.setWhatsThis(text)
            if hasattr(page, "set_help"):
                page.set_help(text, lambda: self.show_step_help())
            w.steps.item(row).setWhatsThis(text)


def install_desktop_actions(window, theme: ThemeManager | None = None) -> DesktopActions:
    return DesktopActions(window, theme)

