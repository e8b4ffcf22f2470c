"""Training runs on disk. ``RunFolder`` is the one owner of a run folder's files.

Every file of a run is named, read and written here: its settings (``config.json``),
its photos (``split.json``), history, metrics, class names, model, summary, checkpoints
and their metadata, its evaluation and lab report. No other module spells those names.

The rules that make a run folder trustworthy live here too: a folder that holds a run
is never made into another one; a checkpoint carries its own metadata (epoch, the
history so far, optimizer steps) inside the published file, so one rename publishes
both; files are synced to disk before they are renamed into place. No TensorFlow.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import unicodedata
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from desktop_app.core.data.demo import demo_dataset_dir
from desktop_app.core.data.fingerprint import stamp
from desktop_app.core.data.scan import DatasetIndex
from desktop_app.core.data.split import RecordedSplit, share_found
from desktop_app.core.errors import RefusedError, UserError
from desktop_app.core.fileio import copy_atomic, fsync_dir, write_json_atomic, write_text_atomic
from desktop_app.core.keras_files import assemble_classifier, keras_file_problem
from desktop_app.core.paths import user_data_dir
from desktop_app.core.session import FINE_TUNING, TrainingConfig

BEST = "best"
LAST = "last"
WHOLE = "whole"  # the whole classifier as a phase that trains only the head began; its checkpoints hold the head
LABELS_FILE = "labels.txt"  # beside every model file the app writes, run folder or export
MODEL_FILE = "model.keras"
SPLIT_RECORDED_SINCE = 3  # config.json's schema_version from which runs record their photos
# A folder holding at least this share of a run's photos (by content) is the run's dataset,
# wherever it lies now: moved, copied, or with a few photos added or taken out.
SAME_DATASET_SHARE = 0.5
CHECKPOINT_META = "transfer_studio.json"  # a member of each checkpoint's .keras zip; Keras ignores it


def _read_json(path: Path, default: Any) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default


def read_labels(folder: Path) -> list[str]:
    """The class names in ``folder/labels.txt``, one a line, in the model's output order."""
    labels = Path(folder) / LABELS_FILE
    try:
        return [line.strip() for line in labels.read_text(encoding="utf-8").splitlines() if line.strip()]
    except OSError:
        raise UserError(f"{labels} is missing: the model needs it to name its classes.") from None


def write_labels(folder: Path, classes: list[str]) -> Path:
    target = Path(folder) / LABELS_FILE
    write_text_atomic(target, "".join(f"{name}\n" for name in classes))
    return target


@dataclass(frozen=True)
class CheckpointInfo:
    kind: str
    path: Path
    epoch: int
    metrics: dict
    saved_at: float


