"""Train-step benchmarks, printed as two figures measured in one run.

(a) seconds per epoch of TrainingJob vs a plain Keras script (``model.fit`` of the same
    model on the same tf.data pipeline, no callbacks), as a ratio;
(b) fast mode vs standard frozen-base training: seconds per epoch after the first, and
    the validation accuracy each reaches.

With ``--device gpu``: (c) images per second of standard training on the machine's GPUs,
in float32 and in mixed precision (``mixed_float16``), and their ratio; without a GPU it
says so and ends (exit status 0).

How still the window stays while training runs is bench/ui_stall.py's figure.

    python bench/train.py [--base efficientnet_v2_b0] [--img-size 128] [--images 960] [--epochs 5] [--rounds 2]
    python bench/train.py --device gpu [--img-size 224] [--images 3200]
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

    from desktop_app.core.augment.spec import AugmentationSpec
    from desktop_app.core.data.pipeline import make_dataset
    from desktop_app.core.data.scan import scan_folder
    from desktop_app.core.data.split import make_split
    from desktop_app.core.events import EpochEnd
    from desktop_app.core.model.builder import build_classifier, compile_classifier
    from desktop_app.core.session import TrainingConfig
    from desktop_app.core.train.job import TrainingJob

    split = make_split(scan_folder(data), seed=42)
    job_times, plain_times = [], []
    for round_ in range(args.rounds):
        config = TrainingConfig.of(data=data, out=work / f"job-{round_}", backbone=args.base, weights=None,
                                img_size=args.img_size, epochs=args.epochs, batch_size=32,
                                augmentation=AugmentationSpec(), fast=False)
        stamps: list[float] = []
        TrainingJob(config, lambda e: isinstance(e, EpochEnd) and stamps.append(time.perf_counter())).run()
        job_times.append(epoch_seconds(stamps))

        keras.utils.set_random_seed(config.split.seed)
        model = build_classifier(config.model, len(split.classes), AugmentationSpec(), seed=config.split.seed)
        compile_classifier(model, config.training.learning_rate)
        train = make_dataset(split.train, len(split.classes), args.img_size, 32, shuffle=True)
        val = make_dataset(split.val, len(split.classes), args.img_size, 32)
        plain: list[float] = []
        stamp = keras.callbacks.LambdaCallback(on_epoch_end=lambda *_: plain.append(time.perf_counter()))
        model.fit(train, validation_data=val, epochs=args.epochs, callbacks=[stamp], verbose=0)
        plain_times.append(epoch_seconds(plain))
    return min(job_times), min(plain_times)


def bench_fast_mode(data: Path, work: Path, args) -> dict[bool, tuple[float, float]]:
    from desktop_app.core.augment.spec import AugmentationSpec
    from desktop_app.core.events import EpochEnd
    from desktop_app.core.session import TrainingConfig
    from desktop_app.core.train.job import TrainingJob

    results = {}
    for fast in (False, True):
        config = TrainingConfig.of(data=data, out=work / f"fast-{fast}", backbone=args.base, weights=None,
                                img_size=args.img_size, epochs=args.epochs, batch_size=32,
                                augmentation=AugmentationSpec(), fast=fast, learning_rate=3e-3)
        stamps: list[float] = []
        result = TrainingJob(config, lambda e: isinstance(e, EpochEnd) and stamps.append(time.perf_counter())).run()
        results[fast] = (epoch_seconds(stamps), result.metrics["final_val_accuracy"])
    return results


def bench_precision(data: Path, work: Path, args) -> dict[bool, float]:
    """Images per second of standard training (base frozen, every batch through it), in
    float32 and in mixed precision, on the devices TrainingJob chooses (all local GPUs)."""
    from desktop_app.core.augment.spec import AugmentationSpec
    from desktop_app.core.events import EpochEnd
    from desktop_app.core.session import TrainingConfig
    from desktop_app.core.train.job import TrainingJob

    rates = {}
    for mixed in (False, True):
        config = TrainingConfig.of(data=data, out=work / f"precision-{mixed}", backbone=args.base, weights=None,
                                   img_size=args.img_size, epochs=args.epochs, batch_size=args.batch_size,
                                   augmentation=AugmentationSpec(), fast=False, mixed_precision=mixed)
        stamps: list[float] = []
        result = TrainingJob(config, lambda e: isinstance(e, EpochEnd) and stamps.append(time.perf_counter())).run()
        rates[mixed] = result.metrics["num_train_images"] / epoch_seconds(stamps)
    return rates


def gpu_problem() -> tuple[str, str | None]:
    """(the GPUs a run would train on, in words; why figure (c) cannot be measured here, or None)."""
    from desktop_app.core.train.devices import local_devices

    devices = local_devices()
    if not devices.gpus:
        return devices.words, "No GPU here (TensorFlow sees none): figure (c) needs one. Nothing measured."
    return devices.words, devices.mixed_precision_problem()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="efficientnet_v2_b0")
    parser.add_argument("--img-size", type=int, default=128)
    parser.add_argument("--images", type=int, default=960, help="images in the generated dataset")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2, help="alternating repeats for figure (a)")
    parser.add_argument("--device", choices=("cpu", "gpu"), default="cpu",
                        help="cpu: figures (a) and (b); gpu: figure (c), float32 against mixed precision")
    parser.add_argument("--batch-size", type=int, default=32, help="global batch of figure (c)")
    args = parser.parse_args()
    if args.device == "gpu":
        gpus, problem = gpu_problem()
        if problem is not None:
            print(problem, flush=True)
            return

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["TRANSFER_STUDIO_DATA_DIR"] = str(Path(tmp) / "user")
        from desktop_app.core.data.demo import DEMO_CLASSES, write_demo_images

        data = Path(tmp) / "shapes"
        write_demo_images(data, images_per_class=args.images // len(DEMO_CLASSES), size=args.img_size)
        if args.device == "gpu":
            print(f"{args.images} images, {args.base} (random weights), {args.img_size} px, batch "
                  f"{args.batch_size}, {args.epochs} epochs, on {gpus}", flush=True)
            rates = bench_precision(data, Path(tmp), args)
            print(f"(c) float32 {rates[False]:.0f} images/s, mixed precision {rates[True]:.0f} images/s: "
                  f"{rates[True] / rates[False]:.2f}x the float32 rate", flush=True)
            return
        print(f"{args.images} images, {args.base} (random weights), {args.img_size} px, batch 32, "
              f"{args.epochs} epochs", flush=True)

        job, plain = bench_overhead(data, Path(tmp), args)
        print(f"(a) TrainingJob {job:.2f} s/epoch, plain model.fit {plain:.2f} s/epoch: "
              f"overhead ratio {job / plain:.3f}", flush=True)

        modes = bench_fast_mode(data, Path(tmp), args)
        (std_s, std_acc), (fast_s, fast_acc) = modes[False], modes[True]
        print(f"(b) standard {std_s:.2f} s/epoch (val_accuracy {std_acc:.3f}), fast {fast_s:.3f} s/epoch "
              f"(val_accuracy {fast_acc:.3f}): speed-up {std_s / fast_s:.1f}x", flush=True)


if __name__ == "__main__":
    main()
