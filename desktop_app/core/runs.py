"""Training runs on disk. ``RunFolder`` is the one owner of a run folder's files.

Every file of a run is named, read and written here: its settings (``config.json``),
its history, metrics, class names, model, summary, checkpoints and their metadata,
its evaluation and lab report. No other module spells those names. No TensorFlow.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop_app.core.errors import UserError
from desktop_app.core.fileio import copy_atomic, write_json_atomic, write_text_atomic
from desktop_app.core.paths import user_data_dir
from desktop_app.core.session import FINE_TUNING, TrainingConfig

BEST = "best"
LAST = "last"
LABELS_FILE = "labels.txt"  # beside every model file the app writes, run folder or export
MODEL_FILE = "model.keras"


def _read_json(path: Path, default: Any) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default


def read_labels(folder: Path) -> list[str]:
    """The class names in ``folder/labels.txt``, one a line, in the model's output order."""
    labels = Path(folder) / LABELS_FILE
    try:
        return [line.strip() for line in labels.read_text(encoding="utf-8").splitlines() if line.strip()]
    except OSError:
        raise UserError(f"{labels} is missing: the model needs it to name its classes.") from None


def write_labels(folder: Path, classes: list[str]) -> Path:
    target = Path(folder) / LABELS_FILE
    write_text_atomic(target, "".join(f"{name}\n" for name in classes))
    return target


@dataclass(frozen=True)
class CheckpointInfo:
    kind: str
    path: Path
    epoch: int
    metrics: dict
    saved_at: float


class RunFolder:
    """One training run's folder."""

    CONFIG = "config.json"
    HISTORY = "history.json"
    METRICS = "metrics.json"
    SUMMARY = "summary.txt"
    EVALUATION = "evaluation.json"
    REPORT = "report.html"
    CHECKPOINTS = "checkpoints"
    STAGING = ".incoming"  # inside checkpoints/: Keras writes here, then files are renamed into place

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RunFolder) and self.path == other.path

    def __hash__(self) -> int:
        return hash(self.path)

    @property
    def name(self) -> str:
        return self.path.name

    # -- files ----------------------------------------------------------------------------
    @property
    def config_path(self) -> Path:
        return self.path / self.CONFIG

    @property
    def history_path(self) -> Path:
        return self.path / self.HISTORY

    @property
    def metrics_path(self) -> Path:
        return self.path / self.METRICS

    @property
    def model_path(self) -> Path:
        return self.path / MODEL_FILE

    @property
    def summary_path(self) -> Path:
        return self.path / self.SUMMARY

    @property
    def evaluation_path(self) -> Path:
        return self.path / self.EVALUATION

    @property
    def report_path(self) -> Path:
        return self.path / self.REPORT

    @property
    def checkpoint_dir(self) -> Path:
        return self.path / self.CHECKPOINTS

    @property
    def staging_dir(self) -> Path:
        return self.checkpoint_dir / self.STAGING

    def checkpoint_path(self, kind: str, staged: bool = False) -> Path:
        return (self.staging_dir if staged else self.checkpoint_dir) / f"{kind}.keras"

    def checkpoint_meta_path(self, kind: str) -> Path:
        return self.checkpoint_path(kind).with_suffix(".json")

    # -- what is there ---------------------------------------------------------------------
    def is_run(self) -> bool:
        return self.config_path.is_file()

    def has_model(self) -> bool:
        return self.model_path.is_file()

    # -- reading and writing ---------------------------------------------------------------
    def create(self) -> None:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise UserError(f"Cannot write to the output folder {self.path}: {e.strerror}.") from None

    def read_config(self) -> TrainingConfig:
        try:
            return TrainingConfig.from_dict(json.loads(self.config_path.read_text(encoding="utf-8")), self.path)
        except (OSError, ValueError, KeyError, TypeError):
            raise UserError(f"{self.path} is not a training run folder that can be used: its {self.CONFIG} "
                            "is missing or damaged.") from None

    def write_config(self, config: TrainingConfig) -> None:
        write_json_atomic(self.config_path, config.to_dict())

    def read_history(self) -> list[dict]:
        return _read_json(self.history_path, [])

    def write_history(self, history: list[dict]) -> None:
        write_json_atomic(self.history_path, history)

    def read_metrics(self) -> dict:
        return _read_json(self.metrics_path, {})

    def write_metrics(self, metrics: dict) -> None:
        write_json_atomic(self.metrics_path, metrics)

    def read_labels(self) -> list[str]:
        return read_labels(self.path)

    def write_labels(self, classes: list[str]) -> None:
        write_labels(self.path, classes)

    def write_summary(self, text: str) -> None:
        write_text_atomic(self.summary_path, text)

    def read_checkpoint_meta(self, kind: str) -> dict | None:
        return _read_json(self.checkpoint_meta_path(kind), None)

    def write_checkpoint_meta(self, kind: str, meta: dict) -> None:
        write_json_atomic(self.checkpoint_meta_path(kind), meta)

    def checkpoints(self) -> list[CheckpointInfo]:
        """The published checkpoints with the epoch and metrics they were saved at."""
        found = []
        for kind in (BEST, LAST):
            path, meta = self.checkpoint_path(kind), self.read_checkpoint_meta(kind)
            if meta is not None and path.exists():
                found.append(CheckpointInfo(kind, path, meta["epoch"], meta.get("metrics", {}), meta["saved_at"]))
        return found

    def restore_checkpoint(self, kind: str) -> Path:
        """Make a checkpoint the run's model (``model.keras``, what evaluation and export use)."""
        copy_atomic(self.checkpoint_path(kind), self.model_path)
        return self.model_path

    def publish_model(self, kind: str = BEST) -> bool:
        """The end of a run: the chosen checkpoint becomes the run's model, if there is one."""
        if not self.checkpoint_path(kind).exists():
            return False
        self.restore_checkpoint(kind)
        return True

    def info(self) -> RunInfo | None:
        """What lists show about the run; None when it is not a usable run folder."""
        try:
            config = self.read_config()
        except UserError:
            return None
        return RunInfo(self.path, config, self.read_history(), self.read_metrics())


