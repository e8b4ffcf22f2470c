"""Make a dataset in the app or on the command line: new, renamed and deleted classes, photos
added and deleted. The dataset folder stays the source of truth: every edit is a plain change
of its folders and files, which the next scan shows. No Qt, no TensorFlow.

Deleted photos and classes go to the system trash (``send2trash``), but not at once: an
``UndoShelf`` keeps the last deletion so Undo can put it back, and sends it to the trash at
the next deletion or when the app closes. A renamed class is recorded in the dataset folder
(a hidden file the scan never lists), so runs made before the rename find their photos again
without asking (``renamed_classes``, used when a run's recorded photos are looked up).
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from desktop_app.core.data.frames import CAPTURE_PREFIX
from desktop_app.core.data.scan import SPLIT_FOLDER_NAMES, has_image_extension, is_hidden_or_system, split_folders
from desktop_app.core.errors import UserError
from desktop_app.core.fileio import copy_atomic, fsync_dir, to_trash, write_json_atomic
from desktop_app.core.paths import user_data_dir

log = logging.getLogger(__name__)

RENAMES_FILE = ".class-renames.json"  # hidden: scans and training never see it
MAX_NAME_LENGTH = 100
_FORBIDDEN = re.compile(r'[/\\:*?"<>|\x00-\x1f]')
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
                     *(f"lpt{i}" for i in range(1, 10))}
FORMATS = "JPEG, PNG, BMP, GIF or WebP"


# --------------------------------------------------------------------------- names and folders

def check_class_name(root: Path, name: str, renaming: str | None = None) -> str:
    """``name`` as a class folder name (spaces around it trimmed), or a UserError in one sentence
    saying why it cannot be one. ``renaming``: the class being renamed (it may keep its name)."""
    name = (name or "").strip()
    if not name:
        raise UserError("Type a name for the class.")
    if _FORBIDDEN.search(name):
        raise UserError(f'A class name cannot contain / \\ : * ? " < > | ; "{name}" has one. '
                        "Use letters, numbers, spaces, - or _.")
    if name.startswith("."):
        raise UserError("A class name cannot start with a dot: the folder would be hidden and the app would "
                        "not see it.")
    if name.endswith("."):
        raise UserError("A class name cannot end with a dot: Windows cannot keep such a folder name.")
    if len(name) > MAX_NAME_LENGTH:
        raise UserError(f"Keep the class name under {MAX_NAME_LENGTH} characters.")
    if name.lower() in SPLIT_FOLDER_NAMES:
        raise UserError(f"{name} is the name of a folder that splits a dataset (train, test, val); choose "
                        "another class name.")
    if name.split(".")[0].lower() in _WINDOWS_RESERVED:
        raise UserError(f"{name} is a name Windows keeps for itself; choose another class name.")
    for other in listed_class_names(root):
        if other == renaming:
            continue
        if other == name:
            raise UserError(f"There is already a class called {name}.")
        if other.lower() == name.lower():
            raise UserError(f"There is already a class called {other}; names that differ only in capital "
                            "letters are the same folder on Windows and macOS.")
    return name


def listed_class_names(root: Path) -> list[str]:
    """Every class folder's name in ``root``, with photos or not."""
    return sorted({folder.name for folder in _all_class_folders(root)})


def class_folders(root: Path, name: str) -> list[Path]:
    """The folders that hold class ``name``: one, or one per split folder (train/, test/...)."""
    return [folder for folder in _all_class_folders(root) if folder.name == name]


def photo_folder(root: Path, name: str) -> Path:
    """Where new photos of class ``name`` go: its folder, or its folder in train/."""
    splits = split_folders(Path(root), [])
    return (splits["train"] if "train" in splits else Path(root)) / name


def _all_class_folders(root: Path) -> list[Path]:
    root = Path(root)
    splits = split_folders(root, [])
    parents = list(splits.values()) if "train" in splits else [root]
    folders = []
    for parent in parents:
        try:
            entries = sorted(os.scandir(parent), key=lambda e: e.name)
        except OSError:
            continue
        folders += [Path(e.path) for e in entries if not is_hidden_or_system(e.name) and e.is_dir()]
    return folders


def _require_class(root: Path, name: str) -> list[Path]:
    folders = class_folders(root, name)
    if not folders:
        raise UserError(f"There is no class called {name} in {root}.")
    return folders


def unique_path(path: Path) -> Path:
    """``path``, or ``name (2).ext``, ``name (3).ext``... when a file of that name is there."""
    candidate, n = path, 2
    while candidate.exists():
        candidate = path.with_name(f"{path.stem} ({n}){path.suffix}")
        n += 1
    return candidate


# --------------------------------------------------------------------------- datasets and classes

def default_dataset_parent() -> Path:
    """Where "New dataset" makes its folder: the user's Pictures folder (home where there is none)."""
    pictures = Path.home() / "Pictures"
    return pictures if pictures.is_dir() else Path.home()


