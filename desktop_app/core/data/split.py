"""The photos a run learns from and the photos it is checked on: stratified, seeded, stable.

Validation is held fixed: with split folders it is ``val/`` (or else ``test/``); in a
flat folder it is chosen first, from all the photos. The subset (1 %, 10 % ...) then
applies to the training photos only, so runs on different shares of a folder are
checked on the same photos and can be compared.

A run records its split when it is created (``RecordedSplit``: each photo's path in the
dataset, class and content digest) and from then on uses that record, never the folder
as it happens to be: ``resolve`` finds the recorded photos again, reports those gone or
changed, and ignores photos added since.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from desktop_app.core.data.fingerprint import digest_file
from desktop_app.core.data.scan import DatasetIndex, ImageFile, scan_folder
from desktop_app.core.errors import ClassesChanged, UserError


@dataclass(frozen=True)
class Split:
    """The files a training run uses, in a stable order."""

    classes: list[str]
    train: list[ImageFile]
    val: list[ImageFile]
    digests: dict[Path, str] = field(default_factory=dict, compare=False)  # content digest per file
    rule: str = field(default="", compare=False)  # how validation was chosen, in words

    def counts(self) -> dict[str, dict[str, int]]:
        return {
            name: {c: sum(1 for f in part if f.label == i) for i, c in enumerate(self.classes)}
            for name, part in (("train", self.train), ("val", self.val))
        }


def make_split(
    index: DatasetIndex, subset_percent: float = 100.0, val_fraction: float = 0.2, seed: int = 42,
    legacy: bool = False,
) -> Split:
    """Stratified train/validation split and training subset, the same for the same seed.

    ``legacy`` is the rule of runs made before version 3 (their photos were not recorded):
    in a flat folder the subset was taken first and validation chosen from it.
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
        train = _stratified_take(index.files_in("train"), subset_percent / 100, seed, "subset", legacy=legacy)
        val = index.files_in(val_split)
        if not val:
            raise UserError(f"{index.root} has a train folder but no test or val folder with images.")
        rule = f"validation: every photo in {val_split}/; the subset applies to the training photos only"
    else:
        pool = index.files_in("pool")
        if legacy:
            pool = _stratified_take(pool, subset_percent / 100, seed, "subset", legacy=True)
        val = _stratified_take(pool, val_fraction, seed, "val", leave_one=True, legacy=legacy)
        chosen = set(val)
        train = [f for f in pool if f not in chosen]
        if not legacy:
            train = _stratified_take(train, subset_percent / 100, seed, "subset")
        if not val or not train:
            raise UserError(
                "There are too few images to keep some for validation; add images or use a larger subset."
            )
        rule = (f"validation: {val_fraction:.0%} of the photos of each class, chosen first from all of them "
                f"(seed {seed}); the subset applies to the training photos only")
        if legacy:
            rule = f"subset of {subset_percent:g} % first, then {val_fraction:.0%} of it for validation (seed {seed})"
    return Split(index.classes, train, val, {f.path: index.digests[f.path] for f in train + val
                                              if f.path in index.digests}, rule)


def _stratified_take(
    files: list[ImageFile], fraction: float, seed: int, purpose: str, leave_one: bool = False, legacy: bool = False,
) -> list[ImageFile]:
    """At least one file per class (when it has any), the first ones in a seeded order per class.

    ``leave_one`` keeps one file of each class out of the selection (for training).
    Each photo's place in the order is drawn from its own name, so photos added to a class
    (a capture) slot in among the others and the earlier photos mostly keep their part:
    the embedding store then knows them already (a shuffle of the whole class, the rule of
    ``legacy`` runs, would give about every photo another part).
    """
    if fraction >= 1:
        return list(files)
    by_class: dict[int, list[ImageFile]] = {}
    for f in files:
        by_class.setdefault(f.label, []).append(f)
    taken: list[ImageFile] = []
    for label, group in sorted(by_class.items()):
        group = sorted(group, key=lambda f: str(f.path))
        if legacy:
            random.Random(f"{seed}:{purpose}:{label}").shuffle(group)
        else:
            group.sort(key=lambda f: _draw(seed, purpose, f.path.name))
        n = max(1, math.floor(len(group) * fraction + 0.5))
        taken += group[: min(n, len(group) - 1) if leave_one else n]
    return sorted(taken, key=lambda f: (f.label, str(f.path)))


def _draw(seed: int, purpose: str, name: str) -> bytes:
    """A photo's place in its class's seeded order: from its file name, not from the class's
    position among the classes, so a class added or renamed leaves the others' order alone."""
    return hashlib.blake2b(f"{seed}:{purpose}:{name}".encode(), digest_size=8).digest()


# --------------------------------------------------------------------------- the recorded split


@dataclass(frozen=True)
class RecordedFile:
    path: str  # in the dataset folder, with "/" between folders
    label: int  # into RecordedSplit.classes
    digest: str


