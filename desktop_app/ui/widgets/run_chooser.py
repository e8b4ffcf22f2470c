"""A drop-down of the training runs kept in the project, newest first; runs of another
dataset than the one on the Data page are listed too, and say which dataset is theirs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Signal
from PySide6.QtWidgets import QComboBox, QSizePolicy, QWidget

from desktop_app.core.data.scan import DatasetIndex
from desktop_app.core.runs import RunInfo, list_runs, read_run

# Where the runs are: a folder, or a callable returning one (read at each refresh);
# None means the default runs folder (``runs.runs_dir()``).
RunsSource = Path | Callable[[], Path | None] | None


def of_another_dataset(run: RunInfo, index: DatasetIndex | None) -> bool:
    """Whether ``run`` was trained on other photos than the checked dataset ``index``; a dataset
    not checked yet (None) says nothing against the run."""
    return index is not None and not run.folder.belongs_to(index)


def another_dataset_text(run: RunInfo, action: str) -> str:
    """Why ``action`` (e.g. "fine-tune it", already translated) is not offered for a run of another
    dataset, and what to do."""
    return QCoreApplication.translate(
        "RunChooser", "{run} was trained on another dataset ({dataset}). To {action}, choose its folder on the Data "
                      "page; for the photos chosen there now, train a new run.",
    ).format(run=run.name, dataset=run.dataset_name, action=action)


def run_label(run: RunInfo, index: DatasetIndex | None) -> str:
    """A run as lists show it; a run of another dataset names its dataset."""
    if not of_another_dataset(run, index):
        return run.label
    return QCoreApplication.translate("RunChooser", "Other dataset ({dataset}): {run}").format(
        dataset=run.dataset_name, run=run.label)


def relocated_dataset(run: RunInfo, session) -> Path | None:
    """The dataset on screen, offered as where a run's dataset went when its own folder is gone
    (a project moved to another computer); the run checks it holds its photos."""
    index = session.index
    if run.config.data.is_dir() or index is None:
        return None
    return Path(index.root)


def no_model_text(run: RunInfo) -> str:
    """Why a run has no model yet, and what to do about it."""
    if run.folder.checkpoints():
        return QCoreApplication.translate(
            "RunChooser", "This run has no model yet: a run saves its model when its training ends. If it is "
                          "still training, wait until it finishes; otherwise restore one of its checkpoints on the "
                          "Train page.")
    return QCoreApplication.translate(
        "RunChooser", "This run has no model yet: a run saves its model when its training ends. If it is still "
                      "training, wait until it finishes; a run stopped before its first epoch ended has nothing "
                      "to use.")


class RunChooser(QComboBox):
    runChanged = Signal(object)  # RunInfo or None

    def __init__(self, name: str, accessible: str, tip: str, empty_text: str | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(name)
        self.setAccessibleName(accessible)
        self.setToolTip(tip)
        self.empty_text = empty_text  # a first entry meaning "no run" (e.g. for comparing), or None
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(24)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.runs: list[RunInfo] = []
        self.source: RunsSource = None
        self.dataset: Callable[[], DatasetIndex | None] = lambda: None  # the checked dataset on the Data page
        self.currentIndexChanged.connect(lambda _: self.runChanged.emit(self.current_run()))

    def runs_folder(self) -> Path | None:
        """The folder listed now (None: the default runs folder)."""
        folder = self.source() if callable(self.source) else self.source
        return Path(folder) if folder is not None else None

    def set_source(self, source: RunsSource) -> None:
        """List the runs of another folder (e.g. the open project's ``runs/``); the newest is chosen."""
        self.source = source
        self.refresh(keep_current=False)

    def refresh(self, select: Path | None = None, keep_current: bool = True) -> None:
        """Re-read the runs folder; keep the current choice unless ``select`` names another.

        ``runChanged`` is emitted only when the chosen run changes."""
        before = self.current_run()
        keep = Path(select) if select is not None else (before.path if before and keep_current else None)
        self.runs = list_runs(self.runs_folder())
        if keep is not None and all(r.path != keep for r in self.runs):
            extra = read_run(keep)  # a run kept outside the runs folder (e.g. from the CLI)
            if extra is not None:
                self.runs.insert(0, extra)
        self.blockSignals(True)
        self.clear()
        if self.empty_text is not None:
            self.addItem(self.empty_text, None)
        index = self.dataset()
        for run in self.runs:
            self.addItem(run_label(run, index), str(run.path))
            tip = str(run.path)
            if of_another_dataset(run, index):
                tip += "\n" + self.tr("Trained on another dataset: {dataset} ({folder})").format(
                    dataset=run.dataset_name, folder=run.config.data)
            self.setItemData(self.count() - 1, tip, 3)  # tooltip: the full folder
        index = self.findData(str(keep)) if keep is not None else -1
        self.setCurrentIndex(index if index >= 0 else 0)
        self.blockSignals(False)
        after = self.current_run()
        if (before.path if before else None) != (after.path if after else None):
            self.runChanged.emit(after)

    def current_run(self) -> RunInfo | None:
        data = self.currentData()
        if not data:
            return None
        return next((r for r in self.runs if str(r.path) == data), None)
