"""The user's choices: one evented model, every default defined once.

``Session`` holds what the user chose on each step as one frozen dataclass per step
(dataset, split, augmentation, model, training and fine-tuning) and emits an event
when one changes (psygnal's evented dataclass, the event library napari uses). Pages
show the session and write the user's edits into it; a project file saves its
``settings()``; a run's ``config.json`` is its ``training_config(...)``. Beside the
choices it carries what follows from them and is never saved: the checked dataset,
the run the pages show, the folder new runs go to, the run that just finished, the
classes renamed since earlier runs and the runs the app must not write into.

Adding a setting: a field in one of the step dataclasses here, the widget that shows
it, its CLI flag (``cli/settings_flags.py``), and its use. No Qt, no TensorFlow.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from psygnal import evented

from desktop_app.core.augment.spec import AugmentationSpec
from desktop_app.core.errors import UserError

CONFIG_SCHEMA_VERSION = 3  # 3: the run records its photos in split.json, its data folder absolute
FINE_TUNE_LR_FACTOR = 10  # fine-tuning learns this many times slower than feature extraction
FEATURE_EXTRACTION = "feature_extraction"
FINE_TUNING = "fine_tuning"
STEP_SECTIONS = ("dataset", "split", "augmentation", "model", "training")


def default_augmentation() -> AugmentationSpec:
    return AugmentationSpec.preset("light")


def fine_tune_learning_rate(learning_rate: float) -> float:
    """Fine-tuning continues 10x slower, so the unfrozen pretrained layers change only a little."""
    return learning_rate / FINE_TUNE_LR_FACTOR


@dataclass(frozen=True)
class DatasetChoice:
    """The Data step's folder; None is the built-in demo dataset."""

    folder: Path | None = None

    @property
    def is_demo(self) -> bool:
        return self.folder is None

    def to_dict(self) -> dict[str, Any]:
        return {"folder": None if self.folder is None else str(self.folder)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetChoice:
        folder = data.get("folder")
        return cls(Path(folder) if folder else None)


@dataclass(frozen=True)
class SplitSettings:
    """Which photos a run learns from and which it is checked on (Data step)."""

    subset_percent: float = 100.0
    val_fraction: float = 0.2
    seed: int = 42


@dataclass(frozen=True)
class ModelSettings:
    """The pretrained base and the head on top of it (Model step)."""

    backbone: str = "efficientnet_v2_b0"  # a key of model.backbones.BACKBONES
    alpha: float | None = None  # width, for the MobileNets; None: the base's default
    img_size: int = 224
    weights: str | None = "imagenet"  # "imagenet", None (random) or a weights file
    pooling: str = "avg"  # "avg" or "max"
    dropout: float = 0.0
    hidden_units: int = 0  # 0: no hidden dense layer


# The Quick experiment (Train page): the notebook's "10 % of the photos, 5 epochs", with the
# settings bench/recipe.py measured to do well in that time (bench/README.md).
QUICK_EXPERIMENT: dict = {"subset_percent": 10.0, "epochs": 5, "learning_rate": 3e-3, "fast": True}


@dataclass(frozen=True)
class TrainingSettings:
    """Feature extraction, then optional fine-tuning (Train step)."""

    epochs: int = 5  # feature-extraction epochs
    batch_size: int = 32
    learning_rate: float = 1e-3
    optimizer: str = "adam"
    label_smoothing: float = 0.0  # part of each one-hot label spread over the other classes
    fast: bool = True  # while the base is frozen, the head learns from stored embeddings (and versions)
    mixed_precision: bool = False  # float16 arithmetic on GPUs that are faster with it; ignored elsewhere
    fine_tune: bool = False
    fine_tune_epochs: int = 5
    unfreeze_layers: int = 10
    fine_tune_learning_rate: float | None = None  # None: learning_rate / 10

    @property
    def fine_tune_lr(self) -> float:
        if self.fine_tune_learning_rate is not None:
            return self.fine_tune_learning_rate
        return fine_tune_learning_rate(self.learning_rate)

    @property
    def planned_fine_tune_epochs(self) -> int:
        return self.fine_tune_epochs if self.fine_tune else 0

    @property
    def total_epochs(self) -> int:
        return self.epochs + self.planned_fine_tune_epochs


SECTION_TYPES: dict[str, type] = {
    "dataset": DatasetChoice, "split": SplitSettings, "augmentation": AugmentationSpec,
    "model": ModelSettings, "training": TrainingSettings,
}


# Every field name of the split, model and training settings, and the step it belongs to.
FIELD_SECTIONS = {f.name: section for section in ("split", "model", "training")
                  for f in fields(SECTION_TYPES[section])}


def section_from_dict(name: str, data: dict[str, Any] | None) -> Any:
    """One step's settings from JSON; keys this version does not know are ignored."""
    cls = SECTION_TYPES[name]
    data = dict(data or {})
    if cls is AugmentationSpec:
        return AugmentationSpec.from_dict(data)
    if cls is DatasetChoice:
        return DatasetChoice.from_dict(data)
    known = {f.name: f for f in fields(cls)}
    values = {k: _checked(name, k, known[k].type, v) for k, v in data.items() if k in known}
    return cls(**values)


_JSON_TYPES = {"int": (int,), "float": (int, float), "str": (str,), "bool": (bool,)}


def _checked(section: str, name: str, annotation: str, value: Any) -> Any:
    """A value from a file, of the declared type ("float | None" allows null), floats as floats."""
    kinds = [k.strip() for k in annotation.split("|")]
    if value is None and "None" in kinds:
        return None
    allowed = tuple(t for k in kinds for t in _JSON_TYPES.get(k, ()))
    if not isinstance(value, allowed) or (isinstance(value, bool) and "bool" not in kinds):
        raise ValueError(f"{section}.{name} cannot be {value!r}")
    # JSON gives 1 where 1.0 was saved: keep settings comparable.
    return float(value) if "float" in kinds and not isinstance(value, bool) else value


def section_to_dict(value: Any) -> dict[str, Any]:
    return value.to_dict() if hasattr(value, "to_dict") else asdict(value)


@dataclass(frozen=True)
class FinishedRun:
    """A run that has just finished training: its model, history and metrics are written."""

    path: Path
    stopped: bool  # by Stop, or by a problem, before its last epoch
    at: float = field(default_factory=time.monotonic)  # the same run finishing again is a new event


@dataclass
class Settings:
    """Everything the user chose, step by step: what a project saves."""

    dataset: DatasetChoice = field(default_factory=DatasetChoice)
    split: SplitSettings = field(default_factory=SplitSettings)
    augmentation: AugmentationSpec = field(default_factory=default_augmentation)
    model: ModelSettings = field(default_factory=ModelSettings)
    training: TrainingSettings = field(default_factory=TrainingSettings)

    def to_dict(self) -> dict[str, Any]:
        return {name: section_to_dict(getattr(self, name)) for name in STEP_SECTIONS}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Settings:
        return cls(**{name: section_from_dict(name, data.get(name)) for name in STEP_SECTIONS if name in data})


@evented
@dataclass
class Session(Settings):
    """The user's choices (``Settings``) and what follows from them, with change events.

    ``session.events.<field>.connect(callback)`` calls ``callback(new, old)`` on a change;
    ``session.events.connect`` hears every field.
    """

    index: Any = field(default=None, compare=False)  # the checked DatasetIndex of ``dataset``
    run: Path | None = field(default=None, compare=False)  # the run the Train, Evaluate and Export pages show
    runs_folder: Path | None = field(default=None, compare=False)  # where new runs go (a project's runs/)
    finished_run: FinishedRun | None = field(default=None, compare=False)
    class_renames: dict = field(default_factory=dict, compare=False)  # classes renamed since runs: old -> new
    protected_runs: frozenset = field(default_factory=frozenset, compare=False)  # runs the app must not write into
    base_widths: dict = field(default_factory=dict, compare=False)  # width last used with each base (choose_base)

    def may_write(self, run: Path | None) -> bool:
        """Whether the app may write into a run folder (not into runs outside the open project)."""
        return run is not None and Path(run).resolve() not in self.protected_runs

    def settings(self) -> Settings:
        return Settings(**{name: getattr(self, name) for name in STEP_SECTIONS})

    def apply(self, settings: Settings) -> None:
        """Show another set of choices (a project opened, defaults restored)."""
        for name in STEP_SECTIONS:
            setattr(self, name, getattr(settings, name))

    def update(self, section: str, **changes: Any) -> None:
        """Change some fields of one step's settings, e.g. ``update("training", epochs=3)``."""
        setattr(self, section, replace(getattr(self, section), **changes))

    def training_config(self, data: Path, out: Path) -> TrainingConfig:
        return TrainingConfig(Path(data), Path(out), self.split, self.augmentation, self.model, self.training)


@dataclass(frozen=True)
class TrainingConfig:
    """What a run trains with: the session's split, augmentation, model and training
    settings, the dataset folder and the run folder. Saved as the run's ``config.json``."""

    data: Path
    out: Path
    split: SplitSettings = field(default_factory=SplitSettings)
    augmentation: AugmentationSpec = field(default_factory=default_augmentation)
    model: ModelSettings = field(default_factory=ModelSettings)
    training: TrainingSettings = field(default_factory=TrainingSettings)

    @classmethod
    def of(cls, data: Path, out: Path, augmentation: AugmentationSpec | None = None, **settings: Any) -> TrainingConfig:
        """A config from the settings' own field names, each sent to its step, e.g.
        ``of(data, out, backbone="mobilenet", epochs=2, seed=7)``; a ``fine_tune_epochs``
        given without ``fine_tune`` switches fine-tuning on when it is above 0."""
        if "fine_tune_epochs" in settings and "fine_tune" not in settings:
            settings["fine_tune"] = settings["fine_tune_epochs"] > 0
        sections: dict[str, dict[str, Any]] = {}
        for name, value in settings.items():
            sections.setdefault(FIELD_SECTIONS[name], {})[name] = value
        return cls(Path(data), Path(out), augmentation=augmentation or default_augmentation(),
                   **{section: SECTION_TYPES[section](**values) for section, values in sections.items()})

    def with_changes(self, section: str, **changes: Any) -> TrainingConfig:
        return replace(self, **{section: replace(getattr(self, section), **changes)})

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": CONFIG_SCHEMA_VERSION, "data": str(self.data),
                **{name: section_to_dict(getattr(self, name)) for name in STEP_SECTIONS[1:]}}

    @classmethod
    def from_dict(cls, data: dict[str, Any], out: Path) -> TrainingConfig:
        """Read a ``config.json`` of any version; ``out`` is the folder it lies in."""
        data = migrate_config(data)
        sections = {name: section_from_dict(name, data.get(name)) for name in STEP_SECTIONS[1:]}
        return cls(Path(data["data"]), Path(out), **sections)


