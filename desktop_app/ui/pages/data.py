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
    QT_TRANSLATE_NOOP, QCoreApplication, QEvent, QProcess, QSettings, QSignalBlocker, Qt, QTimer, QUrl,
)
from PySide6.QtGui import QBrush, QColor, QDesktopServices, QDragEnterEvent, QDropEvent, QFontMetrics
from PySide6.QtWidgets import (
    QAbstractItemView, QButtonGroup, QDoubleSpinBox, QFileDialog, QGridLayout, QGroupBox,
    QHBoxLayout, QHeaderView, QLabel, QLineEdit, QListWidget, QListWidgetItem, QMenu, QProgressBar,
    QPushButton, QSpinBox, QSplitter, QTableWidget, QTableWidgetItem, QTabWidget, QToolButton,
    QVBoxLayout, QWidget,
)

from desktop_app.core import palette
from desktop_app.core.data.demo import demo_dataset_dir, ensure_demo_dataset
from desktop_app.core.data.scan import DatasetIndex, scan_folder
from desktop_app.core.data.split import Split, make_split
from desktop_app.core.data.validate import ValidationProgress, validate_index
from desktop_app.core.errors import UserError
from desktop_app.core.session import DatasetChoice, Session
from desktop_app.ui.tasks import LatestRequest, LocalWork
from desktop_app.ui.widgets.bindings import bind, follow
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
    index = scan_folder(folder)
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


class DataPanel(StepPage):
    """Shows ``session.dataset`` and ``session.split``; publishes the checked folder as ``session.index``."""

    wraps_to_fit = True  # its split sentences are long: on a small screen the page scrolls instead

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

        self.layout_.addLayout(self._build_folder_row())
        self.busy = QProgressBar(objectName="scanProgress", maximum=0, textVisible=True)
        self.busy.setAccessibleName(self.tr("Checking the images"))
        self.busy.setFormat("")
        self.busy.setMaximumHeight(20)
        self.busy.hide()
        self.layout_.addWidget(self.busy)

        self.summary = styled_label(self.tr("No folder yet. Choose one, drop one here, or try the demo dataset."),
                                    "summary", "datasetSummary")
        self.summary.setStyleSheet("font-size: 14pt; font-weight: 600;")
        self.layout_.addWidget(self.summary)
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
        layout = QHBoxLayout(page)
        layout.setContentsMargins(0, 10, 0, 0)
        self.class_list = QListWidget()
        named(self.class_list, "photoClassList", self.tr("Classes"), self.tr("Choose a class to see its photos."))
        self.class_list.setFixedWidth(220)
        self.thumbnails = ThumbnailGrid()
        layout.addWidget(self.class_list)
        layout.addWidget(self.thumbnails, 1)
        self.class_list.currentRowChanged.connect(self._show_class_photos)
        return page

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
        self.session.index = index

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
        if index.validated:
            odd = self.tr(", {count:,} converted").format(count=len(index.notes)) if index.notes else ""
            left_out = self.tr(" · {count:,} left out").format(count=len(index.bad_files)) if index.bad_files else ""
            self.summary.setText(self.tr("{classes} classes · {count:,} usable images{converted}{left_out}").format(
                classes=len(index.classes), count=len(index.files), converted=odd, left_out=left_out))
        else:
            self.summary.setText(self.tr("{classes} classes · {count:,} images · checking each one…").format(
                classes=len(index.classes), count=len(index.files)))
        problem = index.usability_problem() if index.validated else None
        messages = ([problem] if problem else []) + index.warnings
        self._set_message("\n".join(messages), "error" if problem else "warning")
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
        if self.shown is not None:
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
        self.table.setRowCount(len(index.classes))
        for row, name in enumerate(index.classes):
            self.table.setItem(row, 0, QTableWidgetItem(name))
            values = [counts[s][name] for s in splits] + [used["train"].get(name, 0), used["val"].get(name, 0)]
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
        axis.setTicks([fitted_ticks(list(self.shown.classes), width, metrics)])

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
        xs = list(range(len(index.classes)))
        train = [used["train"][c] if used else totals[c] for c in index.classes]
        val = [used["val"][c] if used else 0 for c in index.classes]
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
        current = self.class_list.currentRow()
        self.class_list.blockSignals(True)
        self.class_list.clear()
        for label, name in enumerate(index.classes):
            n = sum(1 for f in index.files if f.label == label)
            item = QListWidgetItem("{}  ({:,})".format(name, n))  # a name and a number: nothing to translate
            item.setToolTip(self.tr("Show the {count:,} photos of {name}").format(count=n, name=name))
            self.class_list.addItem(item)
        self.class_list.blockSignals(False)
        self.class_list.setCurrentRow(min(max(current, 0), len(index.classes) - 1))
        self._show_class_photos(self.class_list.currentRow())

    def _show_class_photos(self, row: int) -> None:
        if self.shown is None or row < 0:
            self.thumbnails.set_files([])
            return
        files = self.shown.files_of_class(row)
        tips = []
        for f in files:
            notes = self.shown.notes.get(f.path)
            split = "" if f.split == "pool" else f" ({f.split}/)"
            converted = "\n" + self.tr("Converted: {notes}").format(notes=", ".join(notes)) if notes else ""
            tips.append(f"{f.path.name}{split}{converted}")
        self.thumbnails.set_files([f.path for f in files], tips)

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
        if folder is not None:
            self.load(folder)
        else:
            self._set_message(self.tr("{name} is a file: this page takes a folder of photos with one sub-folder "
                                      "per class (for example cats/ and dogs/). Drop that folder here, or pick it "
                                      "with Choose folder.").format(name=paths[0].name), "warning")

    def stop_background_work(self, msecs: int) -> None:
        self.loader.cancel()
        self.loader.wait(msecs)
        self.thumbnails.stop(msecs)


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