def new_dataset(name: str, parent: Path | None = None) -> Path:
    """An empty dataset folder ``parent/name`` (``name (2)``... when taken), made now."""
    name = (name or "").strip()
    if not name or _FORBIDDEN.search(name) or name.startswith(".") or name.endswith("."):
        raise UserError('Type a name for the dataset folder, without / \\ : * ? " < > | and not starting '
                        "or ending with a dot.")
    parent = Path(parent) if parent is not None else default_dataset_parent()
    folder = unique_path(parent / name)
    try:
        folder.mkdir(parents=True)
    except OSError as e:
        raise UserError(f"Could not make the folder {folder} ({e.strerror or e}).") from None
    return folder


def create_class(root: Path, name: str) -> Path:
    """A new, empty class folder (in every split folder, for a dataset split into train/ and test/)."""
    root = Path(root)
    name = check_class_name(root, name)
    splits = split_folders(root, [])
    parents = list(splits.values()) if "train" in splits else [root]
    try:
        for parent in parents:
            (parent / name).mkdir(parents=True)
    except OSError as e:
        raise UserError(f"Could not make the class folder {name} ({e.strerror or e}).") from None
    return photo_folder(root, name)


def rename_class(root: Path, old: str, new: str) -> str:
    """Rename class ``old`` to ``new`` (in every split folder) and record it, so runs made with
    the old name keep working; returns the new name."""
    root = Path(root)
    folders = _require_class(root, old)
    new = check_class_name(root, new, renaming=old)
    if new == old:
        return new
    try:
        for folder in folders:
            if new.lower() == old.lower():  # only capitals changed: a case-insensitive disk needs two steps
                step = folder.with_name(f".{old}.{uuid.uuid4().hex[:8]}")
                folder.rename(step)
                folder = step
            folder.rename(folder.with_name(new))
            fsync_dir(folder.parent)
    except OSError as e:
        raise UserError(f"Could not rename {old} to {new} ({e.strerror or e}). Is a photo of it open in "
                        "another program?") from None
    write_json_atomic(root / RENAMES_FILE, {"renames": [*_recorded_renames(root), [old, new]]})
    return new


def _recorded_renames(root: Path) -> list[list[str]]:
    try:
        data = json.loads((Path(root) / RENAMES_FILE).read_text(encoding="utf-8"))
        return [[str(a), str(b)] for a, b in data.get("renames", [])]
    except (OSError, ValueError, TypeError, AttributeError):
        return []


def renamed_classes(root: Path, run_classes: list[str], present: list[str]) -> dict[str, str]:
    """old -> new for a run's classes that were renamed in the app since: each class of the run
    that is not in the folder under its name, followed through the recorded renames to a class
    that is. Classes still there keep their name (a new class may reuse an old name)."""
    renames = _recorded_renames(root)
    mapping = {}
    for name in run_classes:
        if name in present:
            continue
        now = name
        for old, new in renames:
            if old == now:
                now = new
        if now != name and now in present:
            mapping[name] = now
    return mapping


# --------------------------------------------------------------------------- photos

@dataclass
class AddedPhotos:
    added: list[Path] = field(default_factory=list)
    refused: list[Path] = field(default_factory=list)  # not photos the app can use

    def refusal(self) -> str:
        """One sentence about the files left out; "" when none were."""
        if not self.refused:
            return ""
        names = ", ".join(p.name for p in self.refused[:3])
        more = f" and {len(self.refused) - 3} more" if len(self.refused) > 3 else ""
        return (f"Not added: {names}{more}, not a photo the app can use (use {FORMATS})."
                if len(self.refused) == 1 else
                f"Not added: {names}{more}, not photos the app can use (use {FORMATS}).")


def add_photos(root: Path, name: str, files: list[Path]) -> AddedPhotos:
    """Copy image files into class ``name`` (the originals stay where they are), each under a name
    not yet taken there; files that are not images are left out and named in ``refusal()``."""
    _require_class(root, name)
    target = photo_folder(root, name)
    target.mkdir(parents=True, exist_ok=True)
    result = AddedPhotos()
    for source in map(Path, files):
        if not source.is_file() or not has_image_extension(source.name) or is_hidden_or_system(source.name):
            result.refused.append(source)
            continue
        path = unique_path(target / source.name)
        try:
            copy_atomic(source, path)
        except OSError as e:
            raise UserError(f"Could not copy {source.name} into {name} ({e.strerror or e}).") from None
        result.added.append(path)
    return result


def captured_photos(root: Path) -> list[Path]:
    """Every photo taken with the camera in this dataset (their names start with ``capture-``)."""
    return [Path(e.path) for folder in _all_class_folders(root)
            for e in sorted(os.scandir(folder), key=lambda e: e.name)
            if e.name.startswith(CAPTURE_PREFIX) and e.is_file()]


# --------------------------------------------------------------------------- deleting, with Undo

def undo_folder() -> Path:
    """Where the app keeps the last deletion until it goes to the trash."""
    return user_data_dir() / "undo"




@dataclass
class Deletion:
    what: str  # "the class cup", "3 photos": for "Undo: ..." and messages
    items: list[tuple[Path, Path]]  # (where it was, where it is kept now)
    folder: Path


