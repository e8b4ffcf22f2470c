"""Step 1, Data: choose a folder of photos, see what is in it, and choose what to train on.

Scanning and checking run in one background task: the listing appears at once, the
check of every file follows with progress, then the page shows the usable images and
the bad files with their reasons. Thumbnails decode on their own threads, lazily.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import (
    QT_TRANSLATE_NOOP, QCoreApplication, QEvent, QProcess, QSettings, QSignalBlocker, Qt, QTimer, QUrl, Signal,
)
from PySide6.QtGui import (
    QAction, QBrush, QColor, QDesktopServices, QDragEnterEvent, QDropEvent, QFontMetrics, QKeySequence,
)
from PySide6.QtWidgets import (
    QAbstractItemView, QButtonGroup, QDoubleSpinBox, QFileDialog, QGridLayout, QGroupBox, QInputDialog,
    QHBoxLayout, QHeaderView, QLabel, QLineEdit, QListWidget, QListWidgetItem, QMenu, QProgressBar,
    QPushButton, QSpinBox, QSplitter, QTableWidget, QTableWidgetItem, QTabWidget, QToolButton,
    QVBoxLayout, QWidget,
)

from desktop_app.core import palette
from desktop_app.core.data.demo import demo_dataset_dir, ensure_demo_dataset
from desktop_app.core.data import edits
from desktop_app.core.data.edits import photo_folder
from desktop_app.core.data.scan import EMPTY_CLASSES_WARNING, IMAGE_EXTENSIONS, DatasetIndex, scan_folder
from desktop_app.core.data.split import Split, make_split
from desktop_app.core.data.validate import ValidationProgress, validate_index
from desktop_app.core.errors import UserError
from desktop_app.core.session import DatasetChoice, Session
from desktop_app.ui.tasks import LatestRequest, LocalWork
from desktop_app.ui.widgets.bindings import bind, follow
from desktop_app.ui.widgets.capture_view import CaptureView
from desktop_app.ui.widgets.drops import dropped_folder, dropped_paths
from desktop_app.ui.widgets.step_page import StepPage, named, set_role, styled_label
from desktop_app.ui.widgets.thumbnail_grid import ThumbnailGrid

# Column titles, translated where shown; the folder names stay as they are on disk.
SPLIT_TITLES = {"pool": QT_TRANSLATE_NOOP("DataPanel", "In folder"), "train": "train/", "val": "val/", "test": "test/"}
SUBSET_CHOICES = (1.0, 10.0, 100.0)
IMBALANCE_LIMIT = 3.0
RECENT_KEY = "data/recentFolders"
MAX_RECENT = 8
TRAIN_COLOUR, VAL_COLOUR = palette.TRAINING, palette.VALIDATION


def load_dataset(choice: DatasetChoice, report, should_stop) -> DatasetIndex:
    """Worker body: list the folder (making the demo dataset first when it is chosen), hand
    the listing over at once, then check every file and return the validated index."""
    if choice.is_demo:
        report(QCoreApplication.translate("DataPanel", "Preparing the demo dataset…"))
    folder = ensure_demo_dataset() if choice.is_demo else choice.folder
    report(QCoreApplication.translate("DataPanel", "Reading {folder}…").format(folder=folder))
    index = scan_folder(folder, strict=False)  # a dataset being made in the app: shown, then filled
    report(index)
    return validate_index(index, report=report, should_stop=should_stop)


def dataset_choice(folder: str | Path | None) -> DatasetChoice:
    """What choosing ``folder`` means; the demo dataset's own folder (or None) is the demo."""
    if folder is None:
        return DatasetChoice()
    path = Path(folder).expanduser().resolve()
    return DatasetChoice(None if path == demo_dataset_dir().resolve() else path)


def reveal_in_file_manager(path: Path) -> None:
    """Open the file's folder, with the file selected where the platform can."""
    if sys.platform == "win32":
        QProcess.startDetached("explorer", ["/select,", str(path)])
    elif sys.platform == "darwin":
        QProcess.startDetached("open", ["-R", str(path)])
    else:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path.parent)))


def ask_text(parent: QWidget, title: str, label: str, text: str = "") -> str | None:
    """A line the user types (a class or dataset name); None when they cancel. Tests replace it."""
    value, ok = QInputDialog.getText(parent, title, label, QLineEdit.EchoMode.Normal, text)
    return value if ok else None


def ask_photo_files(parent: QWidget, title: str, start: str) -> list[Path]:
    """Image files the user picks; [] when they cancel. Tests replace it."""
    patterns = " ".join(f"*{ext}" for ext in sorted(IMAGE_EXTENSIONS))
    files, _ = QFileDialog.getOpenFileNames(
        parent, title, start, QCoreApplication.translate("DataPanel", "Photos ({patterns})").format(patterns=patterns))
    return [Path(f) for f in files]