def migrated(data: dict[str, Any], current: int, steps: dict[int, Callable[[dict], dict]], unversioned: int,
             newer: str) -> dict[str, Any]:
    """``data`` brought to schema ``current``, one step at a time (``steps[v]`` turns version v
    into the next); a file without ``schema_version`` is version ``unversioned``."""
    version = data.get("schema_version", unversioned)
    if not isinstance(version, int) or version < unversioned:
        raise ValueError(f"schema_version {version!r} is not a version number")
    if version > current:
        raise UserError(newer)
    while version < current:
        data = steps[version](dict(data))
        version = data["schema_version"]
    return data


def migrate_config(data: dict[str, Any]) -> dict[str, Any]:
    """Bring a run's config.json up to ``CONFIG_SCHEMA_VERSION``."""
    return migrated(data, CONFIG_SCHEMA_VERSION, {1: _migrate_config_v1, 2: _migrate_config_v2}, 1,
                    "This run was made by a newer Transfer Studio; update the app to use it.")


def _migrate_config_v1(old: dict[str, Any]) -> dict[str, Any]:
    """Version 1 (no schema_version): one flat object, the head as a nested object."""
    head = old.get("head") or {}
    fine_tune_epochs = int(old.get("fine_tune_epochs") or 0)
    training = {k: old[k] for k in ("epochs", "batch_size", "learning_rate", "optimizer", "unfreeze_layers",
                                    "fine_tune_learning_rate") if k in old}
    training.update(fast=old.get("fast") is not False, fine_tune=fine_tune_epochs > 0)
    if fine_tune_epochs:
        training["fine_tune_epochs"] = fine_tune_epochs
    return {
        "schema_version": 2,
        "data": old["data"],
        "split": {k: old[k] for k in ("subset_percent", "val_fraction", "seed") if k in old},
        "augmentation": old.get("augmentation", AugmentationSpec.preset("light", first_meaning=True).to_dict()),
        "model": {**{k: old[k] for k in ("backbone", "alpha", "img_size", "weights") if k in old},
                  **{k: head[k] for k in ("pooling", "dropout", "hidden_units") if k in head}},
        "training": training,
    }


def _migrate_config_v2(old: dict[str, Any]) -> dict[str, Any]:
    """Version 2: the same fields; the data folder may be relative (as typed), and the run
    has no split.json (``RunFolder`` finds both again for such runs)."""
    return {**old, "schema_version": 3}
