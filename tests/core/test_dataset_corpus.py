"""A scan and a one-epoch training run over the bad corpus train on exactly the usable images."""

from __future__ import annotations

import json

import pytest

from corpus import build_bad_corpus, usable_count
from desktop_app.core.augment.spec import AugmentationSpec
from desktop_app.core.events import Message
from desktop_app.core.session import TrainingConfig
from desktop_app.core.train.job import TrainingJob


@pytest.mark.timeout(300)
def test_one_epoch_over_the_bad_corpus_trains_on_exactly_the_usable_images(tmp_path):
    root = tmp_path / "bad corpus"
    expected = build_bad_corpus(root)
    events = []
    config = TrainingConfig.of(
        data=root, out=tmp_path / "run", backbone="mobilenet", alpha=0.25, weights=None, img_size=32,
        epochs=1, batch_size=8, augmentation=AugmentationSpec(),
    )
    result = TrainingJob(config, on_event=events.append).run()
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["num_train_images"] + metrics["num_val_images"] == usable_count(expected)
    assert metrics["epochs_completed"] == 1 and result.history
    assert (tmp_path / "run" / "labels.txt").read_text() == "alpha\nbeta\n"
    assert any(isinstance(e, Message) and "Left out" in e.text for e in events)
