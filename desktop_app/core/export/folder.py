"""Where an export is written: never beside another run's files, never half-finished.

An export is built in a hidden staging folder next to the target and renamed into place at
the end, so the target holds one whole export or none. A target that already holds files
is refused. Asked to replace them (the window asks the user first), the app replaces only
what looks like an earlier export (files, and a ``saved_model`` folder): the old folder is
renamed aside, the new one renamed in, and only then do the old files go to the system
trash, where the user can take them back.
"""

from __future__ import annotations

import glob
import os
import shutil
import uuid
from pathlib import Path

from desktop_app.core.errors import UserError
from desktop_app.core.fileio import fsync_dir, to_trash

STAGING_MARK, REPLACED_MARK = ".export-", ".replaced-"
CLUTTER = frozenset({".ds_store", "thumbs.db", "desktop.ini"})  # the system's, never the user's
EXPORT_FOLDERS = frozenset({"saved_model"})  # the only folder an export writes


def existing_files(folder: Path) -> list[str]:
    """What a folder holds that an export would mix with (hidden files count; system clutter not)."""
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.name.lower() not in CLUTTER)


def refuse_mixing(folder: Path, replace: bool) -> None:
    """One sentence when ``folder`` cannot take an export: a file, a drive, or a folder with files
    (unless ``replace``; even then, a folder that holds other folders is not an old export)."""
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{folder} is a file, not a folder: choose a folder for the exported files.")
    if os.path.ismount(folder):
        raise UserError(f"{folder} is a whole drive: choose or make a folder on it for the exported files.")
    names = existing_files(folder)
    if not names:
        return
    folders = [n for n in names if (folder / n).is_dir() and n not in EXPORT_FOLDERS]
    if replace and folders:
        raise UserError(f"The folder {folder} holds other folders ({', '.join(folders[:3])}), so it is not an "
                        "earlier export: choose an empty or new folder for this one.")
    if not replace:
        shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
        raise UserError(f"The folder {folder} already holds files ({shown}). An export never mixes with other "
                        "files: choose an empty or new folder, or let the export move them to the trash first.")


def _leftovers(target: Path, mark: str) -> list[Path]:
    return list(target.parent.glob(f".{glob.escape(target.name)}{mark}*"))


def staging_folder(target: Path) -> Path:
    """A new hidden folder beside ``target`` (same disk, so the final rename is atomic).

    What an export that was killed left behind is cleared first: its staging folder is
    deleted (never published), an old export it had renamed aside goes to the trash.
    """
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        for old in _leftovers(target, STAGING_MARK):
            shutil.rmtree(old, ignore_errors=True)
        for old in _leftovers(target, REPLACED_MARK):
            to_trash(old)
        staging = parent / f".{target.name}{STAGING_MARK}{uuid.uuid4().hex[:12]}"
        staging.mkdir()
    except OSError as e:
        raise UserError(f"Cannot write into {parent} ({e.strerror or e}); choose another export folder.") from None
    return staging


def discard(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)


def publish(staging: Path, target: Path, replace: bool) -> str | None:
    """Rename the finished export into place; what ``target`` held goes to the trash after (a
    sentence comes back if the trash would not take it)."""
    refuse_mixing(target, replace)  # files may have arrived while the export ran
    aside = target.parent / f".{target.name}{REPLACED_MARK}{uuid.uuid4().hex[:12]}"
    try:
        if target.is_dir():
            os.replace(target, aside)  # one rename: the old export stays whole until the new one is in
        try:
            os.replace(staging, target)
        except OSError:
            if aside.exists():
                os.replace(aside, target)
            raise
        fsync_dir(target.parent)
    except OSError as e:
        raise UserError(f"Could not put the export into {target} ({e.strerror or e}); the folder may be open in "
                        "another program.") from None
    if not aside.exists():
        return None
    try:
        for child in aside.iterdir():
            if child.name.lower() in CLUTTER:
                child.unlink()
            else:
                to_trash(child)  # by its own name, where the user can take it back
        aside.rmdir()
    except Exception as e:  # e.g. a USB stick without a trash folder
        return (f"The earlier files could not go to the trash ({e}); they are in the hidden folder {aside}, "
                "and the next export there moves them to the trash again.")
    return None
