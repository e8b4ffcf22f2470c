"""Advice after a run: one plain sentence, and an action, from small realistic histories."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_app.core.augment.spec import AugmentationSpec
from desktop_app.core.results import advice as a
from desktop_app.core.results.advice import advise, advise_run, more_epochs
from desktop_app.core.runs import RunFolder
from desktop_app.core.session import FEATURE_EXTRACTION, FINE_TUNING, TrainingConfig


def config(weights: str | None = "imagenet", augmentation: AugmentationSpec | None = None, **training) -> TrainingConfig:
    return TrainingConfig.of(Path("data"), Path("run"), augmentation=augmentation or AugmentationSpec.preset("light"),
                             weights=weights, learning_rate=training.pop("learning_rate", 0.001), **training)


def history(*scores, phase: str = FEATURE_EXTRACTION, first: int = 1) -> list[dict]:
    """Rows from (accuracy, val_accuracy, val_loss) triples, one per epoch."""
    return [{"epoch": first + i, "phase": phase, "loss": 1.0 - acc / 2, "accuracy": acc, "val_loss": val_loss,
             "val_accuracy": val_acc, "learning_rate": 0.001} for i, (acc, val_acc, val_loss) in enumerate(scores)]


LEVEL = history((0.80, 0.80, 0.55), (0.86, 0.84, 0.47), (0.88, 0.85, 0.46), (0.88, 0.85, 0.46))


def test_an_empty_history_has_no_advice():
    assert advise([], 3, config()) is None


def test_no_better_than_a_guess_with_random_weights_points_to_the_model_page():
    rows = history((0.36, 0.33, 1.10), (0.38, 0.35, 1.09), (0.37, 0.34, 1.09))
    advice = advise(rows, 3, config(weights=None))
    assert (advice.case, advice.action) == (a.NEAR_CHANCE, a.GO_TO_MODEL)
    assert "guess" in advice.text and "ImageNet weights" in advice.text and "Model page" in advice.text


def test_no_better_than_a_guess_with_imagenet_weights_is_about_the_photos():
    rows = history((0.55, 0.52, 0.69), (0.58, 0.53, 0.69))
    advice = advise(rows, 2, config())
    assert (advice.case, advice.action) == (a.NEAR_CHANCE, None)
    assert "guess" in advice.text and "class folder" in advice.text


def test_jumping_up_and_down_halves_the_learning_rate():
    rows = history((0.70, 0.55, 0.90), (0.80, 0.82, 0.50), (0.78, 0.48, 1.30), (0.85, 0.80, 0.55),
                   (0.83, 0.52, 1.20))
    advice = advise(rows, 3, config(learning_rate=0.01))
    assert (advice.case, advice.action) == (a.UNSTABLE, a.HALVE_LEARNING_RATE)
    assert "up and down" in advice.text and "half the learning rate (0.005)" in advice.text


def test_a_loss_that_broke_down_halves_the_learning_rate_before_anything_else():
    rows = history((0.60, 0.50, 0.90), (0.33, 0.33, 1.10))
    rows[1].update(loss=None, val_loss=None, nan=True)
    advice = advise(rows, 3, config(weights=None))
    assert (advice.case, advice.action) == (a.BROKE_DOWN, a.HALVE_LEARNING_RATE)
    assert "broke down" in advice.text and "half the learning rate" in advice.text


def test_memorising_without_augmentation_points_to_the_augment_page():
    rows = history((0.80, 0.70, 0.70), (0.95, 0.72, 0.68), (0.99, 0.72, 0.69))
    advice = advise(rows, 3, config(augmentation=AugmentationSpec()))
    assert (advice.case, advice.action) == (a.MEMORISING, a.GO_TO_AUGMENT)
    assert "99%" in advice.text and "72%" in advice.text and "augmentation" in advice.text


def test_memorising_with_augmentation_asks_for_more_photos():
    rows = history((0.80, 0.70, 0.70), (0.95, 0.72, 0.68), (0.99, 0.72, 0.69))
    advice = advise(rows, 3, config())
    assert (advice.case, advice.action) == (a.MEMORISING, a.GO_TO_DATA)
    assert "more" in advice.text and "photos" in advice.text and "Data page" in advice.text


def test_still_improving_trains_longer():
    rows = history((0.60, 0.62, 0.90), (0.70, 0.71, 0.72), (0.76, 0.78, 0.60), (0.80, 0.83, 0.52))
    advice = advise(rows, 3, config())
    assert (advice.case, advice.action) == (a.STILL_IMPROVING, a.TRAIN_LONGER)
    assert "still getting better" in advice.text and "83%" in advice.text and f"{a.MORE_EPOCHS} more epochs" in advice.text


def test_a_falling_loss_alone_is_still_improving():
    rows = history((0.86, 0.85, 0.60), (0.87, 0.85, 0.50), (0.87, 0.85, 0.43))
    assert advise(rows, 3, config()).case == a.STILL_IMPROVING


def test_levelled_off_without_fine_tuning_suggests_it():
    advice = advise(LEVEL, 3, config())
    assert (advice.case, advice.action) == (a.READY_TO_FINE_TUNE, a.FINE_TUNE)
    assert "fine-tune" in advice.text


def test_levelled_off_after_fine_tuning_says_so():
    rows = LEVEL + history((0.89, 0.86, 0.45), (0.89, 0.86, 0.45), phase=FINE_TUNING, first=5)
    advice = advise(rows, 3, config())
    assert (advice.case, advice.action) == (a.LEVELLED_OFF, None)
    assert "levelled off at 86%" in advice.text


def test_levelled_off_with_random_weights_points_to_pretrained_ones():
    advice = advise(LEVEL, 3, config(weights=None))
    assert (advice.case, advice.action) == (a.LEVELLED_OFF, a.GO_TO_MODEL)
    assert "ImageNet weights" in advice.text


def test_every_sentence_is_one_sentence():
    for rows, weights in ((LEVEL, "imagenet"), (LEVEL, None), (history((0.4, 0.34, 1.1)), None)):
        text = advise(rows, 3, config(weights=weights)).text
        assert text.endswith(".") and text.count(". ") == 0


@pytest.mark.parametrize("rows, expected", [
    (history((0.7, 0.7, 0.6), (0.8, 0.8, 0.5)), {"epochs": 2 + a.MORE_EPOCHS, "fine_tune": False}),
    (LEVEL + history((0.9, 0.86, 0.45), phase=FINE_TUNING, first=5),
     {"epochs": 4, "fine_tune": True, "fine_tune_epochs": 1 + a.MORE_EPOCHS}),
])
def test_more_epochs_continue_the_phase_the_run_ended_in(rows, expected):
    assert more_epochs(rows) == expected


def test_advice_for_a_run_folder(tmp_path):
    run = RunFolder(tmp_path / "run")
    assert advise_run(run.path) is None  # nothing trained yet
    run.create()
    run.write_config(config())
    run.write_history(LEVEL)
    run.write_metrics({"classes": ["blue", "green", "red"]})
    assert advise_run(run.path).case == a.READY_TO_FINE_TUNE


def test_a_converged_loss_that_wobbles_a_little_is_not_unstable():
    from desktop_app.core.results.advice import UNSTABLE, advise
    from desktop_app.core.session import TrainingConfig

    history = [{"epoch": e, "phase": "feature_extraction", "loss": 0.01, "accuracy": 1.0, "val_loss": loss,
                "val_accuracy": 1.0} for e, loss in enumerate((0.005, 0.012, 0.005, 0.012, 0.005), start=1)]
    advice = advise(history, 3, TrainingConfig.of("data", "run", weights="imagenet"))
    assert advice is not None and advice.case != UNSTABLE
