"""Converters' chatter goes to the log file, even what C++ code writes straight to the terminal."""

from __future__ import annotations

import os
import sys

from desktop_app.core.logs import log_file, output_to_log


def test_output_from_python_and_from_file_descriptors_goes_to_the_log(capfd):
    with output_to_log("a chatty converter") as terminal:
        print("python says hello")
        print("python warns", file=sys.stderr)
        os.write(1, b"C++ writes to fd 1\n")
        os.write(2, b"C++ writes to fd 2\n")
        print("  our own progress line", file=terminal)
    print("after")
    out, err = capfd.readouterr()
    assert out == "after\n"
    assert err == "  our own progress line\n"
    text = log_file().read_text(encoding="utf-8")
    assert "Output of a chatty converter:" in text
    for line in ("python says hello", "python warns", "C++ writes to fd 1", "C++ writes to fd 2"):
        assert line in text


def test_verbose_leaves_the_output_on_the_terminal(capfd):
    with output_to_log("a chatty converter", verbose=True):
        os.write(2, b"shown\n")
    assert capfd.readouterr().err == "shown\n"
    assert not log_file().exists()
