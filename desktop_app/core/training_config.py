"""Training settings and run-folder files: plain data, importable without TensorFlow."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from desktop_app.core.augmentation import AugmentationSpec
from desktop_app.core.backbones import DEFAULT_BACKBONE
from desktop_app.core.errors import UserError
from desktop_app.core.model_builder import HeadSpec, fine_tune_learning_rate

FEATURE_EXTRACTION = "feature_extraction"
FINE_TUNING = "fine_tuning"
METRIC_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy")
CONFIG_FILE = "config.json"
HISTORY_FILE = "history.json"


@dataclass(frozen=True)
class TrainingConfig:
    data: Path
    out: Path
    backbone: str = DEFAULT_BACKBONE
    alpha: float | None = None
    weights: str | None = "imagenet"
    img_size: int = 224
    epochs: int = 5  # feature-extraction epochs
    batch_size: int = 32
    learning_rate: float = 1e-3
    optimizer: str = "adam"
    subset_percent: float = 100.0
    val_fraction: float = 0.2
    seed: int = 42
    augmentation: AugmentationSpec = field(default_factory=lambda: AugmentationSpec.preset("light"))
    head: HeadSpec = field(default_factory=HeadSpec)
    fine_tune_epochs: int = 0
    unfreeze_layers: int = 10
    fine_tune_learning_rate: float | None = None  # None: learning_rate / 10
    fast: bool | None = None  # None: on whenever it applies

    @property
    def total_epochs(self) -> int:
        return self.epochs + self.fine_tune_epochs

    @property
    def fine_tune_lr(self) -> float:
        if self.fine_tune_learning_rate is not None:
            return self.fine_tune_learning_rate
        return fine_tune_learning_rate(self.learning_rate)

    def to_dict(self) -> dict:
        data = asdict(self)
        data.update(data=str(self.data), out=str(self.out), augmentation=self.augmentation.to_dict())
        return data

    @classmethod
    def from_dict(cls, data: dict) -> TrainingConfig:
        known = {f.name for f in fields(cls)}
        data = {k: v for k, v in data.items() if k in known}
        data.update(data=Path(data["data"]), out=Path(data["out"]))
        if "augmentation" in data:
            data["augmentation"] = AugmentationSpec.from_dict(data["augmentation"])
        if "head" in data:
            data["head"] = HeadSpec(**data["head"])
        return cls(**data)


@dataclass
class TrainingResult:
    run_dir: Path
    history: list[dict]
    metrics: dict
    stopped_early: bool


def fast_mode_decision(config: TrainingConfig) -> tuple[bool, str]:
    """Whether feature extraction runs in fast mode, and why, in words for the Train page."""
    if config.fast is False:
        return False, "Fast mode is switched off: every epoch runs the images through the whole model."
    if not config.augmentation.is_identity:
        return False, ("Standard mode: augmentation is on, so every epoch needs freshly changed images "
                       "to go through the base.")
    return True, ("Fast mode: the base is frozen and augmentation is off, so the base looks at each image "
                  "once and the head trains on what it saw.")


def load_history(run_dir: Path) -> list[dict]:
    path = Path(run_dir) / HISTORY_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else []


def load_config(run_dir: Path) -> TrainingConfig:
    path = Path(run_dir) / CONFIG_FILE
    try:
        return TrainingConfig.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        raise UserError(f"{run_dir} is not a training run folder that can be resumed: its {CONFIG_FILE} "
                        "is missing or damaged.") from None


def history_at_checkpoint(history: list[dict], checkpoint_row: dict | None) -> list[dict]:
    """The history as it was when the last checkpoint was written.

    A crash can fall between writing history.json and publishing last.keras (either
    order): resuming must continue from the checkpoint, so the history is cut back to
    it, or completed with the row the checkpoint recorded.
    """
    if checkpoint_row is None:
        return history
    epoch = checkpoint_row["epoch"]
    rows = [row for row in history if row["epoch"] <= epoch]
    if not rows or rows[-1]["epoch"] < epoch:
        rows.append(checkpoint_row)
    return rows


def plan_fine_tuning(
    run_dir: Path, more_epochs: int, unfreeze_layers: int | None = None, learning_rate: float | None = None
) -> dict:
    """Settings that make ``TrainingJob.resume`` fine-tune ``more_epochs`` more epochs.

    A feature-extraction phase that was stopped early ends where it stopped; a run
    that was fine-tuned before goes on fine-tuning. The CLI and the Train page share this.
    """
    config = load_config(run_dir)
    history = load_history(run_dir)
    tuned = sum(1 for row in history if row.get("phase") == FINE_TUNING)
    changes: dict = {
        "epochs": min(len(history) - tuned, config.epochs),
        "fine_tune_epochs": tuned + more_epochs,
    }
    if unfreeze_layers is not None:
        changes["unfreeze_layers"] = unfreeze_layers
    if learning_rate is not None:
        changes["fine_tune_learning_rate"] = learning_rate
    return changes
