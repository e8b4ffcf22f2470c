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
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise UserError(f"{run_dir} is not a training run folder that can be resumed ({e}).") from None