class RunFolder:
    """One training run's folder."""

    CONFIG = "config.json"
    SPLIT = "split.json"
    HISTORY = "history.json"
    METRICS = "metrics.json"
    SUMMARY = "summary.txt"
    EVALUATION = "evaluation.json"
    REPORT = "report.html"
    CHECKPOINTS = "checkpoints"
    STAGING = ".incoming"  # inside checkpoints/: Keras writes here, then files are renamed into place

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RunFolder) and self.path == other.path

    def __hash__(self) -> int:
        return hash(self.path)

    @property
    def name(self) -> str:
        return self.path.name

    # -- files ----------------------------------------------------------------------------
    @property
    def config_path(self) -> Path:
        return self.path / self.CONFIG

    @property
    def split_path(self) -> Path:
        return self.path / self.SPLIT

    @property
    def history_path(self) -> Path:
        return self.path / self.HISTORY

    @property
    def metrics_path(self) -> Path:
        return self.path / self.METRICS

    @property
    def model_path(self) -> Path:
        return self.path / MODEL_FILE

    @property
    def summary_path(self) -> Path:
        return self.path / self.SUMMARY

    @property
    def evaluation_path(self) -> Path:
        return self.path / self.EVALUATION

    @property
    def report_path(self) -> Path:
        return self.path / self.REPORT

    @property
    def checkpoint_dir(self) -> Path:
        return self.path / self.CHECKPOINTS

    @property
    def staging_dir(self) -> Path:
        return self.checkpoint_dir / self.STAGING

    def checkpoint_path(self, kind: str, staged: bool = False) -> Path:
        return (self.staging_dir if staged else self.checkpoint_dir) / f"{kind}.keras"

    def legacy_checkpoint_meta_path(self, kind: str) -> Path:
        """Where runs made before the metadata moved inside the checkpoint kept it."""
        return self.checkpoint_path(kind).with_suffix(".json")

    # -- what is there ---------------------------------------------------------------------
    def is_run(self) -> bool:
        return self.config_path.is_file()

    def has_model(self) -> bool:
        return self.model_path.is_file()

    def has_checkpoint(self) -> bool:
        """Whether an epoch of the run was saved: what makes a run worth keeping."""
        return any(self.checkpoint_path(kind).exists() for kind in (BEST, LAST))

    def belongs_to(self, index: DatasetIndex) -> bool:
        """Whether the run was made from the photos of the checked folder ``index``, wherever that
        folder lies now: most of the photos the run recorded are in it, by content (so a moved or
        copied dataset counts, another one with the same class names does not). A run without a
        usable record of its photos (made before runs recorded them) goes by its class names."""
        try:
            recorded = _recorded_split(self.split_path, tuple(stamp(self.split_path) or ()))
        except UserError:
            recorded = None
        if recorded is not None:
            return share_found(recorded, index) >= SAME_DATASET_SHARE
        try:
            return self.read_labels() == list(index.classes)
        except UserError:
            return False

    def discard_unstarted(self) -> bool:
        """A new run that ended before its first checkpoint (a failed start) leaves nothing behind:
        its own files go, and its folder when nothing else is in it. A run with a saved epoch is
        kept, untouched. True when the run is gone."""
        if self.has_checkpoint() or not self.path.is_dir():
            return False
        for name in (self.CONFIG, self.SPLIT, self.HISTORY, self.METRICS, self.SUMMARY, self.EVALUATION,
                     self.REPORT, LABELS_FILE, MODEL_FILE):
            (self.path / name).unlink(missing_ok=True)
        shutil.rmtree(self.checkpoint_dir, ignore_errors=True)  # the whole model of fast mode, staged files
        try:
            self.path.rmdir()
        except OSError:  # a folder that held other files before the run (the CLI's --out): they stay
            pass
        return True

    # -- reading and writing ---------------------------------------------------------------
    def create(self) -> None:
        """Make the folder of a new run; a folder that already holds one is refused, untouched."""
        if self.is_run():
            raise RefusedError(f"{self.path} already holds a training run. Continue it with --resume (in the app: "
                               "Resume or Fine-tune), or choose another folder for a new run.")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise UserError(f"Cannot write to the output folder {self.path}: {e.strerror}.") from None

    def read_config(self) -> TrainingConfig:
        try:
            data = json.loads(self.config_path.read_text(encoding="utf-8"))
            config = TrainingConfig.from_dict(data, self.path)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            raise UserError(f"{self.path} is not a training run folder that can be used: its {self.CONFIG} "
                            "is missing or damaged.") from None
        return replace(config, data=self._find_data(config.data, data.get("data_relative")))

    def _find_data(self, data: Path, relative: str | None) -> Path:
        """The dataset folder: where it was, or where it lies from the run if both moved together.
        Runs made before version 3 stored the path as typed; it is read from the working folder
        as then, else from the folder that holds the run (``data`` and ``run`` side by side)."""
        places = [data] if data.is_absolute() else [Path.cwd() / data, self.path.parent / data]
        if relative:
            places.append(self.path / relative)
        found = next((p for p in places if p.is_dir()), places[0])
        return found.resolve() if found.is_dir() else found

    def write_config(self, config: TrainingConfig) -> None:
        """The run's settings; its dataset folder absolute, and seen from the run folder too."""
        data_root = Path(config.data).resolve()
        data = replace(config, data=data_root).to_dict()
        try:
            data["data_relative"] = os.path.relpath(data_root, self.path.resolve())
        except ValueError:  # another drive on Windows
            pass
        write_json_atomic(self.config_path, data)

    def read_split(self) -> RecordedSplit | None:
        """The photos the run was made with; None for runs made before runs recorded them."""
        try:
            text = self.split_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            if _read_json(self.config_path, {}).get("schema_version", 1) >= SPLIT_RECORDED_SINCE:
                raise UserError(f"The list of this run's photos ({self.split_path}) is missing, so the run cannot "
                                "say which photos it learned from. Its model still works for predictions; "
                                "start a new run to train or evaluate again.") from None
            return None
        except OSError as e:
            raise UserError(f"Could not read {self.split_path} ({e.strerror or e}).") from None
        try:
            return RecordedSplit.from_dict(json.loads(text))
        except (ValueError, KeyError, TypeError):
            raise UserError(f"{self.split_path} is damaged: the list of this run's photos cannot be read.") from None

    def write_split(self, split: RecordedSplit) -> None:
        write_json_atomic(self.split_path, split.to_dict())

    def read_history(self) -> list[dict]:
        return _read_json(self.history_path, [])

    def write_history(self, history: list[dict]) -> None:
        write_json_atomic(self.history_path, history)

    def settled_history(self) -> list[dict]:
        """The history a resume goes on from: the last checkpoint's own (history.json may lag
        behind it after a crash), else history.json."""
        meta = self.read_checkpoint_meta(LAST)
        return list(meta["history"]) if meta and "history" in meta else self.read_history()

    def read_metrics(self) -> dict:
        return _read_json(self.metrics_path, {})

    def write_metrics(self, metrics: dict) -> None:
        write_json_atomic(self.metrics_path, metrics)

    def read_labels(self) -> list[str]:
        return read_labels(self.path)

    def write_labels(self, classes: list[str]) -> None:
        write_labels(self.path, classes)

    def write_summary(self, text: str) -> None:
        write_text_atomic(self.summary_path, text)

    def read_checkpoint_meta(self, kind: str) -> dict | None:
        """What a published checkpoint says of itself; None when it is missing or damaged."""
        return checkpoint_meta(self.checkpoint_path(kind)) or _read_json(self.legacy_checkpoint_meta_path(kind), None)

    def publish_checkpoint(self, kind: str, meta: dict) -> Path:
        """Put ``meta`` inside the staged checkpoint, sync it, and rename it into place: after a
        crash the published file is either the old one or the new one, metadata included."""
        staged, target = self.checkpoint_path(kind, staged=True), self.checkpoint_path(kind)
        with zipfile.ZipFile(staged, "a") as archive:
            archive.writestr(CHECKPOINT_META, json.dumps(meta, indent=2))
        with open(staged, "rb") as f:
            os.fsync(f.fileno())
        os.replace(staged, target)
        fsync_dir(target.parent)
        self.legacy_checkpoint_meta_path(kind).unlink(missing_ok=True)  # an older run's sidecar would mislead
        return target

    def clear_staging(self) -> None:
        """Files Keras wrote for an epoch that is not published: never to be published later.
        What cannot be removed now stays, to be written over (or to fail that write)."""
        for leftover in (self.staging_dir.iterdir() if self.staging_dir.is_dir() else ()):
            try:
                leftover.unlink()
            except OSError:
                pass
        try:
            self.staging_dir.rmdir()
        except OSError:
            pass

    def checkpoints(self) -> list[CheckpointInfo]:
        """The published checkpoints with the epoch and metrics they were saved at."""
        found = []
        for kind in (BEST, LAST):
            path, meta = self.checkpoint_path(kind), self.read_checkpoint_meta(kind)
            if meta is not None and path.exists():
                found.append(CheckpointInfo(kind, path, meta["epoch"], meta.get("metrics", {}), meta["saved_at"]))
        return found

    def holds_head(self, kind: str) -> bool:
        """Whether a checkpoint holds only the head (fast mode), to be put into ``WHOLE``."""
        return bool((self.read_checkpoint_meta(kind) or {}).get("head"))

    def checkpoint_problem(self, kind: str) -> str | None:
        """Why a checkpoint cannot give a whole model, in words; None when it can."""
        problem = keras_file_problem(self.checkpoint_path(kind))
        if problem is None and self.holds_head(kind):
            whole = keras_file_problem(self.checkpoint_path(WHOLE))
            if whole is not None:
                problem = f"the file of the whole model it goes with ({WHOLE}.keras) {whole.removeprefix('it ')}"
        return problem

    def write_whole_checkpoint(self, kind: str, target: Path, with_meta: bool = True) -> None:
        """``target`` becomes the whole classifier of a checkpoint: the file itself, or for a
        checkpoint of the head only, the head put into the whole model it goes with (with
        the checkpoint's metadata inside, unless the caller publishes its own)."""
        meta = self.read_checkpoint_meta(kind) or {}
        if not meta.get("head"):
            copy_atomic(self.checkpoint_path(kind), target)
            return
        whole_meta = json.dumps({**meta, "head": False}, indent=2).encode()
        try:
            assemble_classifier(self.checkpoint_path(WHOLE), self.checkpoint_path(kind), target,
                                extra={CHECKPOINT_META: whole_meta} if with_meta else None,
                                leave_out=frozenset({CHECKPOINT_META}))
        except (OSError, KeyError, ValueError, zipfile.BadZipFile):  # h5py's errors are of these kinds
            raise UserError(f"The {kind} checkpoint of {self.name} holds only the model's head, and the file of the "
                            f"whole model it goes with ({WHOLE}.keras) is missing or damaged.") from None

    @contextmanager
    def whole_checkpoint(self, kind: str) -> Iterator[Path]:
        """A file holding the whole classifier of a checkpoint, for as long as the block runs."""
        if not self.holds_head(kind):
            yield self.checkpoint_path(kind)
            return
        self.staging_dir.mkdir(parents=True, exist_ok=True)  # cleared at the next start, should a kill leave it
        target = self.staging_dir / f"{kind}-whole-{uuid.uuid4().hex}.keras"
        try:
            self.write_whole_checkpoint(kind, target)
            yield target
        finally:
            target.unlink(missing_ok=True)

    def restore_checkpoint(self, kind: str) -> Path:
        """Make a checkpoint the run's model (``model.keras``, what evaluation and export use)."""
        self.write_whole_checkpoint(kind, self.model_path)
        return self.model_path

    def publish_model(self, kind: str = BEST) -> bool:
        """The end of a run: the chosen checkpoint becomes the run's model, or the last one if
        the chosen one cannot give a whole model; False when neither can."""
        for candidate in dict.fromkeys((kind, LAST)):
            if self.checkpoint_path(candidate).exists() and self.checkpoint_problem(candidate) is None:
                self.restore_checkpoint(candidate)
                return True
        return False

    def make_heads_whole(self) -> None:
        """Before the whole model of a phase is replaced: each checkpoint that holds only the
        head becomes a whole model, so it never meets another phase's base."""
        for kind in (BEST, LAST):
            if self.holds_head(kind) and self.checkpoint_problem(kind) is None:
                self.staging_dir.mkdir(parents=True, exist_ok=True)
                self.write_whole_checkpoint(kind, self.checkpoint_path(kind, staged=True), with_meta=False)
                self.publish_checkpoint(kind, {**self.read_checkpoint_meta(kind), "head": False})

    def info(self) -> RunInfo | None:
        """What lists show about the run; None when it is not a usable run folder."""
        try:
            config = self.read_config()
        except UserError:
            return None
        return RunInfo(self.path, config, self.read_history(), self.read_metrics())


