"""Where a model goes wrong: accuracy, confusion matrix, per-class scores, most-wrong images.

The metrics are plain numpy on (true labels, predicted probabilities), so they are easy
to check by hand; ``evaluate_run`` fills them from a run's best model on the very
validation images that training kept aside (the split is reproducible from the run's
settings). TensorFlow is only imported when a model is run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from desktop_app.core.errors import UserError
from desktop_app.core.events import Progress, Step
from desktop_app.core.fileio import write_json_atomic
from desktop_app.core.data.split import ResolvedSplit
from desktop_app.core.runs import RunFolder

MOST_WRONG = 12


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int], n_classes: int) -> np.ndarray:
    """Rows: the true class; columns: the predicted class; cells: how many images."""
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)), 1)
    return matrix


@dataclass(frozen=True)
class ClassScores:
    name: str
    precision: float  # of the images predicted as this class, the share that really are (0 if none)
    recall: float  # of the images of this class, the share found (0 if none)
    f1: float  # harmonic mean of precision and recall
    support: int  # images of this class

    def to_dict(self) -> dict:
        return {"class": self.name, "precision": self.precision, "recall": self.recall, "f1": self.f1,
                "support": self.support}


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b else 0.0


def class_scores(matrix: np.ndarray, classes: Sequence[str]) -> list[ClassScores]:
    scores = []
    for i, name in enumerate(classes):
        hits = matrix[i, i]
        precision, recall = _ratio(hits, matrix[:, i].sum()), _ratio(hits, matrix[i, :].sum())
        f1 = _ratio(2 * precision * recall, precision + recall)
        scores.append(ClassScores(name, precision, recall, f1, int(matrix[i, :].sum())))
    return scores


@dataclass(frozen=True)
class WrongExample:
    path: Path
    true_label: int
    predicted_label: int
    probability: float  # the model's confidence in its (wrong) answer


@dataclass
class Evaluation:
    classes: list[str]
    paths: list[Path]
    y_true: np.ndarray  # (n,) int
    probabilities: np.ndarray  # (n, n_classes) float
    source: str = ""  # which images, in words
    skipped: list[Path] = field(default_factory=list)  # files that would not decode
    notes: list[str] = field(default_factory=list)  # about the run's photos: gone, changed, added since

    def __post_init__(self) -> None:
        self.paths = [Path(p) for p in self.paths]
        self.y_true = np.asarray(self.y_true, dtype=np.int64).reshape(-1)
        self.probabilities = np.asarray(self.probabilities, dtype=np.float32).reshape(len(self.y_true), -1)

    @property
    def y_pred(self) -> np.ndarray:
        return np.argmax(self.probabilities, axis=1) if len(self.y_true) else np.zeros(0, np.int64)

    @property
    def count(self) -> int:
        return len(self.y_true)

    @property
    def accuracy(self) -> float:
        return _ratio(int(np.sum(self.y_pred == self.y_true)), self.count)

    @property
    def confusion(self) -> np.ndarray:
        return confusion_matrix(self.y_true, self.y_pred, len(self.classes))

    @property
    def per_class(self) -> list[ClassScores]:
        return class_scores(self.confusion, self.classes)

    def macro_average(self) -> dict[str, float]:
        scores = self.per_class
        return {k: float(np.mean([getattr(s, k) for s in scores])) if scores else 0.0
                for k in ("precision", "recall", "f1")}

    def cell(self, true_label: int, predicted_label: int) -> list[Path]:
        """The images of one confusion-matrix cell, in file order."""
        mask = (self.y_true == true_label) & (self.y_pred == predicted_label)
        return [self.paths[i] for i in np.flatnonzero(mask)]

    def most_wrong(self, n: int = MOST_WRONG) -> list[WrongExample]:
        """Wrong answers given with the highest confidence first."""
        pred = self.y_pred
        wrong = np.flatnonzero(pred != self.y_true)
        confidence = self.probabilities[wrong, pred[wrong]] if len(wrong) else np.zeros(0)
        order = wrong[np.argsort(-confidence, kind="stable")][:n]
        return [WrongExample(self.paths[i], int(self.y_true[i]), int(pred[i]), float(self.probabilities[i, pred[i]]))
                for i in order]

    def to_dict(self, include_images: bool = True) -> dict:
        """JSON-friendly: the summary the CLI prints, plus (optionally) every image's answer."""
        data = {
            "source": self.source,
            "classes": self.classes,
            "images": self.count,
            "accuracy": self.accuracy,
            "macro_average": self.macro_average(),
            "per_class": [s.to_dict() for s in self.per_class],
            "confusion_matrix": self.confusion.tolist(),
            "most_wrong": [
                {"path": str(w.path), "true": self.classes[w.true_label], "predicted": self.classes[w.predicted_label],
                 "probability": w.probability} for w in self.most_wrong()
            ],
            "skipped": [str(p) for p in self.skipped],
            "notes": self.notes,
        }
        if include_images:
            data["predictions"] = [
                {"path": str(p), "true": int(t), "probabilities": [round(float(v), 7) for v in row]}
                for p, t, row in zip(self.paths, self.y_true, self.probabilities)
            ]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Evaluation:
        rows = data.get("predictions", [])
        n = len(data["classes"])
        return cls(
            list(data["classes"]), [r["path"] for r in rows], [r["true"] for r in rows],
            np.array([r["probabilities"] for r in rows], np.float32).reshape(len(rows), n),
            data.get("source", ""), [Path(p) for p in data.get("skipped", [])], list(data.get("notes", [])),
        )

    def save(self, path: Path) -> Path:
        write_json_atomic(Path(path), self.to_dict())
        return Path(path)

    @classmethod
    def load(cls, path: Path) -> Evaluation | None:
        try:
            return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError):
            return None


