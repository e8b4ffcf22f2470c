"""Advice after a run, in words: one plain sentence on what to try next, and an action
the Train page can offer as a button.

Read from the run's history (one row per complete epoch), its number of classes and its
settings; the first case that fits wins, in this order: the loss broke down, no better
than a guess, jumping up and down, memorising, still improving, ready to fine-tune,
levelled off. No Qt, no TensorFlow: the window and the command line share it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from desktop_app.core.runs import RunFolder
from desktop_app.core.session import TrainingConfig
from desktop_app.core.train.plan import fine_tuned_epochs

# What the Train page can do about the advice (None: nothing but read it).
GO_TO_MODEL = "go_to_model"
GO_TO_AUGMENT = "go_to_augment"
GO_TO_DATA = "go_to_data"
HALVE_LEARNING_RATE = "halve_learning_rate"
TRAIN_LONGER = "train_longer"
FINE_TUNE = "fine_tune"

# The cases, for tests and for anyone who wants to know why the advice was given.
BROKE_DOWN = "broke_down"
NEAR_CHANCE = "near_chance"
UNSTABLE = "unstable"
MEMORISING = "memorising"
STILL_IMPROVING = "still_improving"
READY_TO_FINE_TUNE = "ready_to_fine_tune"
LEVELLED_OFF = "levelled_off"

CHANCE_MARGIN = 0.05  # a few points above a blind guess is still luck on a small validation set
UNSTABLE_ACCURACY_JUMP = 0.10  # ten points between two epochs is a jump, not learning
UNSTABLE_LOSS_JUMP = 0.30  # so is the loss changing by nearly a third from one epoch to the next,
UNSTABLE_LOSS_FLOOR = 0.05  # and by at least this much: a converged loss of 0.01 may wobble freely
UNSTABLE_SWINGS = 2  # up-down-up: one swing can be the switch to fine-tuning, two are a pattern
MEMORISING_GAP = 0.15  # this much better on the photos it learns from than on new ones: memorising
IMPROVING_EPOCHS = 3  # "lately": the last few epochs, enough to see a trend, few enough to be recent
IMPROVING_ACCURACY_GAIN = 0.02  # about one photo in fifty more right
IMPROVING_LOSS_DROP = 0.05  # the loss still falling by a twentieth
MORE_EPOCHS = 5  # enough to see whether the curve keeps climbing, short enough to wait for in class


@dataclass(frozen=True)
class Advice:
    text: str  # one plain sentence for students and teachers
    action: str | None  # one of the action names above, or None
    case: str | None = None  # which case it is (BROKE_DOWN ... LEVELLED_OFF)


def _swings(values: list[float], is_jump) -> int:
    """How often the values turn around with a big step (small wobbles don't count)."""
    steps = [b - a for a, b in zip(values, values[1:]) if is_jump(a, b)]
    return sum(1 for s, t in zip(steps, steps[1:]) if (s > 0) != (t > 0))


def _broke_down(row: dict) -> bool:
    """Training flags a loss that stopped being a number; older runs kept the NaN itself."""
    return bool(row.get("nan")) or any(isinstance(row.get(k), float) and not math.isfinite(row[k])
                                       for k in ("loss", "val_loss"))


def _still_improving(accuracies: list[float], losses: list[float]) -> bool:
    """Better over the last few epochs, and the last one is the best yet."""
    def recent(values: list[float]) -> float:
        return values[-min(IMPROVING_EPOCHS, len(values))]

    if len(accuracies) >= 2 and accuracies[-1] >= max(accuracies):
        if accuracies[-1] - recent(accuracies) >= IMPROVING_ACCURACY_GAIN:
            return True
    return (len(losses) >= 2 and losses[-1] <= min(losses)
            and recent(losses) - losses[-1] >= IMPROVING_LOSS_DROP * recent(losses))


def advise(history: list[dict], n_classes: int, config: TrainingConfig) -> Advice | None:
    """What to try after a run with this ``history``; None when there is nothing to judge."""
    learning_rate = config.training.learning_rate
    half = f"{learning_rate / 2:g}"
    if any(_broke_down(row) for row in history):
        # Before the guess test: a broken-down model guesses, and its learning rate is why.
        return Advice(f"The training broke down (its mistakes grew too big to count): the steps were too big, so "
                      f"try again with half the learning rate ({half}).", HALVE_LEARNING_RATE, BROKE_DOWN)
    scored = [row for row in history if row.get("val_accuracy") is not None]
    if not scored:
        return None
    best = max(row["val_accuracy"] for row in scored)
    random_base = config.model.weights is None
    if n_classes >= 2 and best <= 1 / n_classes + CHANCE_MARGIN:
        guess = f"The model did no better than a blind guess (best {best:.0%}, guessing gets {1 / n_classes:.0%})"
        if random_base:
            return Advice(f"{guess}: its base has not learned from photos, so import or download its ImageNet "
                          "weights on the Model page, and check that each class folder holds the right photos.",
                          GO_TO_MODEL, NEAR_CHANCE)
        return Advice(f"{guess}: check that each class folder holds the right photos and that the classes "
                      "really look different.", None, NEAR_CHANCE)

    accuracies = [row["val_accuracy"] for row in scored]
    losses = [row["val_loss"] for row in scored if row.get("val_loss") is not None]
    if (_swings(accuracies, lambda a, b: abs(b - a) >= UNSTABLE_ACCURACY_JUMP) >= UNSTABLE_SWINGS
            or _swings(losses, lambda a, b: abs(b - a) >= max(UNSTABLE_LOSS_JUMP * abs(a), UNSTABLE_LOSS_FLOOR))
            >= UNSTABLE_SWINGS):
        return Advice(f"The validation results jumped up and down from epoch to epoch: the steps are too big, so "
                      f"try again with half the learning rate ({half}).", HALVE_LEARNING_RATE, UNSTABLE)

    last = scored[-1]  # "at the end"
    if last.get("accuracy") is not None and last["accuracy"] - last["val_accuracy"] >= MEMORISING_GAP:
        gap = (f"The model gets {last['accuracy']:.0%} of its training photos right but only "
               f"{last['val_accuracy']:.0%} of new ones, so it is memorising them")
        if config.augmentation.is_identity:
            return Advice(f"{gap}: switch on augmentation on the Augment page, or add more photos of each class.",
                          GO_TO_AUGMENT, MEMORISING)
        return Advice(f"{gap}: add more, and more varied, photos of each class on the Data page.",
                      GO_TO_DATA, MEMORISING)

    if _still_improving(accuracies, losses):
        return Advice(f"The model was still getting better in its last epochs ({best:.0%} of the validation photos "
                      f"right at best), so train {MORE_EPOCHS} more epochs.", TRAIN_LONGER, STILL_IMPROVING)

    tuned = fine_tuned_epochs(history) > 0
    if not tuned and not random_base:
        return Advice(f"The new head has learned what it can ({best:.0%} at best): fine-tune now, so the top "
                      "of the base adapts to your photos too, often for a few more points.", FINE_TUNE,
                      READY_TO_FINE_TUNE)
    if random_base:
        return Advice(f"The model has levelled off at {best:.0%}: a base that has learned from millions of "
                      "photos would do better, so import or download its ImageNet weights on the Model page.",
                      GO_TO_MODEL, LEVELLED_OFF)
    return Advice(f"The model has levelled off at {best:.0%}: more epochs will not help much, but more, and more "
                  "varied, photos of each class might.", None, LEVELLED_OFF)


def advise_run(run_dir: Path) -> Advice | None:
    """The advice for a run folder; a UserError when its settings cannot be read."""
    run = RunFolder(run_dir)
    history = run.read_history()
    if not history:
        return None
    classes = run.read_metrics().get("classes") or run.read_labels()
    return advise(history, len(classes), run.read_config())


def more_epochs(history: list[dict], epochs: int = MORE_EPOCHS) -> dict:
    """Changes to a run's training settings that make ``TrainingJob.resume`` train exactly
    ``epochs`` more epochs of the phase the run ended in (feature extraction or fine-tuning)."""
    tuned = fine_tuned_epochs(history)
    if tuned:
        return {"epochs": len(history) - tuned, "fine_tune": True, "fine_tune_epochs": tuned + epochs}
    return {"epochs": len(history) + epochs, "fine_tune": False}
