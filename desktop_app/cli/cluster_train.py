"""``transfer-studio train ... --cluster cluster.json --task N``: this machine's part of a run
that several machines train together (``core.train.multiworker``).

TensorFlow configures its collective ops when it starts, so TF_CONFIG is set before it loads
(this command runs in a fresh process). Running the same command again on every machine goes
on from the chief's last complete epoch. The process ends with ``os._exit``: TensorFlow's
cluster service would otherwise wait at exit for workers that may be gone.
"""

from __future__ import annotations

import os
import signal
import sys
from dataclasses import asdict
from pathlib import Path

from desktop_app.core.errors import RefusedError, UserError
from desktop_app.core.train.cluster import DEFAULT_TIMEOUT, TF_CONFIG, Watchdog, read_cluster


def train_in_cluster(args, new_run_config, on_event) -> int:
    """``new_run_config(args)`` makes a run's settings from the flags; ``on_event`` prints events."""
    try:
        code = _train(args, new_run_config, on_event)
    except UserError as e:
        print(f"Error: {e}", file=sys.stderr)
        code = e.exit_code
    except KeyboardInterrupt:  # Ctrl+C twice: stop now, without the checkpoint of this epoch
        code = 130
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _train(args, new_run_config, print_event) -> int:
    from desktop_app.core.data.scan import scan_folder
    from desktop_app.core.runs import RunFolder

    cluster = read_cluster(args.cluster, args.task)
    if args.resume is not None:
        raise RefusedError("With --cluster, run the same command again (same --out) to go on from the last "
                           "complete epoch; --resume is for one machine.")
    if not args.data or not args.out:
        raise UserError("With --cluster, give the image folder and --out RUN_DIR (where the chief writes the run; "
                        "the same command run again goes on from there).")
    if "tensorflow" in sys.modules:
        raise RuntimeError("--cluster must start TensorFlow itself: run it as a command of its own")
    index = scan_folder(args.data)  # a typo answers at once, before waiting for anyone
    chief = args.task == 0
    out = RunFolder(args.out)
    rejoin = chief and out.is_run()
    wanted = new_run_config(args)
    changes = _rejoin_changes(out, wanted) if rejoin else {}

    os.environ[TF_CONFIG] = cluster.tf_config(args.task)
    timeout = args.cluster_timeout or DEFAULT_TIMEOUT
    print(f"This machine is {cluster.name(args.task)}, one of {len(cluster.workers)}; waiting for the others "
          f"(up to {timeout:g} s)...", flush=True)
    with Watchdog(cluster, args.task, timeout):
        import tensorflow as tf

        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    print("All workers are here.", flush=True)

    from desktop_app.core.train.multiworker import ClusterTrainingJob

    if rejoin:
        job = ClusterTrainingJob.resume(out.path, print_event, **changes)
    else:
        job = ClusterTrainingJob(wanted, on_event=print_event)
    job.join(cluster, args.task, strategy)

    def stop(_signum, _frame):
        print("Stopping every worker after this batch (press Ctrl+C again to abort)...", file=sys.stderr, flush=True)
        job.request_stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    signal.signal(signal.SIGINT, stop)
    result = job.run(None if rejoin else index)
    if not chief:
        print("Done: the chief has written the run.", flush=True)
        return 0
    if "best_val_accuracy" in result.metrics:
        print(f"Best val_accuracy {result.metrics['best_val_accuracy']:.4f} at epoch "
              f"{result.metrics['best_epoch']}. Model saved to {RunFolder(result.run_dir).model_path}", flush=True)
    if result.stopped_early:
        print("Stopped early; run the same command on every machine to go on.", flush=True)
    return 0


def _rejoin_changes(out, wanted) -> dict:
    """The chief's run folder holds this run already: what the command changes of its training
    (more epochs, say). Other photos, model or augmentation are another run."""
    from desktop_app.core.session import section_to_dict
    from desktop_app.core.train.job import RESUMABLE

    recorded = out.read_config()
    other = [name for name in ("model", "augmentation", "split")
             if section_to_dict(getattr(recorded, name)) != section_to_dict(getattr(wanted, name))]
    if Path(recorded.data).resolve() != Path(wanted.data).resolve():
        other.append("data folder")
    if other:
        raise RefusedError(f"{out.path} holds a run made with another {', '.join(other)}: give another --out for a "
                           "new run, or the options it was made with to go on with it.")
    before, after = asdict(recorded.training), asdict(wanted.training)
    return {k: v for k, v in after.items() if v != before[k] and k in RESUMABLE}