@dataclass(frozen=True)
class RecordedSplit:
    """A run's photos, fixed when the run was created."""

    classes: list[str]
    train: list[RecordedFile]
    val: list[RecordedFile]
    rule: str = ""

    @classmethod
    def of(cls, split: Split, root: Path) -> RecordedSplit:
        root = Path(root)

        def record(files: list[ImageFile]) -> list[RecordedFile]:
            return [RecordedFile(f.path.relative_to(root).as_posix(), f.label,
                                 split.digests.get(f.path) or digest_file(f.path)) for f in files]

        return cls(list(split.classes), record(split.train), record(split.val), split.rule)

    def to_dict(self) -> dict[str, Any]:
        def rows(files):
            return [[f.path, f.label, f.digest] for f in files]

        return {"schema_version": 1, "classes": self.classes, "rule": self.rule, "train": rows(self.train),
                "val": rows(self.val)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RecordedSplit:
        def files(rows):
            return [RecordedFile(str(p), int(label), str(digest)) for p, label, digest in rows]

        return cls([str(c) for c in data["classes"]], files(data["train"]), files(data["val"]), str(data.get("rule", "")))


def share_found(recorded: RecordedSplit, index: DatasetIndex) -> float:
    """How much of a run's photos a checked folder holds, by content: 1.0 for the same dataset
    (moved or not), about 0 for another one."""
    digests = set(index.digests.values())
    files = recorded.train + recorded.val
    return sum(f.digest in digests for f in files) / len(files) if files else 0.0


@dataclass
class ResolvedSplit:
    """The recorded photos found again in the dataset folder as it is now."""

    split: Split
    gone: list[str] = field(default_factory=list)  # recorded photos no longer there (or no longer usable)
    changed: list[str] = field(default_factory=list)  # recorded photos whose content is different now
    added: int = 0  # photos in the folder that the run never had
    legacy: bool = False  # a run made before runs recorded their photos: rebuilt from the folder

    def notes(self) -> list[str]:
        notes = ["This run was made before runs recorded their photos: they are chosen again from the folder as "
                 "it is now, with the run's settings."] if self.legacy else []
        if self.gone:
            notes.append(f"{len(self.gone)} of this run's photos are not in the folder any more and were left out "
                         f"({_some(self.gone)}).")
        if self.changed:
            notes.append(f"{len(self.changed)} of this run's photos were changed since and were left out "
                         f"({_some(self.changed)}).")
        if self.added:
            notes.append(f"{self.added} photos added since this run was made are not part of it.")
        return notes


def _some(names: list[str], n: int = 3) -> str:
    return ", ".join(names[:n]) + (f" and {len(names) - n} more" if len(names) > n else "")


def parse_class_map(pairs: list[str] | None) -> dict[str, str]:
    """``["red=ant"]`` -> ``{"red": "ant"}``: a class the run knows as red is the folder ant now."""
    mapping = {}
    for pair in pairs or []:
        old, sep, new = pair.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise UserError(f"--class-map wants OLD=NEW (a class renamed from OLD to NEW), not {pair!r}.")
        mapping[old.strip()] = new.strip()
    return mapping


def check_classes(run_classes: list[str], found: list[str], class_map: Mapping[str, str]) -> None:
    """Refuse, naming them, classes added, missing or (by the look of it) renamed since a run."""
    unknown = sorted(set(class_map) - set(run_classes))
    if unknown:
        raise UserError(f"--class-map names {', '.join(unknown)}, which this run does not know; it knows "
                        f"{', '.join(run_classes)}.")
    expected = {class_map.get(c, c) for c in run_classes}
    missing, added = sorted(expected - set(found)), sorted(set(found) - expected)
    if not missing and not added:
        return
    if missing and added:
        pairs = " ".join(f"{m}={a}" for m, a in zip(missing, added))
        raise ClassesChanged(f"The classes changed since this run was made: {', '.join(missing)} is gone and "
                             f"{', '.join(added)} is new. If a class was only renamed, say which is which "
                             f"(--class-map {pairs}; in the app: Match the classes); otherwise start a new run.",
                             missing, added)
    if missing:
        raise ClassesChanged(f"The class folder(s) {', '.join(missing)} of this run are not in the dataset any "
                             "more; put them back, or start a new run on the classes there are now.", missing, added)
    raise ClassesChanged(f"The dataset has class folder(s) this run was not trained on: {', '.join(added)}. Start a "
                         "new run to learn them, or move them out of the folder to continue this one.", missing, added)


def resolve(recorded: RecordedSplit, root: Path, class_map: Mapping[str, str] | None = None,
            report: Callable[[object], None] | None = None,
            should_stop: Callable[[], bool] | None = None) -> ResolvedSplit:
    """The recorded photos in ``root`` now, each with the content it had (the folder is checked
    first; the check's cache makes an unchanged folder quick)."""
    from desktop_app.core.data.validate import validate_index

    from desktop_app.core.data.edits import renamed_classes

    index = validate_index(scan_folder(root), report=report, should_stop=should_stop)
    # Classes renamed in the app since the run are recorded in the folder; a map the user gives wins.
    class_map = {**renamed_classes(root, recorded.classes, index.listed_classes), **dict(class_map or {})}
    check_classes(recorded.classes, index.classes, class_map)
    root = Path(index.root)
    usable = {f.path for f in index.files}
    resolved = ResolvedSplit(Split(list(recorded.classes), [], [], rule=recorded.rule))
    seen: set[Path] = set()
    for part, files in (("train", recorded.train), ("val", recorded.val)):
        for f in files:
            rel = PurePosixPath(f.path)
            folder = class_map.get(rel.parent.name, rel.parent.name)
            path = root.joinpath(*rel.parent.parent.parts, folder, rel.name)
            seen.add(path)
            if path not in usable:
                resolved.gone.append(f.path)
            elif index.digests.get(path) != f.digest:
                resolved.changed.append(f.path)
            else:
                getattr(resolved.split, part).append(ImageFile(path, f.label, part))
                resolved.split.digests[path] = f.digest
    resolved.added = len(usable - seen)
    if not resolved.split.train and not resolved.split.val:
        raise UserError(f"None of this run's photos are in {root}: is it the same dataset?")
    return resolved
