"""Projects: a folder holding ``project.json`` (every setting of the workflow) and ``runs/``.

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
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from desktop_app.core.augmentation import AugmentationSpec
from desktop_app.core.backbones import DEFAULT_BACKBONE
from desktop_app.core.dataset import SplitSettings
from desktop_app.core.demo_data import demo_dataset_dir
from desktop_app.core.errors import UserError
from desktop_app.core.fileio import write_json_atomic
from desktop_app.core.model_builder import HeadSpec
from desktop_app.core.runs import RunInfo, read_run

SCHEMA_VERSION = 1
PROJECT_FILE = "project.json"
RUNS_FOLDER = "runs"
DEMO = "demo"  # DatasetRef.kind: the built-in demo dataset, wherever this machine keeps it
FOLDER = "folder"


@dataclass(frozen=True)
class DatasetRef:
    kind: str = DEMO  # DEMO or FOLDER
    path: str = ""  # absolute, as last seen
    # From the project folder, when it can be expressed so. Derived from path, so two refs
    # to the same folder are equal whatever project they were saved from.
    relative: str = field(default="", compare=False)

    @classmethod
    def folder(cls, path: Path, project_folder: Path | None = None) -> DatasetRef:
        path = Path(path).resolve()
        relative = ""
        if project_folder is not None:
            try:
                relative = os.path.relpath(path, Path(project_folder).resolve())
            except ValueError:  # another drive on Windows
                relative = ""
        return cls(FOLDER, str(path), relative)

    def resolve(self, project_folder: Path | None) -> Path | None:
        """The folder on this machine, or None when it is nowhere to be found."""
        if self.kind == DEMO:
            return demo_dataset_dir()
        candidates = [Path(self.path)] if self.path else []
        if self.relative and project_folder is not None:
            candidates.append((Path(project_folder) / self.relative).resolve())
        return next((c for c in candidates if c.is_dir()), None)


@dataclass(frozen=True)
class ModelChoice:
    backbone: str = DEFAULT_BACKBONE
    alpha: float | None = None
    img_size: int = 224
    weights: str | None = "imagenet"
    head: HeadSpec = field(default_factory=HeadSpec)
    unfreeze_layers: int = 0  # the Model page's preview of what fine-tuning unfreezes


@dataclass(frozen=True)
class TrainingSettings:
    epochs: int = 5
    batch_size: int = 32
    learning_rate: float = 1e-3
    optimizer: str = "adam"
    fast: bool = True
    fine_tune: bool = False
    fine_tune_epochs: int = 5
    unfreeze_layers: int = 10
    fine_tune_learning_rate: float | None = None  # None: learning_rate / 10


@dataclass(frozen=True)
class ProjectSettings:
    """Everything the workflow pages decide, as plain data."""

    dataset: DatasetRef | None = None
    split: SplitSettings = field(default_factory=SplitSettings)  # the Data page's subset and validation split
    augmentation: AugmentationSpec = field(default_factory=lambda: AugmentationSpec.preset("light"))
    model: ModelChoice = field(default_factory=ModelChoice)
    training: TrainingSettings = field(default_factory=TrainingSettings)

    def to_dict(self) -> dict[str, Any]:
        # {"dataset": {...} or None, "split": {...}, "augmentation": {...}, "model": {...}, "training": {...}}
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProjectSettings:
        model = _known(ModelChoice, data.get("model", {}))
        if "head" in model:
            model["head"] = HeadSpec(**_known(HeadSpec, model["head"]))
        dataset = data.get("dataset")
        return cls(
            dataset=DatasetRef(**_known(DatasetRef, dataset)) if dataset else None,
            split=SplitSettings(**_known(SplitSettings, data.get("split", {}))),
            augmentation=(AugmentationSpec.from_dict(data["augmentation"]) if "augmentation" in data
                          else AugmentationSpec.preset("light")),
            model=ModelChoice(**model),
            training=TrainingSettings(**_known(TrainingSettings, data.get("training", {}))),
        )


def _known(cls, data: dict[str, Any]) -> dict[str, Any]:
    """Keys this version understands; a newer minor addition is ignored, not fatal."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in dict(data).items() if k in names}