def _checking(report: Callable[[Progress], None]):
    return lambda p: report(Progress(Step.CHECKING_PHOTOS, p.done, p.total))


def run_photos(
    run_dir: Path,
    relocated: Path | None = None,
    class_map: dict[str, str] | None = None,
    report: Callable[[Progress], None] = lambda event: None,
    should_stop: Callable[[], bool] | None = None,
) -> ResolvedSplit:
    """The photos a run was made with, found again in its dataset folder (or in ``relocated``,
    where it moved): the run's own record, never the folder as it happens to be now. A run
    made before runs recorded their photos has them chosen again from its settings."""
    from desktop_app.core.data.scan import scan_folder
    from desktop_app.core.data.split import ResolvedSplit, check_classes, make_split, resolve
    from desktop_app.core.data.validate import validate_index

    run = RunFolder(run_dir)
    if not run.is_run():
        raise UserError(f"{run_dir} is not a training run folder (it has no {RunFolder.CONFIG}).")
    config = run.read_config()
    root = Path(relocated).expanduser().resolve() if relocated is not None else config.data
    if not root.is_dir():
        raise UserError(f"The run's dataset folder {root} is gone. If it moved, say where it is now "
                        "(--data FOLDER; the app asks when it opens the project).")
    recorded = run.read_split()
    if recorded is not None:
        return resolve(recorded, root, class_map, report=_checking(report), should_stop=should_stop)
    index = validate_index(scan_folder(root), report=_checking(report), should_stop=should_stop)
    check_classes(run.read_labels(), index.classes, class_map or {})
    split = config.split
    return ResolvedSplit(make_split(index, split.subset_percent, split.val_fraction, split.seed, legacy=True),
                         legacy=True)


def evaluation_files(
    run_dir: Path,
    data: str | Path | None = None,
    report: Callable[[Progress], None] = lambda event: None,
    should_stop: Callable[[], bool] | None = None,
    relocated: Path | None = None,
    class_map: dict[str, str] | None = None,
):
    """(files, classes, words, notes) to evaluate a run on.

    Without ``data``: the run's own validation photos (``run_photos``). With ``data``: that
    folder's test (or val) images if it has split folders, else all of its images; its
    class folders must be classes the model knows.
    """
    from desktop_app.core.data.scan import ImageFile, scan_folder
    from desktop_app.core.data.validate import validate_index

    run = RunFolder(run_dir)
    if not run.is_run():
        raise UserError(f"{run_dir} is not a training run folder (it has no {RunFolder.CONFIG}).")
    classes = run.read_labels()
    if data is None:
        photos = run_photos(run.path, relocated, class_map, report, should_stop)
        val = photos.split.val
        root = Path(relocated) if relocated is not None else run.read_config().data
        return val, classes, f"the {len(val)} validation images of {root}", photos.notes()
    index = validate_index(scan_folder(data), report=_checking(report), should_stop=should_stop)
    if index.has_split_folders:
        part = "test" if index.files_in("test") else "val"
        files = index.files_in(part)
        words = f"the {len(files)} images in {Path(data) / part}"
    else:
        files = index.files
        words = f"the {len(files)} images in {data}"
    unknown = sorted({index.classes[f.label] for f in files} - set(classes))
    if unknown:
        raise UserError(f"The model does not know the class(es) {', '.join(unknown)}; it knows "
                        f"{', '.join(classes)}.")
    position = {name: i for i, name in enumerate(classes)}
    files = [ImageFile(f.path, position[index.classes[f.label]], f.split) for f in files]
    if not files:
        raise UserError(f"There are no usable images to evaluate on in {data}.")
    return files, classes, words, []


def evaluate_run(
    run_dir: Path,
    data: str | Path | None = None,
    batch_size: int = 32,
    report: Callable[[Progress], None] = lambda event: None,
    should_stop: Callable[[], bool] = lambda: False,
    save: bool = True,
    relocated: Path | None = None,
    class_map: dict[str, str] | None = None,
) -> Evaluation | None:
    """Run the run's best model over its validation images (or ``data``); None when stopped.

    The result is also written to the run's evaluation file for the lab report (unless
    ``save`` is False: a run the app may not write to).
    """
    from desktop_app.core.data.validate import ValidationStopped
    from desktop_app.core.results.predict import load_predictor, predict_probabilities

    run = RunFolder(run_dir)
    try:
        files, classes, words, notes = evaluation_files(run.path, data, report, should_stop, relocated, class_map)
    except ValidationStopped:
        return None
    if should_stop():
        return None
    report(Progress(Step.LOADING_MODEL, 0, len(files)))
    predictor = load_predictor(run.path)
    if predictor.classes != classes:
        raise UserError(f"The class names of {run.path} do not match the model's classes.")
    paths = [f.path for f in files]
    result = predict_probabilities(
        predictor, paths, batch_size,
        report=lambda done, total: report(Progress(Step.PREDICTING, done, total)),
        should_stop=should_stop,
    )
    if result is None:
        return None
    probabilities, kept = result
    kept_set = set(int(i) for i in kept)
    evaluation = Evaluation(
        classes, [paths[i] for i in kept], [files[i].label for i in kept], probabilities, words,
        [p for i, p in enumerate(paths) if i not in kept_set], notes,
    )
    if save:
        try:
            evaluation.save(run.evaluation_path)
        except OSError:
            pass  # a read-only run folder still gets its evaluation shown
    return evaluation


def load_evaluation(run_dir: Path) -> Evaluation | None:
    """The evaluation saved by the last ``evaluate_run``, if it is newer than the model."""
    run = RunFolder(run_dir)
    path, model = run.evaluation_path, run.model_path
    if not path.exists() or (model.exists() and model.stat().st_mtime > path.stat().st_mtime):
        return None
    return Evaluation.load(path)