class DataPanel(StepPage):
    """Shows ``session.dataset`` and ``session.split``; publishes the checked folder as ``session.index``."""

    wraps_to_fit = True  # its split sentences are long: on a small screen the page scrolls instead
    trainRequested = Signal()  # "Train with these photos": the main window trains them at once
    classSelected = Signal(str)  # the class chosen in the Photos tab ("" for none)

    def __init__(self, session: Session, parent: QWidget | None = None, settings: QSettings | None = None):
        super().__init__(  # not self.tr: the QObject does not exist before this call
            QCoreApplication.translate("DataPanel", "1. Data: your photos"),
            QCoreApplication.translate(
                "DataPanel",
                "Choose a folder that holds one sub-folder per class, for example cats/ and dogs/ "
                "(or drag the folder onto this page). Each sub-folder's name becomes a class the model learns."),
            parent,
        )
        self.session = session
        self.settings = settings if settings is not None else QSettings()
        self.shown: DatasetIndex | None = None  # the listing on screen (checked or still being checked)
        self.split: Split | None = None
        self.loader = LatestRequest(parent=self)
        self.loader.progress.connect(self._on_progress)
        self.loader.succeeded.connect(self._on_validated)
        self.loader.failed.connect(self._show_error)
        self.loader.finished.connect(lambda: self._set_busy(self.loader.is_running()))
        self.reveal = reveal_in_file_manager
        self.setAcceptDrops(True)

        self.shelf = edits.UndoShelf()  # the last deletion, for Undo; the trash gets it later
        self._default_undo_folder = self.shelf.folder
        self._undo_note = ""  # what Undo will say it brought back
        self.layout_.addLayout(self._build_folder_row())
        self.layout_.addLayout(self._build_edit_row())
        self.busy = QProgressBar(objectName="scanProgress", maximum=0, textVisible=True)
        self.busy.setAccessibleName(self.tr("Checking the images"))
        self.busy.setFormat("")
        self.busy.setMaximumHeight(20)
        self.busy.hide()
        self.layout_.addWidget(self.busy)

        self.summary = styled_label(self.tr("No folder yet. Choose one, drop one here, or try the demo dataset."),
                                    "summary", "datasetSummary")
        self.summary.setStyleSheet("font-size: 14pt; font-weight: 600;")
        # Beside what the folder holds: train on exactly these photos, at once.
        self.train_button = named(QPushButton(self.tr("Train with these photos")), "trainNowButton",
                                  self.tr("Train with these photos"),
                                  self.tr("Go straight to a trained model: a fast base whose weights are on this "
                                          "computer and the Quick experiment settings. The Model and Train pages "
                                          "keep every setting."))
        self.train_button.clicked.connect(self.trainRequested)
        summary_row = QHBoxLayout()
        summary_row.addWidget(self.summary, 1)
        summary_row.addWidget(self.train_button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.layout_.addLayout(summary_row)
        self.message = styled_label("", "warning", "datasetMessage")
        self.message.hide()
        self.layout_.addWidget(self.message)

        self.tabs = QTabWidget(objectName="dataTabs")
        self.tabs.setAccessibleName(self.tr("Dataset views"))
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self._build_classes_tab(), self.tr("Classes and split"))
        self.tabs.addTab(self._build_photos_tab(), self.tr("Photos"))
        self.tabs.addTab(self._build_problems_tab(), self.tr("Problems"))
        self.tabs.setTabToolTip(0, self.tr("How many photos each class has, and which ones the model learns from."))
        self.tabs.setTabToolTip(1, self.tr("Look through the photos of each class."))
        self.tabs.setTabToolTip(2, self.tr("Files that cannot be used, and why."))
        self.layout_.addWidget(self.tabs, 1)
        self._refresh_recent_menu()
        follow(session.events.dataset, self._dataset_changed, self)
        follow(session.events.split, self._update_split, self)
        self._connect_edit_views()

    # ------------------------------------------------------------------ building

    def _build_folder_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.path_edit = QLineEdit(readOnly=True, placeholderText=self.tr("No folder chosen"))
        named(self.path_edit, "datasetPath", self.tr("Dataset folder"), self.tr("The folder whose photos are used."))
        self.choose_button = QPushButton(self.tr("Choose folder…"))
        named(self.choose_button, "chooseFolderButton", self.tr("Choose folder"),
                      self.tr("Pick the folder whose sub-folders are your classes."))
        self.recent_button = QToolButton(text=self.tr("Recent"))
        named(self.recent_button, "recentFoldersButton", self.tr("Recent folders"),
                      self.tr("Open one of the folders you used before."))
        self.recent_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.recent_menu = QMenu(self.recent_button)
        self.recent_menu.setObjectName("recentFoldersMenu")
        self.recent_button.setMenu(self.recent_menu)
        self.demo_button = QPushButton(self.tr("Use demo dataset"))
        named(self.demo_button, "demoButton", self.tr("Use demo dataset"),
                      self.tr("Coloured shapes made by the app: circles, squares, stars and triangles."))
        row.addWidget(self.path_edit, 1)
        for widget in (self.choose_button, self.recent_button, self.demo_button):
            row.addWidget(widget)
        self.choose_button.clicked.connect(self.choose_folder)
        self.demo_button.clicked.connect(lambda: self.load(None))
        return row

    def _build_edit_row(self) -> QVBoxLayout:
        """Make the dataset in the app: classes, photos, Undo. Each edit changes the folder on disk,
        then the page reads it again; what it did (or why not) shows underneath."""
        column = QVBoxLayout()
        column.setSpacing(4)
        row = QHBoxLayout()
        column.addLayout(row)
        buttons = (
            ("new_dataset_button", self.tr("New dataset…"), "newDatasetButton",
             self.tr("Make an empty dataset folder (in your Pictures folder) and open it; then add classes."),
             self.new_dataset),
            ("new_class_button", self.tr("New class"), "newClassButton",
             self.tr("Make a new, empty class folder; then add photos to it."), self.new_class),
            ("rename_button", self.tr("Rename…"), "renameClassButton",
             self.tr("Rename the selected class. Runs trained before keep working with the new name."),
             self.rename_selected_class),
            ("delete_button", self.tr("Delete"), "deleteButton",
             self.tr("Delete the photos selected in the Photos tab, or else the selected class. Undo (Ctrl+Z) "
                     "brings it back; later it goes to the trash."), self.delete_selected),
            ("add_photos_button", self.tr("Add photos…"), "addPhotosButton",
             self.tr("Copy photos into the selected class (or drop photo files onto a class)."),
             self.add_photos_to_selected),
            ("undo_button", self.tr("Undo"), "undoDeleteButton",
             self.tr("Bring back what was deleted last (Ctrl+Z)."), self.undo_delete),
            ("delete_captured_button", self.tr("Delete camera photos"), "deleteCapturedButton",
             self.tr("Delete every photo taken with the camera in this dataset, in one click (Undo brings them "
                     "back until the next deletion)."), self.delete_captured_photos),
        )
        for attribute, text, name, tip, slot in buttons:
            button = named(QPushButton(text), name, text.rstrip("…"), tip)
            button.clicked.connect(slot)
            setattr(self, attribute, button)
            row.addWidget(button)
            if button is self.new_dataset_button:
                row.addSpacing(12)
        row.insertStretch(row.count() - 1, 1)
        # A projector's big text has no room for all seven: the rarer ones wait outside presentation mode.
        self.fold_in_presentation(self.new_dataset_button, self.rename_button, self.delete_captured_button)
        self.edit_note = styled_label("", "explain", "editNote")
        self.edit_note.hide()
        column.addWidget(self.edit_note)
        # Ctrl+Z on the page; the window's Edit menu shows the same action.
        self.undo_action = QAction(self.tr("&Undo delete"), self, shortcut=QKeySequence.StandardKey.Undo)
        self.undo_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.undo_action.setToolTip(self.tr("Bring back what was deleted last on the Data page."))
        self.undo_action.triggered.connect(self.undo_delete)
        self.addAction(self.undo_action)
        for button in buttons[1:]:  # nothing to change before a folder is open
            getattr(self, button[0]).setEnabled(False)
        self.undo_action.setEnabled(False)
        return column

    # ------------------------------------------------------------------ making the dataset

    def _connect_edit_views(self) -> None:
        """The class table and the Photos tab choose what the edit buttons act on."""
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.currentCellChanged.connect(lambda row, *_: row >= 0 and self.class_list.setCurrentRow(row))
        self.thumbnails.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)  # to delete several
        self.thumbnails.selectionModel().selectionChanged.connect(self._update_edit_buttons)
        delete = QAction(self.tr("Delete the selected photos"), self.thumbnails,
                         shortcut=QKeySequence.StandardKey.Delete)
        delete.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        delete.triggered.connect(self.delete_selected)
        self.thumbnails.addAction(delete)

    def class_at(self, pos) -> str | None:
        """The class under ``pos`` (page coordinates): a row of the class table or of the Photos tab's
        list, or the class whose photos are shown there."""
        widget = self.childAt(pos)
        for view in (self.table, self.class_list):
            if widget is not None and (widget is view.viewport() or view.viewport().isAncestorOf(widget)):
                row = view.indexAt(view.viewport().mapFrom(self, pos)).row()
                listed = self.shown.listed_classes if self.shown is not None else []
                return listed[row] if 0 <= row < len(listed) else None
        if widget is not None and (widget is self.thumbnails.viewport() or self.thumbnails.isAncestorOf(widget)):
            return self.selected_class() or None
        return None

    def editable_root(self) -> Path | None:
        """The dataset folder the edit buttons change: the one shown, never the demo dataset."""
        folder = self.session.dataset.folder
        return folder if folder is not None and folder.is_dir() else None

    def _update_edit_buttons(self) -> None:
        root = self.editable_root() if hasattr(self, "class_list") else None
        chosen = bool(root is not None and self.shown is not None and self.selected_class())
        photos = bool(self._selected_photos())
        for button in (self.new_class_button, self.add_photos_button):
            button.setEnabled(root is not None and (chosen or button is self.new_class_button))
        self.rename_button.setEnabled(chosen)
        self.delete_button.setEnabled(chosen or photos)
        self.delete_button.setText(self.tr("Delete photos") if photos else self.tr("Delete class"))
        self.undo_button.setEnabled(self.shelf.can_undo)
        self.undo_action.setEnabled(self.shelf.can_undo)
        captured = bool(self.shown and root and any(
            f.path.name.startswith(edits.CAPTURE_PREFIX) for f in [*self.shown.files, *self.shown.bad_files]))
        self.delete_captured_button.setEnabled(captured)

    def _selected_photos(self) -> list[Path]:
        if not hasattr(self, "thumbnails"):
            return []
        return [Path(i.data(Qt.ItemDataRole.UserRole)) for i in self.thumbnails.selectionModel().selectedIndexes()]

    def _note(self, text: str, role: str = "explain") -> None:
        set_role(self.edit_note, role)
        self.edit_note.setText(text)
        self.edit_note.setVisible(bool(text))

    def _edit(self, work, show_class: str | None = None) -> bool:
        """Run one edit of the dataset folder; its sentence (or the problem) shows beside the buttons,
        and the page reads the folder again."""
        root = self.editable_root()
        if root is None:
            self._note(self.tr("The demo dataset cannot be changed: make your own with New dataset…"), "warning")
            return False
        # Deleted items wait in the open project's own undo folder (else the app's) until the trash.
        runs = self.session.runs_folder
        self.shelf.folder = Path(runs).parent / "undo" if runs is not None else self._default_undo_folder
        try:
            note = work(root)
        except UserError as e:  # from core: one sentence, already in the user's words
            self._note(str(e), "error")
            return False
        self._note(note)
        if show_class is not None:
            self._chosen_class = show_class
        self.reload()
        return True

    def new_dataset(self) -> None:
        where = self.tr("Name of the new dataset folder (it is made in {folder}):").format(
            folder=edits.default_dataset_parent())
        name = ask_text(self, self.tr("New dataset"), where, self.tr("My photos"))
        if name is None:
            return
        try:
            folder = edits.new_dataset(name)
        except UserError as e:
            self._note(str(e), "error")
            return
        self._note(self.tr("Made the empty dataset {folder}. Press New class to make your first class.").format(
            folder=folder))
        self.load(folder)

    def new_class(self) -> None:
        root = self.editable_root()
        taken = set(edits.listed_class_names(root)) if root else set()
        default = next(self.tr("Class {number}").format(number=n) for n in range(1, 10_000)
                       if self.tr("Class {number}").format(number=n) not in taken)
        name = ask_text(self, self.tr("New class"), self.tr("Name of the new class:"), default)
        if name is not None:
            self._edit(lambda r: self.tr("Made the class {name}; now add photos to it.").format(
                name=edits.create_class(r, name).name), show_class=name.strip())

    def rename_selected_class(self) -> None:
        old = self.selected_class()
        if not old:
            return
        new = ask_text(self, self.tr("Rename class"), self.tr("New name of {name}:").format(name=old), old)
        if new is not None:
            self._edit(lambda r: self.tr("Renamed {old} to {new}; runs trained before know it by its new name.")
                       .format(old=old, new=edits.rename_class(r, old, new)), show_class=new.strip())

    def add_photos_to_selected(self) -> None:
        name = self.selected_class()
        if name:
            files = ask_photo_files(self, self.tr("Add photos to {name}").format(name=name), str(Path.home()))
            if files:
                self.add_photos(name, files)

    def add_photos(self, name: str, files: list[Path]) -> None:
        """Copy ``files`` into class ``name``; files that are not photos are named, not copied."""
        refused = []

        def work(root: Path) -> str:
            result = edits.add_photos(root, name, files)
            refused.extend(result.refused)
            added = self.tr("Added %n photo(s) to {name}.", "", len(result.added)).format(name=name)
            return f"{added} {result.refusal()}" if result.refused else added  # the refusal is core's sentence
        if self._edit(work, show_class=name) and refused:
            set_role(self.edit_note, "warning")

    def delete_selected(self) -> None:
        photos, name = self._selected_photos(), self.selected_class()

        def delete_photos(root: Path) -> str:
            edits.delete_photos(root, photos, self.shelf)
            self._undo_note = self.tr("%n photo(s) are back.", "", len(photos))
            return self.tr("Deleted %n photo(s) from {name}. Undo (Ctrl+Z) brings them back.", "",
                           len(photos)).format(name=name)

        def delete_class(root: Path) -> str:
            edits.delete_class(root, name, self.shelf)
            self._undo_note = self.tr("The class {name} is back.").format(name=name)
            return self.tr("Deleted the class {name}. Undo (Ctrl+Z) brings it back.").format(name=name)
        if photos or name:
            self._edit(delete_photos if photos else delete_class)
        self._update_edit_buttons()

    def delete_captured_photos(self) -> None:
        def work(root: Path) -> str:
            deleted = edits.delete_captured_photos(root, self.shelf)
            if deleted is None:
                return self.tr("There are no photos taken with the camera in this dataset.")
            self._undo_note = self.tr("%n camera photo(s) are back.", "", len(deleted.items))
            return self.tr("Deleted the %n photo(s) taken with the camera. Undo (Ctrl+Z) brings them back.", "",
                           len(deleted.items))
        self._edit(work)
        self._update_edit_buttons()

    def undo_delete(self) -> None:
        """Put the last deletion back where it was (whichever folder the page shows now)."""
        if not self.shelf.can_undo:
            return
        try:
            self.shelf.undo()
        except OSError as e:
            self._note(self.tr("Could not bring it back ({problem}); it is still in {folder}.").format(
                problem=e.strerror or e, folder=self.shelf.folder), "error")
        else:
            self._note(self._undo_note)
        self.reload()

    def _build_classes_tab(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 10, 0, 0)
        splitter = QSplitter(Qt.Orientation.Horizontal, objectName="classSplitter")
        self.table = QTableWidget()
        named(self.table, "classTable", self.tr("Images per class"),
                      self.tr("Usable photos per class: in the folder, and how many the model learns from "
                              "(Training) and is checked with (Validation)."))
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        splitter.addWidget(self.table)

        chart_box = QWidget()
        chart_layout = QVBoxLayout(chart_box)
        chart_layout.setContentsMargins(8, 0, 0, 0)
        self.chart = pg.PlotWidget(background="w")
        named(self.chart, "classChart", self.tr("Bar chart of images per class"),
                      self.tr("Blue: photos to learn from. Orange: photos kept aside to check the model."))
        self.chart.setMenuEnabled(False)
        self.chart.setMouseEnabled(False, False)
        self.chart.hideButtons()
        self.chart.setMinimumHeight(200)
        self.chart.showGrid(y=True, alpha=0.25)
        axis_font = self.font()
        axis_font.setPointSize(11)
        for axis in ("left", "bottom"):
            self.chart.getAxis(axis).setTickFont(axis_font)
            self.chart.getAxis(axis).setTextPen("#333")
            self.chart.getAxis(axis).setPen("#888")
        self.chart.setLabel("left", self.tr("images"))
        self.chart.installEventFilter(self)  # the class names are fitted to the chart's width
        self.train_bars = pg.BarGraphItem(x=[], height=[], width=0.6, brush=TRAIN_COLOUR, pen=None)
        self.val_bars = pg.BarGraphItem(x=[], height=[], width=0.6, brush=VAL_COLOUR, pen=None)
        self.chart.addItem(self.train_bars)
        self.chart.addItem(self.val_bars)
        legend = QLabel(self.tr("<span style='color:{train}'>■</span> Training &nbsp;&nbsp; "
                                "<span style='color:{val}'>■</span> Validation").format(train=TRAIN_COLOUR,
                                                                                        val=VAL_COLOUR))
        legend.setTextFormat(Qt.TextFormat.RichText)
        self.imbalance_label = styled_label("", "warning", "imbalanceWarning")
        self.imbalance_label.hide()
        chart_layout.addWidget(self.chart, 1)
        chart_layout.addWidget(legend)
        chart_layout.addWidget(self.imbalance_label)
        splitter.addWidget(chart_box)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        self.table.setMinimumWidth(360)
        splitter.setSizes([470, 530])
        layout.addWidget(splitter, 1)
        layout.addWidget(self._build_split_box())
        return page

    def _build_split_box(self) -> QGroupBox:
        box = QGroupBox(self.tr("What the model learns from"), objectName="splitBox")
        # A chosen subset reads at a glance, even on a projector.
        box.setStyleSheet(
            f"QGroupBox#splitBox QPushButton:checked {{ background: {TRAIN_COLOUR}; color: white;"
            " border: 1px solid #1f3b63; border-radius: 3px; }")
        grid = QGridLayout(box)
        grid.setHorizontalSpacing(10)
        grid.addWidget(QLabel(self.tr("Use")), 0, 0)
        self.subset_group = QButtonGroup(self)
        subset_row = QHBoxLayout()
        self.subset_buttons: dict[float | None, QPushButton] = {}
        for value in (*SUBSET_CHOICES, None):
            text = self.tr("Custom") if value is None else f"{value:g} %"
            button = QPushButton(text, checkable=True)
            tip = (self.tr("Choose your own percentage.") if value is None else
                   self.tr("Train on {percent:g} % of the training photos of each class; fewer photos train "
                           "faster. The validation photos stay the same.").format(percent=value))
            named(button, f"subset{'Custom' if value is None else int(value)}Button",
                          self.tr("Use {choice} of the photos").format(choice=text), tip)
            self.subset_group.addButton(button)
            self.subset_buttons[value] = button
            subset_row.addWidget(button)
        self.subset_buttons[100.0].setChecked(True)
        self.custom_subset = QDoubleSpinBox(minimum=0.1, maximum=100.0, value=50.0, suffix=" %", decimals=1)
        named(self.custom_subset, "customSubsetSpin", self.tr("Custom percentage of the photos"),
                      self.tr("The percentage of each class's training photos to use; validation stays the same."))
        self.custom_subset.setEnabled(False)
        subset_row.addWidget(self.custom_subset)
        subset_note = QLabel(self.tr("of the training photos of each class"))
        subset_note.setWordWrap(True)  # a projector's big text wraps instead of widening the page
        subset_row.addWidget(subset_note, 1)
        grid.addLayout(subset_row, 0, 1)

        grid.addWidget(QLabel(self.tr("Keep")), 1, 0)
        val_row = QHBoxLayout()
        self.val_spin = QSpinBox(minimum=5, maximum=50, value=20, suffix=" %")
        named(self.val_spin, "valFractionSpin", self.tr("Percentage kept for validation"),
                      self.tr("These photos are never learned from; they check how well the model does on new "
                              "photos."))
        self.val_note = QLabel(self.tr("for validation (checking the model on photos it did not learn from)"))
        self.val_note.setWordWrap(True)  # a projector's big text wraps instead of widening the page
        self.seed_spin = QSpinBox(minimum=0, maximum=999_999, value=42)
        named(self.seed_spin, "seedSpin", self.tr("Shuffle seed"),
                      self.tr("The same number picks the same photos, shuffles them the same way and starts "
                              "training from the same random numbers, so a run can be repeated; change it for "
                              "another random pick. (The Augment page's preview seed is separate.)"))
        val_row.addWidget(self.val_spin)
        val_row.addWidget(self.val_note, 1)
        val_row.addWidget(QLabel(self.tr("Shuffle seed")))
        val_row.addWidget(self.seed_spin)
        grid.addLayout(val_row, 1, 1)
        self.split_result = styled_label("", "summary", "splitResult")
        self.split_result.setStyleSheet("font-weight: 600;")
        grid.addWidget(self.split_result, 2, 0, 1, 2)

        self.subset_group.buttonClicked.connect(self._subset_edited)
        self.custom_subset.valueChanged.connect(self._subset_edited)
        bind(self.val_spin, self.session, "split.val_fraction", lambda f: round(f * 100), lambda p: p / 100)
        bind(self.seed_spin, self.session, "split.seed")
        return box

    def _build_photos_tab(self) -> QWidget:
        page = QWidget()
        self.photos_page = page
        layout = QHBoxLayout(page)
        layout.setContentsMargins(0, 10, 0, 0)
        self.class_list = QListWidget()
        named(self.class_list, "photoClassList", self.tr("Classes"), self.tr("Choose a class to see its photos."))
        # Narrower when space is short (presentation mode's big text beside the camera).
        self.class_list.setMinimumWidth(150)
        self.class_list.setMaximumWidth(220)
        self.thumbnails = ThumbnailGrid()
        layout.addLayout(self._build_class_column())
        layout.addWidget(self._build_camera_splitter(), 1)
        self.class_list.currentRowChanged.connect(self._show_class_photos)
        self.class_list.currentRowChanged.connect(self._class_chosen)
        self._chosen_class = ""  # kept by name across rescans (a photo taken, a class added)
        return page

    def _build_class_column(self) -> QVBoxLayout:
        column = QVBoxLayout()
        self.camera_button = named(QPushButton(self.tr("Open the camera"), checkable=True),
                                   "cameraButton", self.tr("Take photos with the camera"),
                                   self.tr("Open the camera and take photos for the class chosen above. "
                                           "The photos stay on this computer."))
        self.camera_button.setMaximumWidth(220)
        column.addWidget(self.class_list, 1)
        column.addWidget(self.camera_button)
        return column

    def _build_camera_splitter(self) -> QSplitter:
        """The camera, while "Take photos" is on (it runs only then, and only while this tab
        is on screen), beside the chosen class's photos, where each new one appears."""
        self.capture = CaptureView()  # the webcam, made the first time it opens
        self.capture.hide()
        splitter = QSplitter(Qt.Orientation.Horizontal, objectName="captureSplitter")
        splitter.addWidget(self.capture)
        splitter.addWidget(self.thumbnails)
        splitter.setChildrenCollapsible(False)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 1)
        # Photos just taken show at once; the counts and checks follow in one rescan after the last one.
        self.rescan_timer = QTimer(self, singleShot=True, interval=1500)
        self.rescan_timer.timeout.connect(self._rescan_after_capture)
        self.camera_button.toggled.connect(self._open_camera)
        self.capture.photoSaved.connect(self._photo_captured)
        self.classSelected.connect(self._aim_camera)
        return splitter

    def selected_class(self) -> str:
        """The class chosen in the Photos tab, "" when none."""
        row = self.class_list.currentRow()
        listed = self.shown.listed_classes if self.shown is not None else []  # empty classes too
        return listed[row] if 0 <= row < len(listed) else ""

    def _class_chosen(self, _row: int) -> None:
        name = self.selected_class()
        self._chosen_class = name or self._chosen_class  # a rescan empties the list first: keep the choice
        self.classSelected.emit(name)

    def _open_camera(self, on: bool) -> None:
        self.camera_button.setText(self.tr("Close the camera") if on else self.tr("Open the camera"))
        self.capture.setVisible(on)

    def _aim_camera(self, name: str) -> None:
        root = self.editable_root()  # never the demo dataset, which the app may draw again
        why = (self.tr("The demo dataset cannot be changed: make your own with New dataset…")
               if root is None and self.shown is not None else "")
        self.capture.set_target(photo_folder(root, name) if name and root else None, name, why)

    def _photo_captured(self, path: Path) -> None:
        if path.parent == self.capture.folder and self.capture.class_name == self.selected_class():
            self.thumbnails.add_files([path])
        self.rescan_timer.start()

    def _rescan_after_capture(self) -> None:
        if self.capture.record_timer.isActive():  # still recording: once, when the button is let go
            self.rescan_timer.start()
        else:
            self.reload()

    def _build_problems_tab(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 10, 0, 0)
        self.problems_note = styled_label(self.tr("No problems found."), "explain", "problemsNote")
        layout.addWidget(self.problems_note)
        self.bad_table = QTableWidget(0, 3)
        named(self.bad_table, "badFilesTable", self.tr("Files that cannot be used"),
                      self.tr("These files are left out of training. Fix or remove them, then open the folder "
                              "again."))
        self.bad_table.setHorizontalHeaderLabels([self.tr("File"), self.tr("Class"), self.tr("Why it cannot be used")])
        self.bad_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.bad_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.bad_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.bad_table.verticalHeader().hide()
        self.bad_table.setWordWrap(True)
        header = self.bad_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.bad_table, 1)
        row = QHBoxLayout()
        self.reveal_button = QPushButton(self.tr("Show in folder"))
        named(self.reveal_button, "showInFolderButton", self.tr("Show in folder"),
                      self.tr("Open the folder that holds the selected file, to fix or delete it."))
        self.reveal_button.setEnabled(False)
        row.addStretch(1)
        row.addWidget(self.reveal_button)
        layout.addLayout(row)
        self.bad_table.itemSelectionChanged.connect(
            lambda: self.reveal_button.setEnabled(self.selected_bad_file() is not None))
        self.bad_table.itemDoubleClicked.connect(lambda _item: self._reveal_selected())
        self.reveal_button.clicked.connect(self._reveal_selected)
        return page

    # ------------------------------------------------------------------ loading

    def choose_folder(self) -> None:
        start = str(self.shown.root) if self.shown else str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, self.tr("Choose a dataset folder"), start)
        if folder:
            self.load(folder)

    def load(self, folder: str | Path | None) -> None:
        """Use ``folder`` (None: the demo dataset); the same folder again is read again."""
        choice = dataset_choice(folder)
        if choice == self.session.dataset:
            self.reload()
        else:
            self.session.dataset = choice  # -> _dataset_changed

    def _dataset_changed(self, _choice=None) -> None:
        self.reload()

    def reload(self) -> None:
        """Scan and check the session's dataset in the background; a newer folder supersedes it."""
        choice = self.session.dataset
        self._clear()
        if not choice.is_demo and not choice.folder.exists():
            self.loader.cancel()
            self._show_error(self.tr("The photos were in {folder}, which is not there any more (moved, renamed, "
                                     "or on a USB stick that is not plugged in). Choose the folder where they are "
                                     "now.").format(folder=choice.folder))
            return
        self._set_busy(True)
        self.summary.setText(self.tr("Preparing the demo dataset…") if choice.is_demo
                             else self.tr("Reading {folder}…").format(folder=choice.folder))
        self.loader.submit(LocalWork(load_dataset, choice))

    def _clear(self) -> None:
        """Nothing of the previous folder stays on screen or in use."""
        self.session.index = None
        self.shown = None
        self.split = None
        self._set_message("", "explain")
        self.path_edit.setText(str(self.session.dataset.folder or "") or self.tr("demo dataset"))
        self.table.setRowCount(0)
        self.train_bars.setOpts(x=[], height=[])
        self.val_bars.setOpts(x=[], y0=[], height=[])
        for axis in ("left", "bottom"):  # the old class names and scale go with the bars
            self.chart.getAxis(axis).setTicks([[]])
        self.table.clear()
        self.table.setColumnCount(0)
        self.imbalance_label.hide()
        self.split_result.setText("")
        self.class_list.clear()
        self.thumbnails.set_files([])
        self.bad_table.setRowCount(0)
        self.problems_note.setText("")
        self.tabs.setTabText(2, self.tr("Problems"))

    def _on_progress(self, event: object) -> None:
        if isinstance(event, str):
            self.summary.setText(event)
        elif isinstance(event, DatasetIndex):
            self._show_index(event)
        elif isinstance(event, ValidationProgress):
            self.busy.setMaximum(max(1, event.total))
            self.busy.setValue(event.done)
            self.busy.setFormat(event.text)

    def _on_validated(self, index: DatasetIndex) -> None:
        self._show_index(index)
        if not self.session.dataset.is_demo:
            self._remember(str(index.root))
        self.session.index = None if index.listing_problem() else index  # no photos, or one class: no dataset yet

    def _set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        if busy:
            self.busy.setMaximum(0)
            self.busy.setFormat("")

    def _show_error(self, text: str) -> None:
        self._clear()
        self.summary.setText(self.tr("This folder cannot be used yet."))
        self._set_message(text, "error")

    def _set_message(self, text: str, role: str) -> None:
        set_role(self.message, role)
        self.message.setText(text)
        self.message.setVisible(bool(text))

    # ------------------------------------------------------------------ showing

    def _show_index(self, index: DatasetIndex) -> None:
        self.shown = index
        self.path_edit.setText(str(index.root))
        self.path_edit.setToolTip(str(index.root))
        listing = index.listing_problem()
        if listing:
            self.summary.setText(self.tr("This folder cannot be used yet."))
        elif index.validated:
            odd = self.tr(", {count:,} converted").format(count=len(index.notes)) if index.notes else ""
            left_out = self.tr(" · {count:,} left out").format(count=len(index.bad_files)) if index.bad_files else ""
            self.summary.setText(self.tr("{classes} classes · {count:,} usable images{converted}{left_out}").format(
                classes=len(index.classes), count=len(index.files), converted=odd, left_out=left_out))
        else:
            self.summary.setText(self.tr("{classes} classes · {count:,} images · checking each one…").format(
                classes=len(index.classes), count=len(index.files)))
        problem = listing or (index.usability_problem() if index.validated else None)
        messages = ([problem] if problem else []) + [w for w in index.warnings
                                                    if not w.startswith(EMPTY_CLASSES_WARNING)]
        if index.empty_classes:  # said for a class just made, not as a folder's fault
            messages.append(self.tr("No photos in {names} yet: add some with Add photos or by dropping photo files "
                                    "onto the class. Training leaves out classes without photos.").format(
                names=", ".join(index.empty_classes)))
        if not index.listed_classes and not index.bad_files:  # a new dataset: nothing wrong, only a start
            self.summary.setText(self.tr("No classes yet."))
            messages = [self.tr("Press New class to make the first class, then add photos to it with Add photos or "
                                "by dropping photo files onto the class. The model needs at least two classes.")]
            problem = None
        role = "error" if problem else "warning" if index.listed_classes else "explain"
        self._set_message("\n".join(messages), role)
        self._update_split_controls()
        self._update_split()
        self._fill_photos()
        self._fill_problems()

    def _update_split_controls(self) -> None:
        folders = bool(self.shown and self.shown.has_split_folders)
        self.val_spin.setEnabled(not folders)
        if folders:
            source = "val/" if self.shown.files_in("val") else "test/"
            self.val_note.setText(self.tr("Validation photos come from the {folder} folder.").format(folder=source))
        else:
            self.val_note.setText(self.tr("for validation (checking the model on photos it did not learn from)"))

    def _subset_edited(self, *_args) -> None:
        checked = self.subset_group.checkedButton()
        value = next((v for v, b in self.subset_buttons.items() if b is checked), 100.0)
        percent = self.custom_subset.value() if value is None else value
        self.session.update("split", subset_percent=float(percent))

    def _show_subset(self) -> None:
        percent = self.session.split.subset_percent
        button = self.subset_buttons.get(percent, self.subset_buttons[None])
        button.setChecked(True)
        custom = button is self.subset_buttons[None]
        self.custom_subset.setEnabled(custom)
        if custom:
            with QSignalBlocker(self.custom_subset):
                self.custom_subset.setValue(percent)

    def _update_split(self, *_args) -> None:
        self._show_subset()
        settings = self.session.split
        self.split = None
        if self.shown is not None and not self.shown.listing_problem():
            try:
                self.split = make_split(self.shown, settings.subset_percent, settings.val_fraction, settings.seed)
            except UserError as e:
                self.split_result.setText(str(e))
            else:
                self.split_result.setText(self.tr(
                    "The model learns from {train:,} photos and is checked on {val:,}: the same {val:,} at every "
                    "share of the photos, so runs on 1 %, 10 % and 100 % can be compared.").format(
                    train=len(self.split.train), val=len(self.split.val)))
        else:
            self.split_result.setText("")
        self._fill_class_table()
        self._fill_chart()

    def _fill_class_table(self) -> None:
        index = self.shown
        if index is None:
            return
        counts = index.counts()
        splits = [s for s in ("pool", "train", "val", "test") if s in counts]
        used = self.split.counts() if self.split else {"train": {}, "val": {}}
        headers = ([self.tr("Class")] + [self.tr(SPLIT_TITLES[s]) for s in splits]
                   + [self.tr("Training"), self.tr("Validation")])
        self.table.clear()
        self.table.setColumnCount(len(headers))
        self.table.setHorizontalHeaderLabels(headers)
        self.table.setRowCount(len(index.listed_classes))
        for row, name in enumerate(index.listed_classes):  # a class without photos shows with 0
            self.table.setItem(row, 0, QTableWidgetItem(name))
            values = [counts[s].get(name, 0) for s in splits] + [used["train"].get(name, 0), used["val"].get(name, 0)]
            for col, value in enumerate(values, start=1):
                item = QTableWidgetItem("{:,}".format(value))  # a number: nothing to translate
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if col > len(splits):
                    item.setForeground(QBrush(QColor(TRAIN_COLOUR if col == len(splits) + 1 else "#b36b00")))
                self.table.setItem(row, col, item)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in range(1, len(headers)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)

    def _fit_class_names(self) -> None:
        """Class names under the bars, as many as fit side by side in the chart's width and its
        tick font (larger in presentation mode), so they never run into each other."""
        view = self.chart.getPlotItem().vb
        if self.shown is None or not shiboken6.isValid(view):  # the window is closing
            return
        axis = self.chart.getAxis("bottom")
        metrics = QFontMetrics(axis.style.get("tickFont") or self.chart.font())
        width = view.width() or self.chart.width()
        axis.setTicks([fitted_ticks(list(self.shown.listed_classes), width, metrics)])

    def apply_presentation_scale(self, scale: float) -> None:
        super().apply_presentation_scale(scale)
        QTimer.singleShot(0, self.chart, self._fit_class_names)  # the tick font changed size

    def eventFilter(self, watched, event) -> bool:
        if watched is self.chart and event.type() == QEvent.Type.Resize:
            QTimer.singleShot(0, self.chart, self._fit_class_names)  # after the plot has laid out its axes
        return super().eventFilter(watched, event)

    def _fill_chart(self) -> None:
        index = self.shown
        if index is None:
            return
        used = self.split.counts() if self.split else None
        totals = index.class_totals()
        listed = index.listed_classes
        xs = list(range(len(listed)))
        train = [used["train"].get(c, 0) if used else totals.get(c, 0) for c in listed]
        val = [used["val"].get(c, 0) if used else 0 for c in listed]
        self.train_bars.setOpts(x=xs, height=train, width=0.6)
        self.val_bars.setOpts(x=xs, y0=train, height=val, width=0.6)
        self._fit_class_names()
        top = max((t + v for t, v in zip(train, val)), default=1)
        self.chart.getAxis("left").setTicks(None)  # automatic again
        self.chart.setXRange(-0.6, max(0.6, len(xs) - 0.4), padding=0)
        self.chart.setYRange(0, top * 1.08 or 1, padding=0)
        ratio = index.imbalance()
        if len(index.classes) >= 2 and ratio > IMBALANCE_LIMIT:
            small = min(totals, key=totals.get)
            big = max(totals, key=totals.get)
            self.imbalance_label.setText(self.tr(
                "⚠ The classes are unbalanced: {big} has {ratio:.1f}× as many photos as {small}. "
                "The model may favour the big classes; add photos to the small ones if you can.").format(
                big=big, ratio=ratio, small=small))
            self.imbalance_label.show()
        else:
            self.imbalance_label.hide()

    def _fill_photos(self) -> None:
        index = self.shown
        chosen = self._chosen_class
        listed = index.listed_classes  # empty classes too: one just made is there to be filled
        current = listed.index(chosen) if chosen in listed else self.class_list.currentRow()
        totals = index.class_totals()
        self.class_list.blockSignals(True)
        self.class_list.clear()
        for name in listed:
            n = totals.get(name, 0)
            item = QListWidgetItem("{}  ({:,})".format(name, n))  # a name and a number: nothing to translate
            item.setToolTip(self.tr("Show the {count:,} photos of {name}").format(count=n, name=name))
            self.class_list.addItem(item)
        self.class_list.blockSignals(False)
        self.class_list.setCurrentRow(min(max(current, 0), len(listed) - 1))
        self._show_class_photos(self.class_list.currentRow())

    def _show_class_photos(self, row: int) -> None:
        name = self.selected_class() if row == self.class_list.currentRow() else ""
        if name and self.table.currentRow() != row:
            self.table.selectRow(row)  # the same class in the Classes tab
        if self.shown is None or name not in self.shown.classes:  # no class, or one without photos yet
            self.thumbnails.set_files([])
            self._update_edit_buttons()
            return
        files = self.shown.files_of_class(self.shown.classes.index(name))
        tips = []
        for f in files:
            notes = self.shown.notes.get(f.path)
            split = "" if f.split == "pool" else f" ({f.split}/)"
            converted = "\n" + self.tr("Converted: {notes}").format(notes=", ".join(notes)) if notes else ""
            tips.append(f"{f.path.name}{split}{converted}")
        self.thumbnails.set_files([f.path for f in files], tips)
        self._update_edit_buttons()

    def _fill_problems(self) -> None:
        bad = self.shown.bad_files
        self.tabs.setTabText(2, self.tr("Problems ({count})").format(count=len(bad)) if bad else self.tr("Problems"))
        if bad:
            self.problems_note.setText(self.tr(
                "%n file(s) cannot be used and are left out of training. The other photos are fine.", "", len(bad)))
        else:
            self.problems_note.setText(self.tr("No problems found: every photo can be used.") if self.shown.validated
                                       else self.tr("Checking the photos…"))
        self.bad_table.setRowCount(len(bad))
        for row, b in enumerate(bad):
            try:
                rel = b.path.relative_to(self.shown.root)
            except ValueError:
                rel = b.path
            name = QTableWidgetItem(str(rel))
            name.setData(Qt.ItemDataRole.UserRole, str(b.path))
            name.setToolTip(str(b.path))
            self.bad_table.setItem(row, 0, name)
            self.bad_table.setItem(row, 1, QTableWidgetItem(b.class_name))
            reason = QTableWidgetItem(b.reason)
            reason.setToolTip(b.reason)
            self.bad_table.setItem(row, 2, reason)
        self.bad_table.resizeColumnToContents(0)
        self.bad_table.setColumnWidth(0, min(self.bad_table.columnWidth(0), 320))
        self.bad_table.resizeRowsToContents()

    def selected_bad_file(self) -> Path | None:
        rows = self.bad_table.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.bad_table.item(rows[0].row(), 0)
        return Path(item.data(Qt.ItemDataRole.UserRole)) if item else None

    def _reveal_selected(self) -> None:
        path = self.selected_bad_file()
        if path is not None:
            self.reveal(path)

    # ------------------------------------------------------------------ recent folders, drops

    def recent_folders(self) -> list[str]:
        value = self.settings.value(RECENT_KEY, [])
        if isinstance(value, str):  # QSettings hands back a lone string for a one-item list
            value = [value]
        return [str(v) for v in (value or [])]

    def _remember(self, folder: str) -> None:
        recent = [folder] + [f for f in self.recent_folders() if f != folder]
        self.settings.setValue(RECENT_KEY, recent[:MAX_RECENT])
        self._refresh_recent_menu()

    def _refresh_recent_menu(self) -> None:
        self.recent_menu.clear()
        folders = self.recent_folders()
        for folder in folders:
            action = self.recent_menu.addAction(folder)
            action.triggered.connect(lambda _=False, f=folder: self.load(f))
        if not folders:
            self.recent_menu.addAction(self.tr("No recent folders")).setEnabled(False)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_paths(event):  # a folder opens; anything else is answered with what the page takes
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = dropped_paths(event)
        if not paths:
            return
        event.acceptProposedAction()
        folder = dropped_folder(event)
        target = self.class_at(event.position().toPoint()) if folder is None else None
        if folder is not None:
            self.load(folder)
        elif target is not None:  # photo files dropped onto a class: copied into it
            self.add_photos(target, paths)
        else:
            self._set_message(self.tr("{name} is a file: this page takes a folder of photos with one sub-folder "
                                      "per class (for example cats/ and dogs/). Drop that folder here, or pick it "
                                      "with Choose folder.").format(name=paths[0].name), "warning")

    def stop_background_work(self, msecs: int) -> None:
        self.loader.cancel()
        self.loader.wait(msecs)
        self.thumbnails.stop(msecs)
        self.shelf.flush()  # the window closes: the last deletion goes to the trash


def _short_name(name: str, limit: int = 14) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def fitted_ticks(names: list[str], width: float, metrics: QFontMetrics) -> list[tuple[int, str]]:
    """(position, name) for every step-th class, the smallest step that leaves each name room for
    a few letters; each name is cut to its room with "…"."""
    if not names:
        return []
    slot = width / len(names)
    gap = metrics.horizontalAdvance("  ")
    widest = max(metrics.horizontalAdvance(_short_name(n)) for n in names)
    least = min(widest, metrics.horizontalAdvance("Mmmm…"))
    step = 1
    while step < len(names) and slot * step - gap < least:
        step += 1
    room = max(1, int(slot * step - gap))
    return [(i, metrics.elidedText(_short_name(n), Qt.TextElideMode.ElideRight, room))
            for i, n in enumerate(names)][::step]


