"""Train-step benchmarks, printed as three figures measured in one run.

(a) seconds per epoch of TrainingJob vs a plain Keras script (``model.fit`` of the same
    model on the same tf.data pipeline, no callbacks), as a ratio;
(b) fast mode vs standard frozen-base training: seconds per epoch after the first, and
    the validation accuracy each reaches;
(c) the GUI event loop's longest stall while a training run goes on in the Train page's
    worker (a 10 ms QTimer heartbeat measuring how late it fires).

    python bench/train.py [--base efficientnet_v2_b0] [--img-size 128] [--images 960] [--epochs 5] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def epoch_seconds(stamps: list[float]) -> float:
    """Median wall time between consecutive epoch ends, the first epoch (tracing) left out."""
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    return statistics.median(gaps)


def bench_overhead(data: Path, work: Path, args) -> tuple[float, float]:
    """Both ways twice, alternating, keeping each one's fastest: fair on a busy machine."""
    import keras

    from desktop_app.core.augmentation import AugmentationSpec
    from desktop_app.core.dataset import make_split, scan_folder
    from desktop_app.core.events import EpochEnd
    from desktop_app.core.model_builder import ModelSpec, build_classifier, compile_classifier
    from desktop_app.core.pipeline import make_dataset
    from desktop_app.core.training import TrainingConfig, TrainingJob

    split = make_split(scan_folder(data), seed=42)
    job_times, plain_times = [], []
    for round_ in range(args.rounds):
        config = TrainingConfig(data=data, out=work / f"job-{round_}", backbone=args.base, weights=None,
                                img_size=args.img_size, epochs=args.epochs, batch_size=32,
                                augmentation=AugmentationSpec(), fast=False)
        stamps: list[float] = []
        TrainingJob(config, lambda e: isinstance(e, EpochEnd) and stamps.append(time.perf_counter())).run()
        job_times.append(epoch_seconds(stamps))

        keras.utils.set_random_seed(config.seed)
        model = build_classifier(ModelSpec(len(split.classes), args.base, None, args.img_size, None,
                                           AugmentationSpec(), seed=config.seed))
        compile_classifier(model, config.learning_rate)
        train = make_dataset(split.train, len(split.classes), args.img_size, 32, shuffle=True)
        val = make_dataset(split.val, len(split.classes), args.img_size, 32)
        plain: list[float] = []
        stamp = keras.callbacks.LambdaCallback(on_epoch_end=lambda *_: plain.append(time.perf_counter()))
        model.fit(train, validation_data=val, epochs=args.epochs, callbacks=[stamp], verbose=0)
        plain_times.append(epoch_seconds(plain))
    return min(job_times), min(plain_times)


def bench_fast_mode(data: Path, work: Path, args) -> dict[bool, tuple[float, float]]:
    from desktop_app.core.augmentation import AugmentationSpec
    from desktop_app.core.events import EpochEnd
    from desktop_app.core.training import TrainingConfig, TrainingJob

    results = {}
    for fast in (False, True):
        config = TrainingConfig(data=data, out=work / f"fast-{fast}", backbone=args.base, weights=None,
                                img_size=args.img_size, epochs=args.epochs, batch_size=32,
                                augmentation=AugmentationSpec(), fast=fast, learning_rate=3e-3)
        stamps: list[float] = []
        result = TrainingJob(config, lambda e: isinstance(e, EpochEnd) and stamps.append(time.perf_counter())).run()
        results[fast] = (epoch_seconds(stamps), result.metrics["final_val_accuracy"])
    return results


def bench_gui_stall(data: Path, args) -> list[float]:
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from desktop_app.core.augmentation import AugmentationSpec
    from desktop_app.ui.train_panel import TrainPanel

    app = QApplication.instance() or QApplication([])
    app.setApplicationName("Transfer Studio bench")
    fields = dict(data=data, backbone=args.base, weights=None, img_size=args.img_size,
                  augmentation=AugmentationSpec.preset("light"))
    panel = TrainPanel(config_source=lambda: dict(fields))
    panel.epochs.setValue(args.epochs)
    panel.show()
    clock = QElapsedTimer()
    lateness: list[float] = []
    last = [0.0]

    def beat():
        now = clock.nsecsElapsed() / 1e6
        if panel.task is not None and panel.task.is_running():
            lateness.append(now - last[0] - 10)
        last[0] = now

    heart = QTimer(interval=10)
    heart.timeout.connect(beat)
    clock.start()
    heart.start()
    panel.start()
    loop = QEventLoop()
    panel.task.finished.connect(loop.quit)
    loop.exec()  # the real event loop, as in the app
    heart.stop()
    return lateness


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="efficientnet_v2_b0")
    parser.add_argument("--img-size", type=int, default=128)
    parser.add_argument("--images", type=int, default=960, help="images in the generated dataset")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2, help="alternating repeats for figure (a)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["TRANSFER_STUDIO_DATA_DIR"] = str(Path(tmp) / "user")
        from desktop_app.core.demo_data import DEMO_CLASSES, write_demo_images

        data = Path(tmp) / "shapes"
        write_demo_images(data, images_per_class=args.images // len(DEMO_CLASSES), size=args.img_size)
        print(f"{args.images} images, {args.base} (random weights), {args.img_size} px, batch 32, "
              f"{args.epochs} epochs", flush=True)

        job, plain = bench_overhead(data, Path(tmp), args)
        print(f"(a) TrainingJob {job:.2f} s/epoch, plain model.fit {plain:.2f} s/epoch: "
              f"overhead ratio {job / plain:.3f}", flush=True)

        modes = bench_fast_mode(data, Path(tmp), args)
        (std_s, std_acc), (fast_s, fast_acc) = modes[False], modes[True]
        print(f"(b) standard {std_s:.2f} s/epoch (val_accuracy {std_acc:.3f}), fast {fast_s:.3f} s/epoch "
              f"(val_accuracy {fast_acc:.3f}): speed-up {std_s / fast_s:.1f}x", flush=True)

        late = sorted(bench_gui_stall(data, args))
        p99 = late[int(0.99 * (len(late) - 1))]
        over = sum(1 for x in late if x > 100)
        print(f"(c) GUI stall during training: longest {late[-1]:.0f} ms beyond the 10 ms beat, 99th percentile "
              f"{p99:.0f} ms, {over} of {len(late)} beats more than 100 ms late", flush=True)


if __name__ == "__main__":
    main()
