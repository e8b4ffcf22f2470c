"""The ``transfer-studio`` command line: no sub-command opens the window, the others run headless.

Each sub-command lives in its own module with ``register(commands)``, which adds its
parser and sets ``func``. Heavy modules (TensorFlow, Qt) are imported inside the
commands that need them, so ``--help`` and the GUI start fast.
"""

from __future__ import annotations

import argparse
import sys

from desktop_app import __version__
from desktop_app.core.errors import UserError

from desktop_app.cli import augment, classes, evaluate, model, scan, train

COMMAND_MODULES = [train, augment, scan, classes, model, evaluate]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="transfer-studio",
        description="Train image classifiers by transfer learning. Without a command, opens the app.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--data", metavar="FOLDER", help="open this dataset folder in the app")
    parser.add_argument("--project", metavar="FOLDER", help="open this project folder in the app")
    parser.add_argument("--self-test", action="store_true",
                        help="open the window, load the demo dataset, build a small model, report and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command is None:
            from desktop_app.cli.qt_libraries import require_platform

            require_platform()  # a sentence naming what to install, before Qt can abort
        if args.command is None and args.self_test:
            from desktop_app.cli.selftest import run_self_test

            return run_self_test()
        if args.command is None:
            from desktop_app.app import run_gui

            return run_gui(data=args.data, project=args.project)
        return args.func(args)
    except UserError as e:
        print(f"Error: {e}", file=sys.stderr)
        return e.exit_code
