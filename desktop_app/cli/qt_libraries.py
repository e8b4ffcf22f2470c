"""Before the window opens: is there a screen, and can Qt's platform plugin load?

When a system library is missing Qt aborts the whole process, and its message names
only ``xcb-cursor0`` even when others are missing. So the plugin's dependencies are
checked with ``ldd`` first (Linux only) and a missing one becomes a sentence that names
the Debian/Ubuntu packages to install. Imports no Qt: it must run before Qt can fail.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from desktop_app.core.errors import UserError
from desktop_app.core.system_packages import debian_package

SCREENLESS = {"offscreen", "minimal", "vnc", "linuxfb", "eglfs", "vkkhrdisplay"}
_LDD_MISSING = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.MULTILINE)


def missing_libraries(ldd_output: str) -> list[str]:
    return sorted(set(_LDD_MISSING.findall(ldd_output)))


def _run_ldd(path: Path) -> str:
    return subprocess.run(["ldd", str(path)], capture_output=True, text=True, timeout=20).stdout


def _qt_dir() -> Path | None:
    spec = importlib.util.find_spec("PySide6")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "Qt"


def chosen_platforms(env: Mapping[str, str]) -> list[str]:
    """The platform plugins Qt will try, in order (QT_QPA_PLATFORM may list several)."""
    asked = [p.split(":")[0] for p in env.get("QT_QPA_PLATFORM", "").split(";") if p]
    if asked:
        return asked
    return ["wayland", "xcb"] if env.get("WAYLAND_DISPLAY") else ["xcb"]


def platform_problem(env: Mapping[str, str] | None = None, qt_dir: Path | None = None,
                     ldd: Callable[[Path], str] = _run_ldd) -> str | None:
    """A sentence saying why the window cannot open here, or None when it should."""
    env = os.environ if env is None else env
    if not sys.platform.startswith("linux"):
        return None
    platforms = chosen_platforms(env)
    if any(p in SCREENLESS for p in platforms):
        return None
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        return ("There is no screen to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is set). Start the "
                "app from a desktop session, or use the transfer-studio commands, which need no window "
                "(transfer-studio --help).")
    qt_dir = qt_dir if qt_dir is not None else _qt_dir()
    if qt_dir is None or shutil.which("ldd") is None:
        return None
    missing: list[str] = []
    for platform in platforms:
        plugin = qt_dir / "plugins" / "platforms" / f"libq{platform}.so"
        if not plugin.exists():
            continue
        found = missing_libraries(ldd(plugin))
        if not found:
            return None  # Qt can use this one
        missing = found
    if not missing:
        return None
    packages = " ".join(sorted({debian_package(lib) for lib in missing}))
    return (f"The window cannot open because this computer lacks system libraries that Qt needs "
            f"({', '.join(missing)}). On Debian or Ubuntu install them with: sudo apt install {packages}")


def require_platform() -> None:
    problem = platform_problem()
    if problem is not None:
        raise UserError(problem)
