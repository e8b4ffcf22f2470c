"""Projects: a folder holding ``project.json`` (the session's settings) and ``runs/``.

A teacher prepares a project the evening before and opens it in class; a student
carries theirs home. So the file is plain JSON (never pickle), written atomically,
versioned (``schema_version``) and migrated forward when an older version is opened.
The dataset is referenced, not copied: its absolute path plus its path relative to the
project, so a project moved together with its photos (a USB stick) still finds them.
A dataset that is found nowhere is reported (``Project.missing_dataset``) for the app
to ask the user where it went; it is never an error that stops the project opening.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from desktop_app.core.augment.spec import AugmentationSpec
from desktop_app.core.data.demo import demo_dataset_dir
from desktop_app.core.errors import UserError
from desktop_app.core.fileio import write_json_atomic
from desktop_app.core.runs import RunFolder, RunInfo
from desktop_app.core.session import (
    DatasetChoice, ModelSettings, Settings, SplitSettings, TrainingSettings, migrated,
)

SCHEMA_VERSION = 2
PROJECT_FILE = "project.json"
RUNS_FOLDER = "runs"


def relative_path(path: Path, start: Path) -> str:
    """``path`` seen from ``start``; "" when there is no such path (another drive on Windows)."""
    try:
        return os.path.relpath(Path(path).resolve(), Path(start).resolve())
    except ValueError:
        return ""


@dataclass
class Project:
    folder: Path
    settings: Settings = field(default_factory=Settings)
    runs: list[str] = field(default_factory=list)  # run folders, relative to the project when inside it
    created: float = field(default_factory=time.time)
    dataset_relative: str = ""  # the dataset folder seen from the project folder, as last saved

    @property
    def name(self) -> str:
        return self.folder.name

    @property
    def file(self) -> Path:
        return self.folder / PROJECT_FILE

    @property
    def runs_dir(self) -> Path:
        return self.folder / RUNS_FOLDER

    # ---- the dataset ----
    def dataset_path(self) -> Path | None:
        """The dataset folder on this machine, or None when it is nowhere to be found."""
        choice = self.settings.dataset
        if choice.is_demo:
            return demo_dataset_dir()
        candidates = [choice.folder]
        if self.dataset_relative:
            candidates.append((self.folder / self.dataset_relative).resolve())
        return next((c for c in candidates if c.is_dir()), None)

    def missing_dataset(self) -> str | None:
        """The recorded folder when it cannot be found on this machine, else None."""
        if self.settings.dataset.is_demo or self.dataset_path() is not None:
            return None
        return str(self.settings.dataset.folder)

    def set_dataset(self, path: Path | None) -> None:
        """Use the folder ``path`` (None: the demo dataset)."""
        folder = None if path is None else Path(path).resolve()
        self.settings = replace(self.settings, dataset=DatasetChoice(folder))
        self.dataset_relative = relative_path(folder, self.folder) if folder is not None else ""

    # ---- runs ----
    def add_run(self, run_dir: Path) -> None:
        entry = self._run_entry(Path(run_dir))
        if entry not in self.runs:
            self.runs.append(entry)

    def run_paths(self) -> list[Path]:
        """Recorded runs that still exist, plus any run folder found in runs/, oldest first."""
        paths = [p if p.is_absolute() else self.folder / p for p in map(Path, self.runs)]
        if self.runs_dir.is_dir():
            paths += sorted(p for p in self.runs_dir.iterdir() if RunFolder(p).is_run())
        unique = list(dict.fromkeys(p.resolve() for p in paths))
        return [p for p in unique if RunFolder(p).is_run()]

    def writable_run(self, run_dir: Path) -> bool:
        """Whether the app may write into a run folder: only into runs inside the project."""
        return Path(run_dir).resolve().is_relative_to(self.folder.resolve())

    @property
    def outside_runs(self) -> list[Path]:
        return [p for p in self.run_paths() if not self.writable_run(p)]

    @property
    def read_only(self) -> bool:
        """A project that names run folders elsewhere on the disk is opened read-only: the app
        writes neither its file nor into those folders."""
        return bool(self.outside_runs)

    @property
    def warning(self) -> str:
        outside = self.outside_runs
        if not outside:
            return ""
        names = ", ".join(str(p) for p in outside[:3]) + (f" and {len(outside) - 3} more" if len(outside) > 3 else "")
        return (f"This project lists training runs outside its folder ({names}), so it is opened read-only: the app "
                "changes nothing there. Use File → Save project as… to make a project that holds copies of them.")

    def run_infos(self) -> list[RunInfo]:
        return [info for info in (RunFolder(p).info() for p in self.run_paths()) if info is not None]

    def _run_entry(self, run_dir: Path) -> str:
        try:
            return Path(run_dir).resolve().relative_to(self.folder.resolve()).as_posix()
        except ValueError:
            return str(Path(run_dir).resolve())

    # ---- the file ----
    def to_dict(self) -> dict[str, Any]:
        data = self.settings.to_dict()
        data["dataset"]["relative"] = self.dataset_relative
        return {"schema_version": SCHEMA_VERSION, "created": self.created, "saved": time.time(),
                **data, "runs": list(self.runs)}

    def save(self) -> None:
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        # Keep both paths current: the project or the photos may have moved since.
        found = self.dataset_path()
        if found is not None and not self.settings.dataset.is_demo:
            self.set_dataset(found)
        write_json_atomic(self.file, self.to_dict())

    def save_as(self, folder: Path) -> Project:
        """A copy of this project (settings and runs) in ``folder``, saved; this one is unchanged."""
        folder = Path(folder)
        if folder.resolve() == self.folder.resolve():
            self.save()
            return self
        check_new_project_folder(folder)
        copy = Project(folder, self.settings, [], self.created)
        for run in self.run_paths():
            target = copy.runs_dir / run.name
            if not target.exists():
                shutil.copytree(run, target)
            copy.add_run(target)
        found = self.dataset_path()
        copy.set_dataset(None if self.settings.dataset.is_demo else (found or self.settings.dataset.folder))
        copy.save()
        return copy


def check_new_project_folder(folder: Path) -> None:
    folder = Path(folder)
    if (folder / PROJECT_FILE).exists():
        raise UserError(f"{folder} already holds a project. Open it, or choose an empty folder.")
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{folder} is a file, not a folder.")


def create_project(folder: Path, settings: Settings | None = None) -> Project:
    """Start a project in ``folder`` (new or empty-ish) and write it."""
    folder = Path(folder)
    check_new_project_folder(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"Could not create the project folder {folder}: {e.strerror or e}.") from None
    project = Project(folder, settings or Settings())
    project.set_dataset(project.settings.dataset.folder)  # works out the relative path
    project.save()
    return project


def open_project(path: Path) -> Project:
    """Read a project folder (or its project.json), migrating an older schema.

    A dataset that has gone missing is not an error here: see ``Project.missing_dataset``.
    """
    path = Path(path)
    folder = path.parent if path.name == PROJECT_FILE else path
    file = folder / PROJECT_FILE
    if not file.is_file():
        raise UserError(f"{folder} is not a Transfer Studio project: it has no {PROJECT_FILE}.")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise UserError(f"The project file {file} cannot be read ({e}).") from None
    if not isinstance(data, dict):
        raise UserError(f"The project file {file} is damaged: it does not hold a project.")
    try:
        data = migrate(data)
        settings = Settings.from_dict(data)
        relative = str((data.get("dataset") or {}).get("relative") or "")
        runs = [str(r) for r in data.get("runs", [])]
    except (TypeError, ValueError, KeyError, AttributeError) as e:
        raise UserError(f"The project file {file} is damaged ({e}).") from None
    return Project(folder, settings, runs, data.get("created", time.time()), relative)


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Bring a project.json of any earlier schema up to ``SCHEMA_VERSION``."""
    return migrated(data, SCHEMA_VERSION, {0: _migrate_v0, 1: _migrate_v1}, 0,
                    "This project was saved by a newer Transfer Studio; update the app to open it.")


