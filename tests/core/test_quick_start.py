"""The quick start after a capture: MobileNetV2 at 224 px when its weights are here, else the
best base whose weights are, else a sentence saying how to get them."""

from __future__ import annotations

import shutil

import pytest

from conftest import SHARED_WEIGHTS
from desktop_app.core.model.weights import cache_dir, weights_info
from desktop_app.core.session import QUICK_EXPERIMENT, Session
from desktop_app.core.train.quick_start import QUICK_IMG_SIZE, choose_quick_start


@pytest.fixture(autouse=True)
def empty_weights_cache(tmp_path, monkeypatch):
    """Each test starts with no weights on the computer (and leaves none for the others)."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))


def test_without_weights_it_says_how_to_get_mobilenet_v2s():
    quick = choose_quick_start()
    assert (quick.backbone, quick.alpha, quick.weights_here) == ("mobilenet_v2", 1.0, False)
    assert "Download" in quick.sentence and weights_info("mobilenet_v2", 1.0).file_name in quick.sentence


def test_mobilenet_v2_is_chosen_when_its_weights_are_here():
    info = weights_info("mobilenet_v2", 1.0, QUICK_IMG_SIZE)
    info.path.parent.mkdir(parents=True, exist_ok=True)
    info.path.write_bytes(b"stand-in: only its presence is looked at")
    (cache_dir() / weights_info("efficientnet_v2_b0").file_name).write_bytes(b"stand-in")
    quick = choose_quick_start()
    assert (quick.backbone, quick.alpha, quick.weights_here) == ("mobilenet_v2", 1.0, True)
    assert quick.sentence.startswith("Training MobileNetV2 (width 1) at 224 px, Quick experiment settings")


def test_else_the_best_base_whose_weights_are_here_is_named(shared_weights):
    cache_dir().mkdir(parents=True, exist_ok=True)
    shutil.copy(shared_weights, cache_dir() / SHARED_WEIGHTS.name)
    quick = choose_quick_start()
    assert (quick.backbone, quick.alpha, quick.weights_here) == ("mobilenet", 0.25, True)
    assert "MobileNet (width 0.25)" in quick.sentence and "(MobileNetV2's, the usual choice, are not)" in quick.sentence

    session = Session()
    session.update("training", fine_tune=True, epochs=40)
    quick.apply(session)
    model, training = session.model, session.training
    assert (model.backbone, model.alpha, model.img_size, model.weights) == ("mobilenet", 0.25, 224, "imagenet")
    assert training.epochs == QUICK_EXPERIMENT["epochs"] and training.learning_rate == QUICK_EXPERIMENT["learning_rate"]
    assert training.fast and not training.fine_tune
    assert session.split.subset_percent == 100.0  # a capture's few photos: every one counts
