"""Where the application keeps its own files (never inside the install folder)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from desktop_app import APP_NAME

# Tests and portable installs point this somewhere else.
DATA_DIR_ENV = "TRANSFER_STUDIO_DATA_DIR"


def user_data_dir() -> Path:
    """The per-user data folder, e.g. ~/.local/share/Transfer Studio on Linux."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