class UndoShelf:
    """The last deletion, kept in ``folder`` so that Undo can put it back; the deletion before
    it goes to the system trash (so does this one at ``flush()``, when the app closes)."""

    MANIFEST = "deleted.json"

    def __init__(self, folder: Path | None = None):
        self.folder = Path(folder) if folder is not None else undo_folder()
        self.last: Deletion | None = None

    @property
    def can_undo(self) -> bool:
        return self.last is not None

    def deposit(self, paths: list[Path], what: str) -> Deletion:
        """Take ``paths`` (files or folders) out of the dataset onto the shelf; the previous deletion
        goes to the trash first."""
        paths = [Path(p) for p in paths]
        if not paths:
            raise UserError("Nothing is selected to delete.")
        self.flush()
        shelf = self.folder / uuid.uuid4().hex[:12]
        shelf.mkdir(parents=True)
        deletion = Deletion(what, [], shelf)
        try:
            for i, path in enumerate(paths):
                kept = shelf / f"{i:05d}-{path.name}"
                shutil.move(str(path), str(kept))
                deletion.items.append((path, kept))
        except OSError as e:
            self.last = deletion  # what did move can still be undone
            self._write_manifest(deletion)
            raise UserError(f"Could not delete {path.name} ({e.strerror or e}). Is it open in another "
                            "program?") from None
        self._write_manifest(deletion)
        self.last = deletion
        return deletion

    def _write_manifest(self, deletion: Deletion) -> None:
        write_json_atomic(deletion.folder / self.MANIFEST, {
            "what": deletion.what, "items": [[str(a), str(b)] for a, b in deletion.items]})

    def undo(self) -> list[Path]:
        """Put the last deletion back where it was (beside what took its place meanwhile); the
        paths it has now."""
        deletion, self.last = self.last, None
        if deletion is None:
            return []
        restored = []
        for original, kept in deletion.items:
            place = unique_path(original)
            place.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(kept), str(place))
            restored.append(place)
        shutil.rmtree(deletion.folder, ignore_errors=True)
        return restored

    def flush(self) -> list[str]:
        """Send what the shelf keeps to the system trash (leftovers of an app that crashed too);
        returns a sentence for each item that could not go there (it stays on the shelf)."""
        self.last = None
        problems = []
        if not self.folder.is_dir():
            return problems
        for shelf in sorted(self.folder.iterdir()):
            try:
                items = json.loads((shelf / self.MANIFEST).read_text(encoding="utf-8"))["items"]
            except (OSError, ValueError, KeyError, TypeError):
                items = []
            kept = [p for p in (_trash_from(Path(original), Path(kept)) for original, kept in items) if p]
            if not kept:
                shutil.rmtree(shelf, ignore_errors=True)
            problems += kept
        return problems


def _trash_from(original: Path, kept: Path) -> str | None:
    """Trash ``kept``, from where it was when that place is free, so that "Restore" in the
    system's trash puts it back into the dataset."""
    if not kept.exists():
        return None
    path = kept
    if original.parent.is_dir() and not original.exists():
        try:
            shutil.move(str(kept), str(original))
            path = original
        except OSError:
            path = kept
    try:
        to_trash(path)
    except Exception as e:  # no trash on this disk, no permission: keep it rather than lose it
        log.warning("could not move %s to the trash: %s", path, e)
        if path != kept:
            shutil.move(str(path), str(kept))
        return f"{original.name} could not be moved to the trash ({e}); it is kept in {kept.parent}."
    return None


def _delete(paths: list[Path], what: str, shelf: UndoShelf | None) -> Deletion:
    """Onto ``shelf`` (Undo brings them back), or with no shelf straight to the trash (the CLI)."""
    if shelf is not None:
        return shelf.deposit(paths, what)
    for path in paths:
        try:
            to_trash(path)
        except Exception as e:
            raise UserError(f"Could not move {path.name} to the trash ({e}); nothing more was deleted.") from None
    return Deletion(what, [(p, p) for p in paths], Path())


def delete_class(root: Path, name: str, shelf: UndoShelf | None) -> Deletion:
    """Class ``name`` with its photos (in every split folder) deleted."""
    return _delete(_require_class(Path(root), name), f"the class {name}", shelf)


def delete_photos(root: Path, paths: list[Path], shelf: UndoShelf | None) -> Deletion:
    """Photos of the dataset deleted."""
    root = Path(root).resolve()
    paths = [Path(p) for p in paths]
    outside = [p for p in paths if not p.resolve().is_relative_to(root)]
    if outside:
        raise UserError(f"{outside[0].name} is not in the dataset folder {root}; nothing was deleted.")
    return _delete(paths, f"{len(paths)} photo" + ("" if len(paths) == 1 else "s"), shelf)


def delete_captured_photos(root: Path, shelf: UndoShelf | None) -> Deletion | None:
    """Every photo taken with the camera in this dataset deleted; None when there are none."""
    photos = captured_photos(root)
    if not photos:
        return None
    return _delete(photos, f"{len(photos)} camera photo" + ("" if len(photos) == 1 else "s"), shelf)
