"""Command-line flags for the session's settings: one line each, the defaults come from the session.

``add_setting_flags`` puts every flag of ``FLAGS`` on a parser without a default, so a
command can tell what was given (``--weights none`` is given, as None); ``settings_from_args`` fills the rest from the
session's own defaults (``core.session``), so a default is never written twice.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from desktop_app.core.model.backbones import BACKBONES
from desktop_app.core.model.builder import OPTIMIZERS
from desktop_app.core.session import ModelSettings, Settings, SplitSettings, TrainingSettings


def _weights(text: str) -> str | None:
    if text.lower() == "none":
        return None
    if text.lower() == "imagenet":
        return "imagenet"
    return str(Path(text).expanduser())


def _percent(text: str) -> float:
    value = float(text.rstrip("%"))
    if not 0 < value <= 100:
        raise argparse.ArgumentTypeError("must be a percentage between 0 (exclusive) and 100")
    return value


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError("must be a fraction between 0 and 1")
    return value


@dataclass(frozen=True)
class Flag:
    """``--flag`` sets ``section.field``; the rest are argparse's keyword arguments."""

    flag: str
    setting: str  # "section.field"
    options: dict[str, Any]

    @property
    def section(self) -> str:
        return self.setting.split(".")[0]

    @property
    def field(self) -> str:
        return self.setting.split(".")[1]

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")


def flag(name: str, setting: str, help: str, **options: Any) -> Flag:
    return Flag(name, setting, {"help": help, **options})


FLAGS: tuple[Flag, ...] = (
    flag("--base", "model.backbone", "pretrained base model: " + ", ".join(BACKBONES),
         choices=sorted(BACKBONES), metavar="NAME"),
    flag("--alpha", "model.alpha", "width of a MobileNet base (e.g. 0.25, 0.5, 0.75, 1.0)", type=float),
    flag("--weights", "model.weights", "imagenet (download), none (random), or a Keras weights file for the base",
         type=_weights),
    flag("--img-size", "model.img_size", "images are resized to this many pixels square", type=int),
    flag("--pooling", "model.pooling", "how the head pools the base's output", choices=("avg", "max")),
    flag("--dropout", "model.dropout", "dropout rate before the output layer (0: none)", type=float),
    flag("--hidden-units", "model.hidden_units", "size of an extra dense layer in the head (0: none)", type=int),
    flag("--subset", "split.subset_percent", "train on this percentage of the training images, per class",
         type=_percent, metavar="PERCENT"),
    flag("--val-split", "split.val_fraction", "fraction kept for validation when DATA has no test/ folder",
         type=_fraction, metavar="FRACTION"),
    flag("--seed", "split.seed", "random seed: same seed, same split and run", type=int),
    flag("--epochs", "training.epochs", "passes over the training images with the base frozen", type=int),
    flag("--batch-size", "training.batch_size", "images per training step", type=int),
    flag("--lr", "training.learning_rate", "learning rate for feature extraction", type=float),
    flag("--optimizer", "training.optimizer", "optimizer", choices=sorted(OPTIMIZERS)),
    flag("--label-smoothing", "training.label_smoothing", "spread this share of each label over the other "
         "classes, so the model is not pushed to be 100 %% sure", type=float, metavar="SHARE"),
    flag("--fast", "training.fast", "compute the frozen base's features once and train the head on them, "
         "when augmentation is off", action=argparse.BooleanOptionalAction),
    flag("--mixed-precision", "training.mixed_precision", "compute in float16 where it is faster (NVIDIA GPUs "
         "of compute capability 7.0 or newer; elsewhere the run says it is not used)",
         action=argparse.BooleanOptionalAction),
    flag("--unfreeze", "training.unfreeze_layers",
         "layers of the base to unfreeze for fine-tuning (BatchNorm stays frozen)", type=int, metavar="N"),
    flag("--fine-tune-lr", "training.fine_tune_learning_rate", "learning rate for fine-tuning (default: --lr / 10)",
         type=float, metavar="LR"),
)
SECTIONS = {"model": ModelSettings, "split": SplitSettings, "training": TrainingSettings}


def default_of(f: Flag) -> Any:
    return getattr(SECTIONS[f.section](), f.field)


def add_setting_flags(parser: argparse.ArgumentParser, sections: tuple[str, ...] = tuple(SECTIONS)) -> None:
    for f in FLAGS:
        if f.section in sections:
            options = dict(f.options)
            default = default_of(f)
            if default is not None and "action" not in options:
                options["help"] += f" (default {default})"
            parser.add_argument(f.flag, dest=f.dest, default=argparse.SUPPRESS, **options)


def given_settings(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """{section: {field: value}} for the setting flags given on the command line."""
    given: dict[str, dict[str, Any]] = {}
    for f in FLAGS:
        if hasattr(args, f.dest):
            given.setdefault(f.section, {})[f.field] = getattr(args, f.dest)
    return given


def settings_from_args(args: argparse.Namespace, base: Settings | None = None) -> Settings:
    """The session's defaults (or ``base``) with the flags given applied."""
    settings = base or Settings()
    for section, changes in given_settings(args).items():
        settings = replace(settings, **{section: replace(getattr(settings, section), **changes)})
    return settings
