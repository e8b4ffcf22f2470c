"""Training runs on disk: where they go, what they hold, their checkpoints. No TensorFlow."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from desktop_app.core.fileio import copy_atomic
from desktop_app.core.paths import user_data_dir

BEST = "best"
LAST = "last"


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


def checkpoint_path(checkpoint_dir: Path, kind: str) -> Path:
    return Path(checkpoint_dir) / f"{kind}.keras"


def _read_json(path: Path, default):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default


@dataclass(frozen=True)
class RunInfo:
    path: Path
    config: dict
    history: list[dict]
    metrics: dict

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def label(self) -> str:
        """A short description for lists: base, data share, best accuracy."""
        subset = self.config.get("subset_percent", 100)
        best = self.metrics.get("best_val_accuracy")
        score = f", best {100 * best:.0f} %" if best is not None else ""
        phases = {row.get("phase") for row in self.history}
        tuned = ", fine-tuned" if "fine_tuning" in phases else ""
        return f"{self.name} ({subset:g} % data{tuned}{score})"


def weights_words(weights: str | None) -> str:
    """A run's ``weights`` setting in words, for the lab report and the model card."""
    if weights == "imagenet":
        return "ImageNet"
    return weights or "random (no pretraining)"


def read_run(path: Path) -> RunInfo | None:
    path = Path(path)
    config = _read_json(path / "config.json", None)
    if config is None:
        return None
    return RunInfo(path, config, _read_json(path / "history.json", []), _read_json(path / "metrics.json", {}))


def list_runs(parent: Path | None = None) -> list[RunInfo]:
    """Runs under ``parent`` (default ``runs_dir()``), newest first."""
    parent = Path(parent) if parent is not None else runs_dir()
    if not parent.is_dir():
        return []
    runs = [read_run(p) for p in parent.iterdir() if p.is_dir()]
    return sorted((r for r in runs if r is not None), key=lambda r: r.path.stat().st_mtime, reverse=True)


@dataclass(frozen=True)
class CheckpointInfo:
    kind: str
    path: Path
    epoch: int
    metrics: dict
    saved_at: float


def list_checkpoints(run_dir: Path) -> list[CheckpointInfo]:
    """The run's published checkpoints with the epoch and metrics they were saved at."""
    found = []
    for kind in (BEST, LAST):
        path = checkpoint_path(Path(run_dir) / "checkpoints", kind)
        meta = _read_json(path.with_suffix(".json"), None)
        if meta is not None and path.exists():
            found.append(CheckpointInfo(kind, path, meta["epoch"], meta.get("metrics", {}), meta["saved_at"]))
    return found


def restore_checkpoint(run_dir: Path, kind: str) -> Path:
    """Make a checkpoint the run's model (``model.keras``, what evaluation and export use)."""
    target = Path(run_dir) / "model.keras"
    copy_atomic(checkpoint_path(Path(run_dir) / "checkpoints", kind), target)
    return target
