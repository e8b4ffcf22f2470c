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
    from desktop_app.core.model_builder import OPTIMIZERS

    train = commands.add_parser(
        "train", help="train a classifier on an image folder, headless",
        description="Feature extraction (base frozen), then optional fine-tuning of the top of the base.",
    )
    train.add_argument("data", nargs="?", metavar="DATA",
                       help="folder with one sub-folder per class (or train/ and test/); not needed with --resume")
    train.add_argument("--out", metavar="RUN_DIR", help="folder for the model, history and metrics")
    train.add_argument("--resume", metavar="RUN_DIR",
                       help="continue a stopped or crashed run from its last checkpoint (its settings are reused)")
    train.add_argument("--base", default=DEFAULT_BACKBONE, choices=sorted(BACKBONES), metavar="NAME",
                       help=f"pretrained base model: {', '.join(BACKBONES)} (default {DEFAULT_BACKBONE})")
    train.add_argument("--alpha", type=float, help="width of a MobileNet base (e.g. 0.25, 0.5, 0.75, 1.0)")
    train.add_argument("--weights", type=_weights_arg, default="imagenet",
                       help="imagenet (download), none (random), or a Keras weights file for the base")
    train.add_argument("--img-size", type=int, default=224, help="images are resized to this many pixels square")
    train.add_argument("--epochs", type=int, default=5, help="passes over the training images with the base frozen")
    train.add_argument("--batch-size", type=int, default=32, help="images per training step")
    train.add_argument("--lr", type=float, default=1e-3, help="learning rate for feature extraction")
    train.add_argument("--optimizer", default="adam", choices=sorted(OPTIMIZERS), help="optimizer (default adam)")
    train.add_argument("--pooling", default="avg", choices=("avg", "max"), help="how the head pools the base's output")
    train.add_argument("--dropout", type=float, default=0.0, help="dropout rate before the output layer (0: none)")
    train.add_argument("--hidden-units", type=int, default=0, help="size of an extra dense layer in the head (0: none)")
    train.add_argument("--fine-tune-epochs", type=int, metavar="M",
                       help="after feature extraction, M more epochs with the top of the base unfrozen "
                            "(default 0); with --resume, M more fine-tuning epochs for that run")
    train.add_argument("--unfreeze", type=int, metavar="N",
                       help="layers of the base to unfreeze for fine-tuning (default 10; BatchNorm stays frozen)")
    train.add_argument("--fine-tune-lr", type=float, metavar="LR", help="learning rate for fine-tuning (default: --lr / 10)")
    train.add_argument("--fast", action=argparse.BooleanOptionalAction, default=None,
                       help="compute the frozen base's features once and train the head on them "
                            "(default: on when augmentation is off)")
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


def augmentation_from_args(args):
    """The AugmentationSpec the --augment / --augment-json / --no-augment options ask for."""
    from desktop_app.core.augmentation import AugmentationSpec

    if args.no_augment:
        return AugmentationSpec()
    if args.augment_json:
        try:
            return AugmentationSpec.from_json(Path(args.augment_json).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise UserError(f"Could not read augmentation settings from {args.augment_json}: {e}") from None
    return AugmentationSpec.preset(args.augment)


FINE_TUNE_OPTIONS = {"fine_tune_epochs": "fine_tune_epochs", "unfreeze": "unfreeze_layers",
                     "fine_tune_lr": "fine_tune_learning_rate"}


def cmd_train(args) -> int:
    from desktop_app.core.dataset import scan_folder

    index = None
    if args.resume is None:
        if not args.data or not args.out:
            raise UserError("Give the image folder and --out RUN_DIR, or --resume RUN_DIR.")
        # Check the folder before TensorFlow loads: a typo answers at once, quietly.
        index = scan_folder(args.data)
    elif not Path(args.resume, "config.json").is_file():
        raise UserError(f"{args.resume} is not a training run folder (it has no config.json).")

    from desktop_app.core.model_builder import HeadSpec
    from desktop_app.core.training import TrainingConfig, TrainingJob
    from desktop_app.core.training_config import plan_fine_tuning

    given = {field: getattr(args, option) for option, field in FINE_TUNE_OPTIONS.items()
             if getattr(args, option) is not None}
    if args.resume is not None:
        if args.fine_tune_epochs is not None:  # "M more epochs of fine-tuning", as the Train page does
            given = plan_fine_tuning(Path(args.resume), args.fine_tune_epochs, args.unfreeze, args.fine_tune_lr)
        job = TrainingJob.resume(Path(args.resume), on_event=print_event, **given)
    else:
        config = TrainingConfig(
            data=Path(args.data), out=Path(args.out), backbone=args.base, alpha=args.alpha,
            weights=args.weights, img_size=args.img_size, epochs=args.epochs, batch_size=args.batch_size,
            learning_rate=args.lr, optimizer=args.optimizer, subset_percent=args.subset,
            val_fraction=args.val_split, seed=args.seed, augmentation=augmentation_from_args(args),
            head=HeadSpec(pooling=args.pooling, dropout=args.dropout, hidden_units=args.hidden_units),
            fast=args.fast, **given,
        )
        job = TrainingJob(config, on_event=print_event)

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
    if result.stopped_early:
        print(f"Stopped early; continue with: transfer-studio train --resume {result.run_dir}")
    return 0


def print_event(event) -> None:
    """One line per epoch, phase and best checkpoint; a progress line for fast mode."""
    from desktop_app.core.events import CheckpointSaved, EpochEnd, Estimate, Message, PhaseStarted, Progress

    if isinstance(event, EpochEnd):
        m = {k: (f"{v:.4f}" if v is not None else "n/a") for k, v in event.metrics.items()}
        print(f"Epoch {event.epoch}/{event.last_epoch}: loss {m.get('loss')}, accuracy {m.get('accuracy')}, "
              f"val_loss {m.get('val_loss')}, val_accuracy {m.get('val_accuracy')} ({event.seconds:.1f} s)",
              flush=True)
    elif isinstance(event, PhaseStarted):
        detail = f", {event.detail}" if event.detail else ""
        print(f"Training ({event.phase.replace('_', ' ')}{detail}), epochs {event.first_epoch}-{event.last_epoch}, "
              f"{event.trainable_params:,} trainable parameters, learning rate {event.learning_rate:g}", flush=True)
    elif isinstance(event, Estimate):
        print(f"  about {event.seconds_per_epoch:.1f} s per epoch, {event.seconds_left:.0f} s left", flush=True)
    elif isinstance(event, Progress) and event.done == event.total:
        print(f"{event.task}: {event.total} images done", flush=True)
    elif isinstance(event, Message):
        print(event.text, flush=True)
    elif isinstance(event, CheckpointSaved) and event.kind == "best":
        print(f"  saved best checkpoint (epoch {event.epoch})", flush=True)