@lru_cache(maxsize=64)
def _recorded_split(path: Path, _stamp: tuple) -> RecordedSplit | None:
    """A run's record of its photos, read once while the file is unchanged (lists of runs ask often)."""
    return RunFolder(path.parent).read_split()


def checkpoint_meta(path: Path) -> dict | None:
    """The metadata inside a checkpoint file; None for a file without it or a damaged one."""
    try:
        with zipfile.ZipFile(path) as archive:
            return json.loads(archive.read(CHECKPOINT_META))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None


def runs_dir() -> Path:
    """Where runs started from the GUI go until they belong to a project."""
    return user_data_dir() / "runs"


def dataset_name(folder: Path) -> str:
    """What a person calls a dataset: its folder's name ("shapes" for the demo dataset)."""
    folder = Path(folder)
    return "shapes" if folder.resolve() == demo_dataset_dir().resolve() else folder.name


def _name_part(text: str, limit: int, keep_dashes: bool = True) -> str:
    """``text`` as a short part of a folder name that every file system takes: ASCII letters and
    digits (accents dropped), words joined by dashes."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    part = re.sub(r"[^a-z0-9]+", "-" if keep_dashes else "", ascii_text).strip("-")
    if len(part) > limit:  # cut between words where one ends in the second half
        cut = part.rfind("-", limit // 2, limit + 1)
        part = part[:cut if cut > 0 else limit]
    return part.strip("-")


def run_name(dataset: str, backbone: str, when: float | None = None) -> str:
    """A new run's folder name: its dataset, base and start time, e.g.
    ``flowers-efficientnetv2b0-2026-12-02_1514``."""
    started = time.strftime("%Y-%m-%d_%H%M", time.localtime(when))
    return f"{_name_part(dataset, 24) or 'photos'}-{_name_part(backbone, 20, keep_dashes=False)}-{started}"


def new_run_dir(backbone: str, parent: Path | None = None, data: Path | None = None) -> Path:
    """A free folder for a new run of ``backbone`` on the dataset folder ``data``."""
    parent = Path(parent) if parent is not None else runs_dir()
    stem = run_name(dataset_name(data) if data is not None else "", backbone)
    path, n = parent / stem, 1
    while path.exists():
        n += 1
        path = parent / f"{stem}-{n}"
    return path


@dataclass(frozen=True)
class RunInfo:
    path: Path
    config: TrainingConfig
    history: list[dict]
    metrics: dict

    @property
    def folder(self) -> RunFolder:
        return RunFolder(self.path)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def dataset_name(self) -> str:
        return dataset_name(self.config.data)

    @property
    def label(self) -> str:
        """A short description for lists: data share, fine-tuned or not, best accuracy."""
        best = self.metrics.get("best_val_accuracy")
        score = f", best {100 * best:.0f} %" if best is not None else ""
        tuned = ", fine-tuned" if any(row.get("phase") == FINE_TUNING for row in self.history) else ""
        return f"{self.name} ({self.config.split.subset_percent:g} % data{tuned}{score})"


def weights_words(weights: str | None) -> str:
    """A run's ``weights`` setting in words, for the lab report and the model card."""
    if weights == "imagenet":
        return "ImageNet"
    return weights or "random (no pretraining)"


def read_run(path: Path) -> RunInfo | None:
    return RunFolder(path).info()


def list_runs(parent: Path | None = None) -> list[RunInfo]:
    """Runs under ``parent`` (default ``runs_dir()``), newest first."""
    parent = Path(parent) if parent is not None else runs_dir()
    if not parent.is_dir():
        return []
    runs = [read_run(p) for p in parent.iterdir() if p.is_dir()]
    return sorted((r for r in runs if r is not None), key=lambda r: r.path.stat().st_mtime, reverse=True)
