"""One resolver for bundled resources in a checkout, an installed wheel and a frozen build."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path


@cache
def resources_dir() -> Path:
    package = Path(__file__).resolve().parent
    candidates = [
        package / "resources",  # installed wheel (force-included there)
        package.parent / "resources",  # source checkout / editable install
    ]
    frozen = getattr(sys, "_MEIPASS", None)  # PyInstaller one-folder build
    if frozen:
        candidates.insert(0, Path(frozen) / "resources")
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("Transfer Studio's resources folder is missing from this installation.")


def resource_path(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)
