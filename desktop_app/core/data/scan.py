"""Understand an image folder: its classes and files, and the files that cannot be used.

Listing never decodes an image, so even a very large folder indexes in seconds.
Two layouts are understood:

* ``ROOT/<class>/<image>``: one pool, split into train / validation by a fraction;
* ``ROOT/train/<class>/...`` with ``test/`` (and/or ``val``, ``valid``, ``validation``):
  the folders decide the split.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from desktop_app.core.errors import UserError

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp"})
# Picture formats people meet that the app cannot train on: listed as bad files, with
# a hint, rather than silently ignored like a README would be.
UNSUPPORTED_IMAGE_EXTENSIONS = {
    ".tif": "TIFF", ".tiff": "TIFF", ".heic": "HEIC", ".heif": "HEIF", ".avif": "AVIF", ".svg": "SVG",
    ".psd": "Photoshop", ".raw": "camera RAW", ".cr2": "camera RAW", ".nef": "camera RAW",
    ".dng": "camera RAW", ".arw": "camera RAW", ".ico": "icon", ".jp2": "JPEG 2000", ".jxl": "JPEG XL",
}
IGNORED_FILE_NAMES = frozenset({"thumbs.db", "desktop.ini", ".ds_store"})
EMPTY_CLASSES_WARNING = "Left out empty class folder(s)"  # the start of the warning about them
SPLIT_FOLDER_NAMES = {"train": "train", "test": "test", "val": "val", "valid": "val", "validation": "val"}


@dataclass(frozen=True)
class ImageFile:
    path: Path
    label: int  # index into DatasetIndex.classes
    split: str  # "pool" (no split folders), "train", "val" or "test"


@dataclass(frozen=True)
class BadFile:
    """A file that looks like a photo but cannot be used, and why (one plain sentence)."""

    path: Path
    class_name: str
    split: str
    problem: str  # short code: empty, corrupt, not_image, unsupported, too_large, unreadable, link_loop
    reason: str


@dataclass(eq=False)  # compared by identity: a large folder's file list is long
class DatasetIndex:
    root: Path
    classes: list[str]
    files: list[ImageFile]
    has_split_folders: bool
    warnings: list[str] = field(default_factory=list)
    bad_files: list[BadFile] = field(default_factory=list)
    # Set by validation.validate_index: every file in ``files`` decodes. ``notes`` says
    # which ones were odd but usable (grayscale, CMYK, rotated...), by path.
    validated: bool = False
    notes: dict[Path, tuple[str, ...]] = field(default_factory=dict)
    digests: dict[Path, str] = field(default_factory=dict)  # content digest of each usable file, once checked
    # Class folders without a usable photo: left out of ``classes`` (nothing to learn from), but
    # listed, so that a class just made in the app can be shown and filled.
    empty_classes: list[str] = field(default_factory=list)

    @property
    def listed_classes(self) -> list[str]:
        """Every class folder, with photos or not, in name order."""
        return sorted([*self.classes, *self.empty_classes])

    def counts(self) -> dict[str, dict[str, int]]:
        """{split: {class: number of files}}, every class present in every split."""
        table: dict[str, dict[str, int]] = {}
        for f in self.files:
            row = table.setdefault(f.split, dict.fromkeys(self.classes, 0))
            row[self.classes[f.label]] += 1
        return table

    def class_totals(self) -> dict[str, int]:
        totals = dict.fromkeys(self.classes, 0)
        for f in self.files:
            totals[self.classes[f.label]] += 1
        return totals

    def files_in(self, split: str) -> list[ImageFile]:
        return [f for f in self.files if f.split == split]

    def files_of_class(self, label: int) -> list[ImageFile]:
        return [f for f in self.files if f.label == label]

    @property
    def splits(self) -> list[str]:
        return sorted({f.split for f in self.files})

    @property
    def layout(self) -> str:
        return "split folders" if self.has_split_folders else "class folders"

    def imbalance(self) -> float:
        """Largest class / smallest class (1.0 when balanced); inf when a class has none."""
        totals = [n for n in self.class_totals().values()]
        if not totals:
            return 1.0
        return max(totals) / min(totals) if min(totals) else math.inf

    def listing_problem(self) -> str | None:
        """Why the listing is no dataset yet (no photos at all, or one class), in one sentence; None when
        it is one. ``scan_folder`` raises it unless asked for the listing anyway."""
        if not self.files and not self.bad_files:
            return _no_images_message(self.root, _subfolders(self.root, []))
        if len(self.classes) < 2 and not self.bad_files:
            only = self.classes[0] if self.classes else "none"
            return (f"{self.root} has only one class with images ({only}). A classifier needs at least two "
                    "class folders to tell apart.")
        return None

    def usability_problem(self) -> str | None:
        """Why a model cannot be trained on this folder, in one sentence; None when it can."""
        if not self.files:
            return f"None of the images in {self.root} can be used; see the list of bad files."
        if len(self.classes) < 2:
            only = self.classes[0] if self.classes else "none"
            return (f"{self.root} has only one class with usable images ({only}). A classifier needs "
                    "at least two class folders to tell apart.")
        if self.has_split_folders and not self.files_in("train"):
            return f"{self.root} has split folders but no usable images in train/."
        if self.has_split_folders and not (self.files_in("val") or self.files_in("test")):
            return f"{self.root} has a train folder but no test or val folder with usable images."
        return None

    def without(self, unusable: dict[Path, BadFile], notes: dict[Path, tuple[str, ...]],
                digests: dict[Path, str]) -> DatasetIndex:
        """A validated copy: bad files moved to ``bad_files``, classes left empty dropped."""
        kept = [f for f in self.files if f.path not in unusable]
        warnings = list(self.warnings)
        classes, kept = drop_empty_classes(self.classes, kept, warnings, "after leaving out bad files")
        return DatasetIndex(
            self.root, classes, kept, self.has_split_folders, warnings,
            sorted([*self.bad_files, *unusable.values()], key=lambda b: str(b.path)), True,
            {p: n for p, n in notes.items() if n}, digests,
            sorted([*self.empty_classes, *(c for c in self.classes if c not in classes)]),
        )


def is_hidden_or_system(name: str) -> bool:
    return name.startswith(".") or name.lower() in IGNORED_FILE_NAMES


def has_image_extension(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def split_folders(root: Path, warnings: list[str]) -> dict[str, Path]:
    """The split folders directly in ``root`` ({"train": .../train, "val": .../valid, ...}); they
    decide the layout only when one of them is train/."""
    return {SPLIT_FOLDER_NAMES[p.name.lower()]: p for p in _subfolders(root, warnings)
            if p.name.lower() in SPLIT_FOLDER_NAMES}


def scan_folder(root: str | os.PathLike, strict: bool = True) -> DatasetIndex:
    """List a dataset folder (no decoding). Raises UserError with a clear sentence when unusable;
    with ``strict=False`` a folder without photos, or with one class, is listed anyway (a dataset
    being made in the app) and ``listing_problem()`` says what it lacks.

    Files are not opened here; ``validation.validate_index`` checks them afterwards.
    """
    root = Path(root).expanduser()
    if not root.exists():
        raise UserError(f"The folder {root} does not exist.")
    if not root.is_dir():
        raise UserError(f"{root} is a file, not a folder. Choose the folder that holds one sub-folder per class.")
    warnings: list[str] = []
    bad: list[BadFile] = []
    top = _subfolders(root, warnings)
    split_dirs = split_folders(root, [])
    if "train" in split_dirs:
        class_names = sorted({c.name for p in split_dirs.values() for c in _subfolders(p, warnings)})
        files = []
        for split, folder in sorted(split_dirs.items()):
            files += _list_classes(folder, class_names, split, warnings, bad, root)
    else:
        class_names = sorted(p.name for p in top)
        files = _list_classes(root, class_names, "pool", warnings, bad, root)
        loose = _count_loose_images(root)
        if loose:
            warnings.append(f"{loose} image(s) directly inside {root.name} are in no class folder and were left out.")

    listed = class_names
    class_names, files = drop_empty_classes(class_names, files, warnings)
    index = DatasetIndex(root, class_names, files, "train" in split_dirs, warnings, bad,
                         empty_classes=[c for c in listed if c not in class_names])
    problem = index.listing_problem() if strict else None
    if problem:
        raise UserError(problem)
    return index


def drop_empty_classes(
    class_names: list[str], files: list[ImageFile], warnings: list[str], why: str = ""
) -> tuple[list[str], list[ImageFile]]:
    """Leave out classes without files (with a warning) and renumber the labels."""
    per_class = [0] * len(class_names)
    for f in files:
        per_class[f.label] += 1
    empty = [name for name, n in zip(class_names, per_class) if n == 0]
    if not empty:
        return class_names, files
    warnings.append(f"{EMPTY_CLASSES_WARNING}{' ' + why if why else ''}: {', '.join(empty)}.")
    keep = [name for name in class_names if name not in empty]
    remap = {class_names.index(name): i for i, name in enumerate(keep)}
    return keep, [ImageFile(f.path, remap[f.label], f.split) for f in files]


def _no_images_message(root: Path, top: list[Path]) -> str:
    # A common slip: choosing the folder *above* the dataset. Point at the right one.
    for child in top:
        grand = _subfolders(child, [])
        if any(g.name.lower() in SPLIT_FOLDER_NAMES for g in grand) or any(
            _count_loose_images(g) for g in grand[:20]
        ):
            return (f"No images were found directly in the class folders of {root}. "
                    f"Did you mean the folder {child}?")
    return (f"No images were found in {root}. Put your photos in one sub-folder per class "
            f"(for example {root / 'cats'} and {root / 'dogs'}).")


def _count_loose_images(folder: Path) -> int:
    try:
        with os.scandir(folder) as entries:
            return sum(1 for e in entries if has_image_extension(e.name) and not is_hidden_or_system(e.name))
    except OSError:
        return 0


def _is_link_loop(path: Path) -> bool:
    """A link to a folder that contains it (or an endless chain of links)."""
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return True
    return target == path.parent.resolve() or target in path.parent.resolve().parents


def _subfolders(folder: Path, warnings: list[str]) -> list[Path]:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except PermissionError:
        raise UserError(f"Transfer Studio may not read the folder {folder}.") from None
    except OSError as e:
        raise UserError(f"Could not read the folder {folder}: {e.strerror}.") from None
    folders = []
    for e in entries:
        if is_hidden_or_system(e.name):
            continue
        if e.is_symlink() and _is_link_loop(Path(e.path)):
            warnings.append(f"Skipped {e.path}: it is a link that loops back to a folder above it.")
            continue
        try:
            if e.is_dir():
                folders.append(Path(e.path))
        except OSError:
            continue
    return folders


def _shown(path: Path, root: Path) -> str:
    """A path as a person reads it in a message: relative to the dataset folder."""
    try:
        return str(path.relative_to(root)) or "."
    except ValueError:
        return str(path)


def _list_classes(
    folder: Path, class_names: list[str], split: str, warnings: list[str], bad: list[BadFile], root: Path
) -> list[ImageFile]:
    files: list[ImageFile] = []
    for label, name in enumerate(class_names):
        class_dir = folder / name
        if not class_dir.is_dir():
            continue
        nested = False
        try:
            entries = sorted(os.scandir(class_dir), key=lambda e: e.name)
        except OSError:
            warnings.append(f"Could not read the folder {_shown(class_dir, root)}; its images were left out.")
            continue
        for entry in entries:
            if is_hidden_or_system(entry.name):
                continue
            path = Path(entry.path)
            try:
                is_dir, is_file = entry.is_dir(), entry.is_file()
            except OSError:  # an endless chain of links: ELOOP
                bad.append(BadFile(path, name, split, "link_loop",
                                   "This is a link that points to itself in a loop, not a file."))
                continue
            suffix = os.path.splitext(entry.name)[1].lower()
            if is_dir:
                if entry.is_symlink() and _is_link_loop(path):
                    warnings.append(f"Skipped {_shown(path, root)}: it is a link that loops back to a folder above it.")
                else:
                    nested = True
            elif not is_file:
                continue  # sockets, pipes: never opened (a pipe would block for ever)
            elif suffix in IMAGE_EXTENSIONS:
                files.append(ImageFile(path, label, split))
            elif suffix in UNSUPPORTED_IMAGE_EXTENSIONS:
                kind = UNSUPPORTED_IMAGE_EXTENSIONS[suffix]
                bad.append(BadFile(path, name, split, "unsupported",
                                   f"{kind} pictures are not supported; save it as JPEG or PNG."))
        if nested:
            warnings.append(
                f"{_shown(class_dir, root)} holds sub-folders; only the images directly inside it are used."
            )
    return files