def runs_dir() -> Path:
    """Where runs started from the GUI go until they belong to a project."""
    return user_data_dir() / "runs"


def new_run_dir(backbone: str, parent: Path | None = None) -> Path:
    parent = Path(parent) if parent is not None else runs_dir()
    stem = f"{time.strftime('%Y-%m-%d_%H-%M-%S')}_{backbone}"
    path, n = parent / stem, 1
    while path.exists():
        n += 1
        path = parent / f"{stem}_{n}"
    return path


@dataclass(frozen=True)
class RunInfo:
    path: Path
    config: TrainingConfig
    history: list[dict]
    metrics: dict

    @property
    def folder(self) -> RunFolder:
        return RunFolder(self.path)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def label(self) -> str:
        """A short description for lists: data share, fine-tuned or not, best accuracy."""
        best = self.metrics.get("best_val_accuracy")
        score = f", best {100 * best:.0f} %" if best is not None else ""
        tuned = ", fine-tuned" if any(row.get("phase") == FINE_TUNING for row in self.history) else ""
        return f"{self.name} ({self.config.split.subset_percent:g} % data{tuned}{score})"


def weights_words(weights: str | None) -> str:
    """A run's ``weights`` setting in words, for the lab report and the model card."""
    if weights == "imagenet":
        return "ImageNet"
    return weights or "random (no pretraining)"


def read_run(path: Path) -> RunInfo | None:
    return RunFolder(path).info()


def list_runs(parent: Path | None = None) -> list[RunInfo]:
    """Runs under ``parent`` (default ``runs_dir()``), newest first."""
    parent = Path(parent) if parent is not None else runs_dir()
    if not parent.is_dir():
        return []
    runs = [read_run(p) for p in parent.iterdir() if p.is_dir()]
    return sorted((r for r in runs if r is not None), key=lambda r: r.path.stat().st_mtime, reverse=True)