def _migrate_v0(old: dict[str, Any]) -> dict[str, Any]:
    """Schema 0 (the prototype): flat keys, augmentation as a preset name, runs as paths."""
    folder = old.get("data_folder")
    augmentation = old.get("augmentation", "light")
    if isinstance(augmentation, str):
        augmentation = AugmentationSpec.preset(augmentation, first_meaning=True).to_dict()
    fine_tune_epochs = int(old.get("fine_tune_epochs", 0))
    defaults = TrainingSettings()
    return {
        "schema_version": 1,
        "dataset": {"kind": "folder", "path": folder, "relative": ""} if folder else {"kind": "demo"},
        "split": {"subset_percent": float(old.get("subset", 100)),
                  "val_fraction": float(old.get("validation_split", 0.2)), "seed": int(old.get("seed", 42))},
        "augmentation": augmentation,
        "model": {"backbone": old.get("base", ModelSettings.backbone), "alpha": old.get("alpha"),
                  "img_size": int(old.get("image_size", 224)), "weights": old.get("weights", "imagenet")},
        "training": {
            "epochs": int(old.get("epochs", defaults.epochs)), "batch_size": int(old.get("batch_size", 32)),
            "learning_rate": float(old.get("learning_rate", defaults.learning_rate)),
            "optimizer": old.get("optimizer", defaults.optimizer), "fine_tune": fine_tune_epochs > 0,
            "fine_tune_epochs": fine_tune_epochs or defaults.fine_tune_epochs,
            "unfreeze_layers": int(old.get("unfreeze", defaults.unfreeze_layers)),
        },
        "runs": list(old.get("runs", [])),
    }


def _migrate_v1(old: dict[str, Any]) -> dict[str, Any]:
    """Schema 1: the dataset as kind/path, the head nested in the model, the unfreeze count
    saved twice (the Model page's preview and the Train page's setting: the latter wins)."""
    data = dict(old, schema_version=2)
    dataset = old.get("dataset") or {"kind": "demo"}
    data["dataset"] = ({"folder": None} if dataset.get("kind", "demo") == "demo"
                       else {"folder": dataset.get("path") or None, "relative": dataset.get("relative", "")})
    model = dict(old.get("model") or {})
    model.update(model.pop("head", None) or {})
    model.pop("unfreeze_layers", None)
    data["model"] = model
    return data


__all__ = ["PROJECT_FILE", "SCHEMA_VERSION", "Project", "Settings", "SplitSettings", "create_project", "migrate",
           "open_project"]
