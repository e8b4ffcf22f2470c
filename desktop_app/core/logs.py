"""The app's log file, and a way to send the chatter of converters there instead of the terminal.

The log lives in the per-user log folder (``platformdirs.user_log_dir``), e.g.
~/.local/state/Transfer Studio/log on Linux; the window, the command line and the
engine process all append to it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from typing import BinaryIO, TextIO
from logging.handlers import RotatingFileHandler
from pathlib import Path

import platformdirs

from desktop_app import APP_NAME

LOG_DIR_ENV = "TRANSFER_STUDIO_LOG_DIR"  # tests and portable installs point this elsewhere
LOG_FILE = "transfer-studio.log"
CAPTURE_FILE = "converter-output.txt"  # the latest capture, whole even if the process died in it
log = logging.getLogger("desktop_app")


def log_dir() -> Path:
    override = os.environ.get(LOG_DIR_ENV)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def log_file() -> Path:
    return log_dir() / LOG_FILE


def setup_logging() -> Path | None:
    """Send the app's log records to the log file (once); return its path.

    A log folder that cannot be written (a read-only home, a full disk) must not stop the
    app: then there is no file log, a warning goes to stderr, and None comes back.
    """
    path = log_file()
    root = logging.getLogger("desktop_app")
    if not any(getattr(h, "_transfer_studio", None) == str(path) for h in root.handlers):
        for handler in [h for h in root.handlers if getattr(h, "_transfer_studio", None)]:
            root.removeHandler(handler)
            handler.close()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handler = RotatingFileHandler(path, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
        except OSError as e:
            print(f"{APP_NAME}: cannot write the log file {path} ({e.strerror or e}); "
                  "carrying on without it.", file=sys.stderr)
            return None
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler._transfer_studio = str(path)  # type: ignore[attr-defined]
        root.addHandler(handler)
        root.setLevel(logging.INFO)
    return path


@contextlib.contextmanager
def output_to_log(what: str, verbose: bool = False) -> Iterator[TextIO]:
    """Everything written to stdout and stderr inside goes to the log file, not the terminal;
    the stream it gives still reaches the terminal (the app's own progress lines).

    TensorFlow and the converters print from C++ as well as Python (absl, TFLite's MLIR
    passes, tf2onnx), so the file descriptors themselves are redirected, not only
    ``sys.stdout``. The capture is a file in the log folder, so what a converter printed
    before it brought the whole process down is still there. The redirection is the
    process's: what other threads print meanwhile lands in the same entry. ``verbose``
    leaves the output where it was.
    """
    if verbose:
        yield sys.stderr
        return
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    with contextlib.ExitStack() as stack:
        capture = stack.enter_context(_capture_file())
        saved = {}
        for fd in (1, 2):
            saved[fd] = os.dup(fd)
            stack.callback(os.close, saved[fd])
        encoding = getattr(sys.__stderr__, "encoding", None) or "utf-8"
        terminal = stack.enter_context(os.fdopen(os.dup(saved[2]), "w", buffering=1, encoding=encoding,
                                                 errors="replace"))
        python_side = stack.enter_context(open(os.dup(capture.fileno()), "w", buffering=1, encoding="utf-8",
                                               errors="replace"))
        stack.callback(_log_captured, capture, what)
        for fd, copy in saved.items():
            stack.callback(os.dup2, copy, fd)  # undone first: the terminal is back before the log is read
        for fd in saved:
            os.dup2(capture.fileno(), fd)
        with contextlib.redirect_stdout(python_side), contextlib.redirect_stderr(python_side):
            yield terminal
        for stream in (python_side, sys.__stdout__, sys.__stderr__):
            if stream is not None:
                stream.flush()


@contextlib.contextmanager
def _capture_file() -> Iterator[BinaryIO]:
    try:
        log_dir().mkdir(parents=True, exist_ok=True)
        capture = open(log_dir() / CAPTURE_FILE, "w+b")
    except OSError:  # no log folder: a temporary file still keeps the terminal quiet
        capture = tempfile.TemporaryFile(mode="w+b")
    with capture:
        yield capture


def _log_captured(capture: BinaryIO, what: str) -> None:
    capture.seek(0)
    text = capture.read().decode("utf-8", "replace").strip()
    if text:
        _to_log_file(f"Output of {what}:\n{text}")


def _to_log_file(message: str) -> None:
    """A record for the log file only: a handler that TensorFlow's absl put on the root logger
    would print it on the terminal, which is what ``output_to_log`` avoids."""
    setup_logging()
    record = log.makeRecord(log.name, logging.INFO, __file__, 0, message, None, None)
    for handler in log.handlers:
        if getattr(handler, "_transfer_studio", None):
            handler.handle(record)
