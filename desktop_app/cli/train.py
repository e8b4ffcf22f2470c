"""``transfer-studio train``: the feature-extraction recipe, headless."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from desktop_app.core.errors import UserError


def _weights_arg(text: str) -> str | None:
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


def register(commands) -> None:
    from desktop_app.core.augmentation import PRESETS
    from desktop_app.core.backbones import BACKBONES, DEFAULT_BACKBONE

    train = commands.add_parser("train", help="train a classifier on an image folder, headless")
    train.add_argument("data", metavar="DATA", help="folder with one sub-folder per class (or train/ and test/)")
    train.add_argument("--out", required=True, metavar="RUN_DIR", help="folder for the model, history and metrics")
    train.add_argument("--base", default=DEFAULT_BACKBONE, choices=sorted(BACKBONES), metavar="NAME",
                       help=f"pretrained base model: {', '.join(BACKBONES)} (default {DEFAULT_BACKBONE})")
    train.add_argument("--alpha", type=float, help="width of a MobileNet base (e.g. 0.25, 0.5, 0.75, 1.0)")
    train.add_argument("--weights", type=_weights_arg, default="imagenet",
                       help="imagenet (download), none (random), or a Keras weights file for the base")
    train.add_argument("--img-size", type=int, default=224, help="images are resized to this many pixels square")
    train.add_argument("--epochs", type=int, default=5, help="passes over the training images")
    train.add_argument("--batch-size", type=int, default=32, help="images per training step")
    train.add_argument("--lr", type=float, default=1e-3, help="learning rate of the Adam optimizer")
    train.add_argument("--subset", type=_percent, default=100.0, metavar="PERCENT",
                       help="train on this percentage of the training images, per class")
    train.add_argument("--val-split", type=float, default=0.2, metavar="FRACTION",
                       help="fraction kept for validation when DATA has no test/ folder")
    train.add_argument("--seed", type=int, default=42, help="random seed: same seed, same split and run")
    augment = train.add_mutually_exclusive_group()
    augment.add_argument("--augment", choices=PRESETS, default="light", help="data-augmentation preset")
    augment.add_argument("--augment-json", metavar="FILE", help="data-augmentation settings saved as JSON")
    augment.add_argument("--no-augment", action="store_true", help="same as --augment none")
    train.set_defaults(func=cmd_train)


def _augmentation(args):
    from desktop_app.core.augmentation import AugmentationSpec

    if args.no_augment:
        return AugmentationSpec()
    if args.augment_json:
        try:
            return AugmentationSpec.from_json(Path(args.augment_json).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise UserError(f"Could not read augmentation settings from {args.augment_json}: {e}") from None
    return AugmentationSpec.preset(args.augment)


def cmd_train(args) -> int:
    from desktop_app.core.dataset import scan_folder

    # Check the folder before TensorFlow loads: a typo answers at once, quietly.
    index = scan_folder(args.data)

    from desktop_app.core.events import CheckpointSaved, EpochEnd, Message, PhaseStarted
    from desktop_app.core.training import TrainingConfig, TrainingJob

    config = TrainingConfig(
        data=Path(args.data), out=Path(args.out), backbone=args.base, alpha=args.alpha,
        weights=args.weights, img_size=args.img_size, epochs=args.epochs, batch_size=args.batch_size,
        learning_rate=args.lr, subset_percent=args.subset, val_fraction=args.val_split, seed=args.seed,
        augmentation=_augmentation(args),
    )

    def show(event) -> None:
        if isinstance(event, EpochEnd):
            m = event.metrics
            print(
                f"Epoch {event.epoch}/{event.last_epoch}: loss {m['loss']:.4f}, accuracy {m['accuracy']:.4f}, "
                f"val_loss {m['val_loss']:.4f}, val_accuracy {m['val_accuracy']:.4f} ({event.seconds:.1f} s)",
                flush=True,
            )
        elif isinstance(event, PhaseStarted):
            print(f"Training ({event.phase.replace('_', ' ')}), {event.trainable_params:,} trainable parameters, "
                  f"learning rate {event.learning_rate:g}", flush=True)
        elif isinstance(event, Message):
            print(event.text, flush=True)
        elif isinstance(event, CheckpointSaved) and event.kind == "best":
            print(f"  saved best checkpoint (epoch {event.epoch})", flush=True)

    job = TrainingJob(config, on_event=show)

    def stop(_signum, _frame):
        print("Stopping after this batch (press Ctrl+C again to abort)...", file=sys.stderr, flush=True)
        job.request_stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, stop)
    try:
        result = job.run(index)
    finally:
        signal.signal(signal.SIGINT, previous)
    if "best_val_accuracy" in result.metrics:
        print(f"Best val_accuracy {result.metrics['best_val_accuracy']:.4f} at epoch "
              f"{result.metrics['best_epoch']}. Model saved to {result.run_dir / 'model.keras'}")
    return 0

