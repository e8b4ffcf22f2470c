"""What a training run will do, decided without TensorFlow: fast mode or not, how a
fine-tuning continues a run, where a resume starts, and what a run reports at the end."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from desktop_app.core.runs import RunFolder
from desktop_app.core.session import FINE_TUNING, TrainingConfig

METRIC_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy")


@dataclass
class TrainingResult:
    run_dir: Path
    history: list[dict]
    metrics: dict
    stopped_early: bool
    # How many photos (or changed versions of them) the frozen base looked at in this run; the
    # others came from the embedding store (new photos cost one look each, K with the bank).
    base_looks: int = 0


def epoch_rank(metrics: dict) -> tuple[float, float] | None:
    """How good an epoch is, for "best": its validation accuracy, and of epochs as accurate the
    one with the lower validation loss (as right, and surer of it). None for an epoch without
    finite validation numbers, which is never best."""
    try:
        rank = (float(metrics["val_accuracy"]), -float(metrics["val_loss"]))
    except (KeyError, TypeError):
        return None
    return rank if all(math.isfinite(v) for v in rank) else None


def best_row(history: list[dict]) -> dict | None:
    """The best complete epoch of ``history`` (the first of equals), by ``epoch_rank``."""
    ranked = [row for row in history if not row.get("nan") and epoch_rank(row) is not None]
    return max(ranked, key=epoch_rank, default=None)


BANK_VIEWS = 10  # the most changed versions of a photo the augmentation bank keeps


def bank_views(config: TrainingConfig) -> int:
    """How many changed versions of each training photo the augmentation bank makes: one per
    feature-extraction epoch, at most ``BANK_VIEWS``; 0 without augmentation."""
    return 0 if config.augmentation.is_identity else max(1, min(config.training.epochs, BANK_VIEWS))


def fast_mode_decision(config: TrainingConfig) -> tuple[bool, str]:
    """Whether feature extraction runs in fast mode, and why, in words for the Train page."""
    if not config.training.fast:
        return False, ("Fast mode is switched off: every epoch runs the images through the whole model "
                       "(the validation photos through the frozen base only once).")
    views = bank_views(config)
    if not views:
        return True, ("Fast mode: the base is frozen and augmentation is off, so the base looks at each photo "
                      "once and the head trains on what it saw.")
    repeat = (f" Epochs after the {views}th reuse those versions." if config.training.epochs > views else "")
    versions = f"{views} changed versions" if views > 1 else "one changed version"
    return True, (f"Fast mode with augmentation: the frozen base looks once at {versions} of each training "
                  f"photo, and each epoch the head trains on the next version.{repeat}")


def history_at_checkpoint(history: list[dict], meta: dict) -> list[dict]:
    """The history as it was when the checkpoint was published: the checkpoint carries it.

    A crash can fall between publishing last.keras and writing history.json (in either
    order, in runs older than this): a resume continues from the checkpoint, so its own
    history wins; a checkpoint of an older run carries only its row, and the history
    file is cut back to it, or completed with that row.
    """
    if "history" in meta:
        return [dict(row) for row in meta["history"]]
    row = meta.get("row")
    if row is None:
        return history
    epoch = row["epoch"]
    rows = [r for r in history if r["epoch"] <= epoch]
    if not rows or rows[-1]["epoch"] < epoch:
        rows.append(row)
    return rows


def epochs_left(run_dir: Path) -> int:
    """How many of its planned epochs a run has still to train; 0: it finished, and a resume
    without changes has nothing to do."""
    run = RunFolder(run_dir)
    return max(0, run.read_config().training.total_epochs - len(run.settled_history()))


def fine_tuned_epochs(history: list[dict]) -> int:
    """How many of a run's epochs were fine-tuning (they all come after feature extraction)."""
    return sum(1 for row in history if row.get("phase") == FINE_TUNING)


def plan_fine_tuning(
    run_dir: Path, more_epochs: int, unfreeze_layers: int | None = None, learning_rate: float | None = None
) -> dict:
    """Changes to a run's training settings that make ``TrainingJob.resume`` fine-tune
    ``more_epochs`` more epochs.

    A feature-extraction phase that was stopped early ends where it stopped; a run
    that was fine-tuned before goes on fine-tuning. The CLI and the Train page share this.
    """
    run = RunFolder(run_dir)
    config = run.read_config()
    history = run.settled_history()
    tuned = fine_tuned_epochs(history)
    changes: dict = {
        "epochs": min(len(history) - tuned, config.training.epochs),
        "fine_tune": True,
        "fine_tune_epochs": tuned + more_epochs,
    }
    if unfreeze_layers is not None:
        changes["unfreeze_layers"] = unfreeze_layers
    if learning_rate is not None:
        changes["fine_tune_learning_rate"] = learning_rate
    return changes
