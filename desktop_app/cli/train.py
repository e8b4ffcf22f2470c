"""``transfer-studio train``: the feature-extraction recipe, headless."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

from desktop_app.core.errors import UserError


def register(commands) -> None:
    from desktop_app.cli.settings_flags import add_setting_flags
    from desktop_app.core.augment.spec import PRESETS

    train = commands.add_parser(
        "train", help="train a classifier on an image folder, headless",
        description="Feature extraction (base frozen), then optional fine-tuning of the top of the base.",
    )
    train.add_argument("data", nargs="?", metavar="DATA",
                       help="folder with one sub-folder per class (or train/ and test/); not needed with --resume")
    train.add_argument("--out", metavar="RUN_DIR",
                       help="folder for the model, history and metrics (default: a new folder named after the "
                            "dataset, base and time, among the app's runs)")
    train.add_argument("--resume", metavar="RUN_DIR",
                       help="continue a stopped or crashed run from its last complete epoch; its photos, classes "
                            "and model stay, and the training options given here (epochs, learning rates, "
                            "fine-tuning) apply")
    train.add_argument("--data", dest="relocated", metavar="FOLDER",
                       help="with --resume: where the run's dataset is now, if it was moved")
    train.add_argument("--class-map", action="append", metavar="OLD=NEW",
                       help="with --resume: the class the run knows as OLD is the folder NEW now (renamed)")
    cluster = train.add_argument_group("several machines", "Train one run on several machines at once: run the "
                                       "same command on each, with its own --task number.")
    cluster.add_argument("--cluster", metavar="FILE",
                         help='JSON file {"workers": ["host:port", ...]} naming every machine, the chief (task 0) '
                              "first; needs --out, where the chief writes the run")
    cluster.add_argument("--task", type=int, default=0, metavar="N",
                         help="which worker of --cluster this machine is (0, the chief, writes the run folder)")
    cluster.add_argument("--cluster-timeout", type=float, default=None, metavar="SECONDS",
                         help="how long to wait for the other workers before giving up (default 120)")
    add_setting_flags(train)
    train.add_argument("--fine-tune-epochs", type=int, metavar="M",
                       help="after feature extraction, M more epochs with the top of the base unfrozen "
                            "(default 0); with --resume, M more fine-tuning epochs for that run")
    augment = train.add_mutually_exclusive_group()
    augment.add_argument("--augment", choices=PRESETS, help="data-augmentation preset (default light)")
    augment.add_argument("--augment-json", metavar="FILE", help="data-augmentation settings saved as JSON")
    augment.add_argument("--no-augment", action="store_true", help="same as --augment none")
    train.set_defaults(func=cmd_train)


def augmentation_from_args(args):
    """The AugmentationSpec the --augment / --augment-json / --no-augment options ask for."""
    from desktop_app.core.augment.spec import AugmentationSpec

    if args.no_augment:
        return AugmentationSpec()
    if args.augment_json:
        try:
            return AugmentationSpec.from_json(Path(args.augment_json).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise UserError(f"Could not read augmentation settings from {args.augment_json}: {e}") from None
    return AugmentationSpec.preset(args.augment or "light")


def new_run_config(args):
    """The TrainingConfig of a new run: the session's defaults with the flags given."""
    from dataclasses import replace

    from desktop_app.cli.settings_flags import settings_from_args
    from desktop_app.core.session import TrainingConfig

    from desktop_app.core.runs import new_run_dir

    settings = settings_from_args(args)
    training = settings.training
    if args.fine_tune_epochs:
        training = replace(training, fine_tune=True, fine_tune_epochs=args.fine_tune_epochs)
    out = Path(args.out) if args.out else new_run_dir(settings.model.backbone, data=Path(args.data).resolve())
    return TrainingConfig(Path(args.data), out, settings.split, augmentation_from_args(args), settings.model, training)


def resume_changes(args) -> dict:
    """Changes to the resumed run's training settings: the training flags given, and "M more
    epochs of fine-tuning", as the Train page does. Flags that would change what the run is
    (its model, photos or augmentation) are refused."""
    from desktop_app.cli.settings_flags import FLAGS, given_settings
    from desktop_app.core.errors import RefusedError
    from desktop_app.core.train.plan import plan_fine_tuning

    given = given_settings(args)
    fixed = [f.flag for f in FLAGS if f.section != "training" and f.field in given.get(f.section, {})]
    fixed += [name for name, value in (("--augment", args.augment), ("--augment-json", args.augment_json),
                                       ("--no-augment", args.no_augment or None)) if value is not None]
    if fixed:
        raise RefusedError(f"{', '.join(fixed)} cannot change in a resumed run: its model, photos and augmentation "
                           "are what it was trained with. Start a new run (without --resume) to try them.")
    changes = dict(given.get("training", {}))
    if args.fine_tune_epochs is not None:
        changes.update(plan_fine_tuning(Path(args.resume), args.fine_tune_epochs, changes.get("unfreeze_layers"),
                                        changes.get("fine_tune_learning_rate")))
    return changes


