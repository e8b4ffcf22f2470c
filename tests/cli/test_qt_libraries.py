"""The window's start-up names the system packages Qt lacks instead of Qt's abort."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from desktop_app.cli.qt_libraries import missing_libraries, platform_problem
from desktop_app.core.system_packages import debian_package

# What ldd printed for PySide6 6.11's xcb plugin on a fresh Debian without the xcb extras.
LDD_XCB = """\
\tlinux-vdso.so.1 (0x00007ffd5a3f2000)
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/plugins/platforms/../../lib/libQt6XcbQpa.so.6 (0x00007f1c)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-cursor.so.0 => not found
\tlibdbus-1.so.3 => /lib/x86_64-linux-gnu/libdbus-1.so.3 (0x00007f1c8)
\tlibxcb-icccm.so.4 => not found
"""


def _qt_dir(tmp_path: Path, *platforms: str) -> Path:
    folder = tmp_path / "Qt" / "plugins" / "platforms"
    folder.mkdir(parents=True)
    for name in platforms:
        (folder / f"libq{name}.so").write_bytes(b"")
    return tmp_path / "Qt"


def test_package_names_follow_debian_rules():
    assert debian_package("libxcb-icccm.so.4") == "libxcb-icccm4"
    assert debian_package("libxcb-keysyms.so.1") == "libxcb-keysyms1"
    assert debian_package("libxkbcommon-x11.so.0") == "libxkbcommon-x11-0"
    assert debian_package("libdbus-1.so.3") == "libdbus-1-3"
    assert debian_package("libX11-xcb.so.1") == "libx11-xcb1"
    assert debian_package("libglib-2.0.so.0") == "libglib2.0-0"
    assert missing_libraries(LDD_XCB) == ["libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1"]


def test_every_missing_library_is_named_not_only_xcb_cursor(tmp_path):
    qt = _qt_dir(tmp_path, "xcb")
    problem = platform_problem({"DISPLAY": ":0"}, qt, ldd=lambda _path: LDD_XCB)
    assert "sudo apt install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1" in problem


def test_a_usable_plugin_or_a_screenless_platform_needs_nothing(tmp_path):
    qt = _qt_dir(tmp_path, "xcb", "wayland")
    complete = LDD_XCB.replace("not found", "/lib/x.so")
    assert platform_problem({"DISPLAY": ":0"}, qt, ldd=lambda _path: complete) is None
    assert platform_problem({"QT_QPA_PLATFORM": "offscreen"}, qt, ldd=lambda _path: LDD_XCB) is None
    # Wayland first when the session has it; it is enough that one of them loads.
    plugins = {"libqwayland.so": complete, "libqxcb.so": LDD_XCB}
    env = {"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}
    assert platform_problem(env, qt, ldd=lambda path: plugins[path.name]) is None


def test_no_screen_is_one_sentence(tmp_path):
    problem = platform_problem({}, _qt_dir(tmp_path, "xcb"), ldd=lambda _path: "")
    assert "no screen" in problem and "transfer-studio --help" in problem


def test_the_command_says_it_instead_of_aborting():
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp"}  # no DISPLAY, no QT_QPA_PLATFORM
    done = subprocess.run([sys.executable, "-m", "desktop_app"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.startswith("Error: There is no screen")
