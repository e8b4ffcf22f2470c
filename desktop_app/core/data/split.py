"""The photos a run learns from and the photos it is checked on: stratified, seeded, stable.

With split folders, validation comes from ``val/`` (or else ``test/``) and the subset
applies to the training images only, as in the reference notebook.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from desktop_app.core.data.scan import DatasetIndex, ImageFile
from desktop_app.core.errors import UserError


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
    problem = index.usability_problem()
    if problem:
        raise UserError(problem)
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