def relocated_data(args) -> Path | None:
    """Where the resumed run's dataset is now: ``--data``, or DATA when it holds the run's photos."""
    from desktop_app.core.data.scan import scan_folder
    from desktop_app.core.data.validate import validate_index
    from desktop_app.core.errors import RefusedError
    from desktop_app.core.runs import RunFolder

    folder = args.relocated or args.data
    if folder is None:
        return None
    run = RunFolder(args.resume)
    folder = Path(folder).expanduser().resolve()
    if folder == run.read_config().data:
        return None
    # A run made before runs recorded their photos is checked against its classes when it starts.
    if run.read_split() is not None and not run.belongs_to(validate_index(scan_folder(folder))):
        raise RefusedError(f"{folder} is another dataset than the one {run.name} was trained on (it does not hold "
                           "its photos). A run keeps its photos: resume it on its own dataset, or train a new run "
                           f"on {folder.name}.")
    return folder


def cmd_train(args) -> int:
    from desktop_app.core.data.scan import scan_folder
    from desktop_app.core.data.split import parse_class_map
    from desktop_app.core.errors import RefusedError
    from desktop_app.core.results.advice import advise_run
    from desktop_app.core.runs import RunFolder

    if args.cluster is not None:
        from desktop_app.cli.cluster_train import train_in_cluster

        return train_in_cluster(args, new_run_config, print_event)
    index = None
    if args.resume is None:
        if not args.data:
            raise UserError("Give the image folder (and --out RUN_DIR if you like), or --resume RUN_DIR.")
        if args.out and RunFolder(args.out).is_run():  # before TensorFlow loads, and before anything is written
            RunFolder(args.out).create()
        if args.relocated or args.class_map:
            raise RefusedError("--data and --class-map go with --resume, for a run whose dataset moved or changed.")
        # Check the folder before TensorFlow loads: a typo answers at once, quietly.
        index = scan_folder(args.data)
    elif not RunFolder(args.resume).is_run():
        raise UserError(f"{args.resume} is not a training run folder (it has no {RunFolder.CONFIG}).")

    from desktop_app.core.train.job import TrainingJob

    if args.resume is not None:
        job = TrainingJob.resume(Path(args.resume), print_event, relocated_data(args), parse_class_map(args.class_map),
                                 **resume_changes(args))
    else:
        job = TrainingJob(new_run_config(args), on_event=print_event)
        if not args.out:
            print(f"The run goes to {job.run_dir}", flush=True)

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
              f"{result.metrics['best_epoch']}. Model saved to {RunFolder(result.run_dir).model_path}")
    advice = advise_run(result.run_dir)
    if advice is not None:
        print(f"Advice: {advice.text}")
    if result.stopped_early:
        print(f"Stopped early; continue with: transfer-studio train --resume {result.run_dir}")
    return 0


def print_event(event) -> None:
    """One line per epoch, phase and best checkpoint; a progress line for fast mode."""
    from desktop_app.core.events import (
        CheckpointSaved, DevicesInUse, EpochCut, EpochEnd, Estimate, Message, PhaseStarted, Progress,
    )

    if isinstance(event, DevicesInUse):
        split = ", each batch split between them" if event.replicas > 1 else ""
        mixed = ", mixed precision" if event.mixed_precision else ""
        print(f"Training on {event.words}{split}{mixed}", flush=True)
    elif isinstance(event, EpochEnd):
        m = {k: (f"{v:.4f}" if v is not None else "n/a") for k, v in event.metrics.items()}
        print(f"Epoch {event.epoch}/{event.last_epoch}: loss {m.get('loss')}, accuracy {m.get('accuracy')}, "
              f"val_loss {m.get('val_loss')}, val_accuracy {m.get('val_accuracy')} ({event.seconds:.1f} s)",
              flush=True)
    elif isinstance(event, PhaseStarted):
        detail = f", {event.detail}" if event.detail else ""
        print(f"Training ({event.phase.replace('_', ' ')}{detail}), epochs {event.first_epoch}-{event.last_epoch}, "
              f"{event.trainable_params:,} trainable parameters, learning rate {event.learning_rate:g}", flush=True)
    elif isinstance(event, Estimate):
        measured = f" (measured on the {event.devices})" if event.devices else ""
        print(f"  about {event.seconds_per_epoch:.1f} s per epoch, {event.seconds_left:.0f} s left{measured}",
              flush=True)
    elif isinstance(event, Progress) and event.done == event.total:
        print(f"{event.words}: {event.total} images done", flush=True)
    elif isinstance(event, Message):
        print(event.text, flush=True)
    elif isinstance(event, CheckpointSaved) and event.kind == "best":
        print(f"  saved best checkpoint (epoch {event.epoch})", flush=True)
    elif isinstance(event, EpochCut):
        print(f"Stopped during epoch {event.epoch}; it does not count and runs again on --resume.", flush=True)
