"""The reference notebook's quick experiment: the app's TrainingJob against a plain Keras script.

Both train the same recipe on the same photos: augmentation as a Sequential layer, the
frozen base called with training=False, global average pooling, a softmax layer, Adam,
on a share of the training photos and a validation set that stays whole. The plain
script is the notebook's: Keras' default (Glorot) start of the softmax layer, learning
rate 0.001, and every epoch pushes every photo through the base. The app runs its Quick
experiment settings (its zero-started head, the augmentation bank, validation on stored
embeddings). Printed, for each: seconds of training (from the first look at a photo to
the end of the last epoch, model building and folder checks left out), and the best
validation accuracy; then the time of a second experiment with another learning rate
(which finds every embedding of the first in the store). Each round's first experiment
starts with an empty embedding store.

    .venv/bin/python bench/recipe.py                 # 5 generated classes, shared MobileNet 0.25 weights, 128 px
    .venv/bin/python bench/recipe.py --data FOLDER   # a folder of class sub-folders of your own

Uses ../shared/weights/mobilenet_2_5_224_tf_no_top.h5 (ImageNet weights; loaded from the
file, nothing is downloaded). Runs in a temporary user-data folder: the embedding store
starts empty, as on a new computer.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WEIGHTS = REPO.parent / "shared" / "weights" / "mobilenet_2_5_224_tf_no_top.h5"
TEMP = Path(tempfile.mkdtemp(prefix="transfer-studio-recipe-"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["TRANSFER_STUDIO_DATA_DIR"] = str(TEMP / "user-data")
sys.path.insert(0, str(REPO))

CLASSES = ("circles", "squares", "triangles", "stars", "pentagons")


def generate(folder: Path, per_class: int, size: int) -> Path:
    """Five classes of shapes drawn on noisy backgrounds (the demo's drawing, one shape more)."""
    import random

    from desktop_app.core.data.demo import draw_shape_image

    for c, name in enumerate(CLASSES):
        (folder / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            draw_shape_image(name, random.Random(c * 100_003 + i), size).save(folder / name / f"{i:04d}.jpg",
                                                                              quality=90)
    return folder


def plain_script(split, args) -> tuple[float, float]:
    """The notebook, written as anyone would in Keras: (seconds of fit, best val_accuracy)."""
    import keras

    from desktop_app.core.augment.layers import build_augmentation
    from desktop_app.core.augment.spec import AugmentationSpec
    from desktop_app.core.data.pipeline import make_dataset

    keras.utils.set_random_seed(args.seed)
    n, size = len(split.classes), args.img_size
    data_augmentation = build_augmentation(AugmentationSpec.preset(args.augment), seed=args.seed)
    base = keras.applications.MobileNet(input_shape=(size, size, 3), alpha=0.25, include_top=False,
                                        weights=str(WEIGHTS))
    base.trainable = False
    inputs = keras.Input(shape=(size, size, 3))
    x = data_augmentation(inputs)
    x = keras.layers.Rescaling(1 / 127.5, offset=-1)(x)  # mobilenet.preprocess_input
    x = base(x, training=False)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(n, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy", metrics=["accuracy"])
    train = make_dataset(split.train, n, size, args.batch_size, shuffle=True, seed=args.seed)
    val = make_dataset(split.val, n, size, args.batch_size)
    started = time.perf_counter()
    with warnings.catch_warnings():  # the end of an epoch's photos is expected (see TrainingJob._fit)
        warnings.filterwarnings("ignore", message="Your input ran out of data")
        history = model.fit(train, validation_data=val, epochs=args.epochs, verbose=0)
    return time.perf_counter() - started, max(history.history["val_accuracy"])


def app_run(data: Path, out: Path, args, **changes) -> tuple[float, float]:
    """TrainingJob with the Quick experiment settings: (seconds of training, best val_accuracy)."""
    from desktop_app.core.augment.spec import AugmentationSpec
    from desktop_app.core.events import Finished, PhaseStarted, Progress
    from desktop_app.core.session import QUICK_EXPERIMENT, TrainingConfig
    from desktop_app.core.train.job import TrainingJob

    settings = {**QUICK_EXPERIMENT, "epochs": args.epochs, **changes}
    config = TrainingConfig.of(data=data, out=out, backbone="mobilenet", alpha=0.25, weights=str(WEIGHTS),
                               img_size=args.img_size, batch_size=args.batch_size, seed=args.seed,
                               val_fraction=args.val_fraction, augmentation=AugmentationSpec.preset(args.augment),
                               **settings)
    marks: dict[str, float] = {}

    def on_event(event) -> None:
        if isinstance(event, (Progress, PhaseStarted)):
            marks.setdefault("start", time.perf_counter())
        elif isinstance(event, Finished):
            marks["end"] = time.perf_counter()

    result = TrainingJob(config, on_event).run()
    return marks["end"] - marks["start"], result.metrics["best_val_accuracy"]


def fast_epoch_ms(data: Path, args, train_photos: int = 1000, epochs: int = 8) -> tuple[float, int]:
    """Milliseconds of a fast-mode epoch on stored embeddings of ``train_photos`` photos:
    the median gap between epoch ends, the first epoch (tracing) left out."""
    import statistics

    from desktop_app.core.augment.spec import AugmentationSpec
    from desktop_app.core.data.scan import scan_folder
    from desktop_app.core.events import EpochEnd
    from desktop_app.core.session import TrainingConfig
    from desktop_app.core.train.job import TrainingJob

    pool = len(scan_folder(data).files) * (1 - args.val_fraction)
    config = TrainingConfig.of(data=data, out=TEMP / f"fast-epochs-{time.time_ns()}", backbone="mobilenet", alpha=0.25,
                               weights=str(WEIGHTS), img_size=args.img_size, batch_size=args.batch_size,
                               seed=args.seed, val_fraction=args.val_fraction, epochs=epochs, fast=True,
                               subset_percent=min(100.0, 100 * train_photos / pool),
                               augmentation=AugmentationSpec())
    ends: list[float] = []
    result = TrainingJob(config, lambda e: isinstance(e, EpochEnd) and ends.append(time.perf_counter())).run()
    gaps = [b - a for a, b in zip(ends, ends[1:])][1:]
    return 1000 * statistics.median(gaps), result.metrics["num_train_images"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, help="a folder of class sub-folders (default: 5 generated classes)")
    parser.add_argument("--per-class", type=int, default=1000, help="generated photos per class (default 1000)")
    parser.add_argument("--img-size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--val-fraction", type=float, default=0.25, help="kept for validation (default 0.25)")
    parser.add_argument("--augment", default="light", help="augmentation preset of both (default light)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--rounds", type=int, default=1, help="plain script and app, alternating")
    args = parser.parse_args()
    if not WEIGHTS.is_file():
        print(f"Needs the ImageNet weights file {WEIGHTS}.")
        return 1

    from desktop_app.core.data.scan import scan_folder
    from desktop_app.core.data.split import make_split
    from desktop_app.core.data.validate import validate_index
    from desktop_app.core.session import QUICK_EXPERIMENT
    from desktop_app.core.train.embeddings import EmbeddingStore

    data = args.data or generate(TEMP / "photos", args.per_class, args.img_size)
    split = make_split(validate_index(scan_folder(data)), QUICK_EXPERIMENT["subset_percent"], args.val_fraction,
                       args.seed)
    print(f"{len(split.classes)} classes; {len(split.train)} training photos "
          f"({QUICK_EXPERIMENT['subset_percent']:g} %), {len(split.val)} validation photos; {args.img_size} px, "
          f"{args.epochs} epochs, augmentation {args.augment!r}; MobileNet 0.25 with ImageNet weights")
    plain, app, second = [], [], []
    for round_ in range(args.rounds):
        plain.append(plain_script(split, args))
        print(f"  round {round_ + 1}: plain Keras script  {plain[-1][0]:7.1f} s, best val_accuracy {plain[-1][1]:.3f}")
        EmbeddingStore.default().clear()  # each round's first experiment starts as on a new computer
        app.append(app_run(data, TEMP / f"run-{round_}", args))
        print(f"  round {round_ + 1}: Transfer Studio      {app[-1][0]:7.1f} s, best val_accuracy {app[-1][1]:.3f}")
        rate = QUICK_EXPERIMENT["learning_rate"] / 2
        second.append(app_run(data, TEMP / f"run-{round_}-lr", args, learning_rate=rate))
        print(f"  round {round_ + 1}: again, learning rate {rate:g}: {second[-1][0]:5.1f} s, "
              f"best val_accuracy {second[-1][1]:.3f}")
    p_time, p_acc = min(t for t, _ in plain), max(a for _, a in plain)
    a_time, a_acc = min(t for t, _ in app), max(a for _, a in app)
    s_time = min(t for t, _ in second)
    print(f"time of the quick experiment, app / plain script: {a_time:.1f} / {p_time:.1f} s = {a_time / p_time:.2f}x")
    print(f"a second experiment (another learning rate) / plain script: {s_time:.1f} / {p_time:.1f} s = "
          f"{s_time / p_time:.2f}x")
    print(f"best val_accuracy, app - plain script: {a_acc:.3f} - {p_acc:.3f} = {a_acc - p_acc:+.3f}")
    ms, photos = fast_epoch_ms(data, args)
    print(f"a fast-mode epoch on {photos} stored embeddings ({len(split.val)} validation photos, a head "
          f"checkpoint): {ms:.0f} ms")
    return 0


if __name__ == "__main__":
    import shutil

    try:
        raise SystemExit(main())
    finally:
        shutil.rmtree(TEMP, ignore_errors=True)  # the generated photos, the runs and their store
