"""One tiny but complete training run, shared by the evaluate / predict / export / report tests.

Feature extraction then one fine-tuning epoch on a small demo-like dataset, with
augmentation on (so the exported TFLite model meets the random layers), at 64 px (at 32 px
the ImageNet features barely tell the shapes apart). Uses the
shared ImageNet weights when present: random weights give near-constant outputs,
which would make the export checks trivially pass.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import SHARED_WEIGHTS

DATA_DIR_ENV = "TRANSFER_STUDIO_DATA_DIR"


def make_trained_run(root: Path) -> Path:
    from desktop_app.core.augment.spec import AugmentationSpec
    from desktop_app.core.data.demo import write_demo_images
    from desktop_app.core.session import TrainingConfig
    from desktop_app.core.train.job import TrainingJob

    data = root / "shapes"
    write_demo_images(data, images_per_class=12, size=48)
    weights = str(SHARED_WEIGHTS) if SHARED_WEIGHTS.is_file() else None
    config = TrainingConfig.of(
        data=data, out=root / "run", backbone="mobilenet", alpha=0.25, weights=weights, img_size=64,
        batch_size=8, epochs=2, fine_tune_epochs=1, unfreeze_layers=5, learning_rate=1e-2,
        augmentation=AugmentationSpec(flip="horizontal", rotation=0.05),
    )
    with pytest.MonkeyPatch.context() as mp:  # caches stay out of the real user folder
        mp.setenv(DATA_DIR_ENV, str(root / "user-data"))
        TrainingJob(config).run()
    return root / "run"


def make_colour_run(root: Path) -> Path:
    """A tiny run trained on red, green and blue photos (colours are easy to learn): for live
    prediction, where a generated frame of one colour must be named right."""
    from conftest import make_image_folder
    from desktop_app.core.augment.spec import AugmentationSpec
    from desktop_app.core.session import TrainingConfig
    from desktop_app.core.train.job import TrainingJob

    data = make_image_folder(root / "colours", per_class=12, size=48)
    weights = str(SHARED_WEIGHTS) if SHARED_WEIGHTS.is_file() else None
    config = TrainingConfig.of(data=data, out=root / "run", backbone="mobilenet", alpha=0.25, weights=weights,
                               img_size=64, batch_size=8, epochs=8, learning_rate=1e-2, fast=False,
                               augmentation=AugmentationSpec())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(DATA_DIR_ENV, str(root / "user-data"))
        TrainingJob(config).run()
    return root / "run"
