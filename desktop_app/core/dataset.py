"""Understand an image folder: classes, files per split, subsets and validation splits.

Listing never decodes an image, so even a very large folder indexes in seconds.
Two layouts are understood:

* ``ROOT/<class>/<image>``: one pool, split into train / validation by a fraction;
* ``ROOT/train/<class>/...`` with ``test/`` (and/or ``val``, ``valid``, ``validation``):
  the folders decide the split.
"""

from __future__ import annotations

import math
import os
import random
from dataclasses import dataclass, field
from pathlib import Path

from desktop_app.core.errors import UserError

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp"})
IGNORED_FILE_NAMES = frozenset({"thumbs.db", "desktop.ini", ".ds_store"})
SPLIT_FOLDER_NAMES = {"train": "train", "test": "test", "val": "val", "valid": "val", "validation": "val"}


@dataclass(frozen=True)
class ImageFile:
    path: Path
    label: int  # index into DatasetIndex.classes
    split: str  # "pool" (no split folders), "train", "val" or "test"


@dataclass
class DatasetIndex:
    root: Path
    classes: list[str]
    files: list[ImageFile]
    has_split_folders: bool
    warnings: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, dict[str, int]]:
        """{split: {class: number of files}}, every class present in every split."""
        table: dict[str, dict[str, int]] = {}
        for f in self.files:
            row = table.setdefault(f.split, dict.fromkeys(self.classes, 0))
            row[self.classes[f.label]] += 1
        return table

    def files_in(self, split: str) -> list[ImageFile]:
        return [f for f in self.files if f.split == split]

    @property
    def splits(self) -> list[str]:
        return sorted({f.split for f in self.files})


def is_hidden_or_system(name: str) -> bool:
    return name.startswith(".") or name.lower() in IGNORED_FILE_NAMES


def has_image_extension(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def scan_folder(root: str | os.PathLike) -> DatasetIndex:
    """List a dataset folder. Raises UserError with a clear sentence when it is unusable."""
    root = Path(root).expanduser()
    if not root.exists():
        raise UserError(f"The folder {root} does not exist.")
    if not root.is_dir():
        raise UserError(f"{root} is a file, not a folder. Choose the folder that holds one sub-folder per class.")
    top = _subfolders(root)
    split_dirs = {SPLIT_FOLDER_NAMES[p.name.lower()]: p for p in top if p.name.lower() in SPLIT_FOLDER_NAMES}
    warnings: list[str] = []
    if "train" in split_dirs:
        class_names = sorted({c.name for p in split_dirs.values() for c in _subfolders(p)})
        files = []
        for split, folder in sorted(split_dirs.items()):
            files += _list_classes(folder, class_names, split, warnings)
    else:
        class_names = sorted(p.name for p in top)
        files = _list_classes(root, class_names, "pool", warnings)

    per_class = [0] * len(class_names)
    for f in files:
        per_class[f.label] += 1
    empty = [name for name, n in zip(class_names, per_class) if n == 0]
    if empty:
        warnings.append(f"Left out empty class folder(s): {', '.join(empty)}.")
        keep = [name for name in class_names if name not in empty]
        remap = {class_names.index(name): i for i, name in enumerate(keep)}
        files = [ImageFile(f.path, remap[f.label], f.split) for f in files]
        class_names = keep

    if not files:
        raise UserError(
            f"No images were found in {root}. Put your photos in one sub-folder per class "
            f"(for example {root / 'cats'} and {root / 'dogs'})."
        )
    if len(class_names) < 2:
        only = class_names[0] if class_names else "none"
        raise UserError(
            f"{root} has only one class with images ({only}). A classifier needs at least two "
            "class folders to tell apart."
        )
    return DatasetIndex(root, class_names, files, bool(split_dirs.get("train")), warnings)


def _subfolders(folder: Path) -> list[Path]:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except PermissionError:
        raise UserError(f"Transfer Studio may not read the folder {folder}.") from None
    return [Path(e.path) for e in entries if e.is_dir() and not is_hidden_or_system(e.name)]


def _list_classes(folder: Path, class_names: list[str], split: str, warnings: list[str]) -> list[ImageFile]:
    files: list[ImageFile] = []
    for label, name in enumerate(class_names):
        class_dir = folder / name
        if not class_dir.is_dir():
            continue
        nested = False
        try:
            entries = sorted(os.scandir(class_dir), key=lambda e: e.name)
        except PermissionError:
            warnings.append(f"Could not read the folder {class_dir}; its images were left out.")
            continue
        for entry in entries:
            if is_hidden_or_system(entry.name):
                continue
            if entry.is_dir():
                nested = True
            elif entry.is_file() and has_image_extension(entry.name):
                files.append(ImageFile(Path(entry.path), label, split))
        if nested:
            warnings.append(
                f"{class_dir} holds sub-folders; only the images directly inside it are used."
            )
    return files


@dataclass(frozen=True)
class Split:
    """The files a training run uses, in a stable order."""

    classes: list[str]
    train: list[ImageFile]
    val: list[ImageFile]

    def counts(self) -> dict[str, dict[str, int]]:
        return {
            name: {c: sum(1 for f in part if f.label == i) for i, c in enumerate(self.classes)}
            for name, part in (("train", self.train), ("val", self.val))
        }


def make_split(
    index: DatasetIndex, subset_percent: float = 100.0, val_fraction: float = 0.2, seed: int = 42
) -> Split:
    """Stratified subset and train/validation split, the same for the same seed.

    With split folders, validation comes from ``val/`` (or else ``test/``) and the
    subset applies to the training images only, as in the reference notebook.
    """
    if not 0 < subset_percent <= 100:
        raise UserError(f"The subset must be between 0 and 100 percent, not {subset_percent}.")
    if not 0 < val_fraction < 1 and not index.has_split_folders:
        raise UserError(f"The validation fraction must be between 0 and 1, not {val_fraction}.")
    if index.has_split_folders:
        val_split = "val" if index.files_in("val") else "test"
        train = _stratified_take(index.files_in("train"), subset_percent / 100, seed, "subset")
        val = index.files_in(val_split)
        if not val:
            raise UserError(f"{index.root} has a train folder but no test or val folder with images.")
    else:
        pool = _stratified_take(index.files_in("pool"), subset_percent / 100, seed, "subset")
        val = _stratified_take(pool, val_fraction, seed, "val", leave_one=True)
        chosen = set(val)
        train = [f for f in pool if f not in chosen]
        if not val or not train:
            raise UserError(
                "There are too few images to keep some for validation; add images or use a larger subset."
            )
    return Split(index.classes, train, val)


def _stratified_take(
    files: list[ImageFile], fraction: float, seed: int, purpose: str, leave_one: bool = False
) -> list[ImageFile]:
    """At least one file per class (when it has any), chosen by a seeded shuffle per class.

    ``leave_one`` keeps one file of each class out of the selection (for training).
    """
    if fraction >= 1:
        return list(files)
    by_class: dict[int, list[ImageFile]] = {}
    for f in files:
        by_class.setdefault(f.label, []).append(f)
    taken: list[ImageFile] = []
    for label, group in sorted(by_class.items()):
        group = sorted(group, key=lambda f: str(f.path))
        random.Random(f"{seed}:{purpose}:{label}").shuffle(group)
        n = max(1, math.floor(len(group) * fraction + 0.5))
        taken += group[: min(n, len(group) - 1) if leave_one else n]
    return sorted(taken, key=lambda f: (f.label, str(f.path)))