@dataclass
class Project:
    folder: Path
    settings: ProjectSettings = field(default_factory=ProjectSettings)
    runs: list[str] = field(default_factory=list)  # run folders, relative to the project when inside it
    created: float = field(default_factory=time.time)

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
        ref = self.settings.dataset
        return ref.resolve(self.folder) if ref else None

    def missing_dataset(self) -> str | None:
        """The recorded folder when it cannot be found on this machine, else None."""
        ref = self.settings.dataset
        if ref is None or ref.kind == DEMO or ref.resolve(self.folder) is not None:
            return None
        return ref.path or ref.relative

    def set_dataset(self, path: Path | None, demo: bool = False) -> None:
        ref = DatasetRef(DEMO) if demo else (DatasetRef.folder(path, self.folder) if path else None)
        self.settings = replace(self.settings, dataset=ref)

    # ---- runs ----
    def add_run(self, run_dir: Path) -> None:
        entry = self._run_entry(Path(run_dir))
        if entry not in self.runs:
            self.runs.append(entry)

    def run_paths(self) -> list[Path]:
        """Recorded runs that still exist, plus any run folder found in runs/, oldest first."""
        paths = [p if p.is_absolute() else self.folder / p for p in map(Path, self.runs)]
        if self.runs_dir.is_dir():
            paths += sorted(p for p in self.runs_dir.iterdir() if (p / "config.json").is_file())
        unique = list(dict.fromkeys(p.resolve() for p in paths))
        return [p for p in unique if (p / "config.json").is_file()]

    def run_infos(self) -> list[RunInfo]:
        return [info for info in map(read_run, self.run_paths()) if info is not None]

    def _run_entry(self, run_dir: Path) -> str:
        try:
            return Path(run_dir).resolve().relative_to(self.folder.resolve()).as_posix()
        except ValueError:
            return str(Path(run_dir).resolve())

    # ---- the file ----
    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, "created": self.created, "saved": time.time(),
                **self.settings.to_dict(), "runs": list(self.runs)}

    def save(self) -> None:
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        # Keep the relative path current: the project may have been moved since.
        ref = self.settings.dataset
        if ref is not None and ref.kind == FOLDER:
            found = ref.resolve(self.folder)
            if found is not None:
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
        if self.settings.dataset is not None and self.settings.dataset.kind == FOLDER:
            found = self.dataset_path()
            if found is not None:
                copy.set_dataset(found)
        copy.save()
        return copy


def check_new_project_folder(folder: Path) -> None:
    folder = Path(folder)
    if (folder / PROJECT_FILE).exists():
        raise UserError(f"{folder} already holds a project. Open it, or choose an empty folder.")
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{folder} is a file, not a folder.")


def create_project(folder: Path, settings: ProjectSettings | None = None) -> Project:
    """Start a project in ``folder`` (new or empty-ish) and write it."""
    folder = Path(folder)
    check_new_project_folder(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"Could not create the project folder {folder}: {e.strerror or e}.") from None
    project = Project(folder, settings or ProjectSettings())
    if project.settings.dataset is not None and project.settings.dataset.kind == FOLDER:
        project.set_dataset(Path(project.settings.dataset.path))  # compute the relative path
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
        settings = ProjectSettings.from_dict(data)
    except (TypeError, ValueError, KeyError) as e:
        raise UserError(f"The project file {file} is damaged ({e}).") from None
    return Project(folder, settings, [str(r) for r in data.get("runs", [])], data.get("created", time.time()))


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Bring a project.json of any earlier schema up to ``SCHEMA_VERSION``."""
    data = dict(data)
    version = data.get("schema_version", 0)
    if not isinstance(version, int) or version < 0:
        raise ValueError(f"schema_version {version!r} is not a version number")
    if version > SCHEMA_VERSION:
        raise UserError("This project was saved by a newer Transfer Studio; update the app to open it.")
    if version == 0:
        data = _migrate_v0(data)
    return data


def _migrate_v0(old: dict[str, Any]) -> dict[str, Any]:
    """Schema 0 (the prototype): flat keys, augmentation as a preset name, runs as paths."""
    folder = old.get("data_folder")
    augmentation = old.get("augmentation", "light")
    if isinstance(augmentation, str):
        augmentation = AugmentationSpec.preset(augmentation).to_dict()
    fine_tune_epochs = int(old.get("fine_tune_epochs", 0))
    training = TrainingSettings(
        epochs=int(old.get("epochs", 5)), batch_size=int(old.get("batch_size", 32)),
        learning_rate=float(old.get("learning_rate", 1e-3)), optimizer=old.get("optimizer", "adam"),
        fine_tune=fine_tune_epochs > 0, fine_tune_epochs=fine_tune_epochs or 5,
        unfreeze_layers=int(old.get("unfreeze", 10)),
    )
    return {
        "schema_version": 1,
        "dataset": asdict(DatasetRef(FOLDER, folder)) if folder else asdict(DatasetRef(DEMO)),
        "split": asdict(SplitSettings(float(old.get("subset", 100)), float(old.get("validation_split", 0.2)),
                                      int(old.get("seed", 42)))),
        "augmentation": augmentation,
        "model": asdict(ModelChoice(old.get("base", DEFAULT_BACKBONE), old.get("alpha"),
                                    int(old.get("image_size", 224)), old.get("weights", "imagenet"))),
        "training": asdict(training),
        "runs": list(old.get("runs", [])),
    }
