"""How an exported file is judged: its answers against the trained model's, photo by photo.

Every format is run over the run's validation photos (all of them, up to 500, every class
in turn), decoded once exactly as the app decodes them. A check records on how many photos
the file picks the same class as the trained model, how many it gets right, and for float
formats how far its probabilities stray: "agrees on 97 % of 430 photos", never "passed".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from desktop_app.core.errors import UserError

CHECK_LIMIT = 500  # validation photos each file is checked on
CALIBRATION_LIMIT = 200  # training photos that set the int8 file's value ranges
QUANTIZED_MIN_AGREEMENT = 0.9  # an 8-bit file that changes more answers than this earns a warning


@dataclass
class CheckPhotos:
    images: np.ndarray  # (n, size, size, 3) float32 0..255, as the app feeds its model
    labels: np.ndarray | None  # the true class of each photo; None for random stand-ins
    words: str  # "430 validation photos"
    paths: list[Path] = field(default_factory=list)  # the files, in order (none for random stand-ins)


@dataclass(frozen=True)
class FormatCheck:
    """One exported file and what running it showed."""

    format: str
    title: str
    file: str  # relative to the export folder
    ok: bool
    detail: str  # one sentence for the page
    agreement: float | None = None  # share of photos with the trained model's top class
    accuracy: float | None = None  # share of photos with the right class
    max_abs_diff: float | None = None  # largest probability difference (float formats)
    images: int = 0
    size_bytes: int = 0
    runtime: str = ""  # what ran it: "Keras", "TensorFlow", "LiteRT", "ONNX Runtime"
    tensors: dict = field(default_factory=dict)  # input / output names, types, shapes, quantization
    caution: bool = False  # written and run, but an 8-bit file that changed many answers

    def to_dict(self) -> dict:
        return asdict(self)


def percent(share: float) -> str:
    """97 %, and never "100 %" for 429 of 430 (nor "0 %" for 1 of 430)."""
    value = 100 * share
    if 0 < share < 1 and round(value) in (0, 100):
        return f"{math.floor(value * 10) / 10 if value > 50 else math.ceil(value * 10) / 10:g} %"
    return f"{round(value)} %"


def decimal_places(diff: float) -> int:
    """How many decimal places two numbers ``diff`` apart agree to (1e-4 and 3.2e-5: 4)."""
    return max(0, math.floor(-math.log10(diff))) if diff > 0 else 99


def _places(k: int) -> str:
    return f"{k} decimal place{'' if k == 1 else 's'}"


def _stratified(files: Sequence, limit: int) -> list:
    """Up to ``limit`` files, the classes in turn, so every class is in the check."""
    by_class: dict[int, list] = {}
    for f in files:
        by_class.setdefault(f.label, []).append(f)
    queues = [list(group) for _, group in sorted(by_class.items())]
    chosen: list = []
    while len(chosen) < limit and any(queues):
        for queue in queues:
            if queue and len(chosen) < limit:
                chosen.append(queue.pop(0))
    return chosen


def _decode(files: Sequence, img_size: int) -> tuple[np.ndarray, np.ndarray, list[Path]]:
    """(images, labels, paths) of the files that decode, in order."""
    from desktop_app.core.results.predict import decoded_batches

    images, kept = [], []
    for batch, indices in decoded_batches([f.path for f in files], img_size):
        images.append(batch)
        kept += [files[int(i)] for i in indices]
    if not images:
        return np.zeros((0, img_size, img_size, 3), np.float32), np.zeros(0, np.int64), []
    return np.concatenate(images), np.asarray([f.label for f in kept], np.int64), [f.path for f in kept]


def check_photos(run_dir: Path, img_size: int, limit: int = CHECK_LIMIT) -> CheckPhotos:
    """The run's validation photos (at most ``limit``); random pixels if its dataset is gone,
    so the files are still compared, only less tellingly."""
    from desktop_app.core.results.evaluation import evaluation_files

    try:
        files = _stratified(evaluation_files(run_dir)[0], limit)
    except UserError:
        files = []
    images, labels, paths = _decode(files, img_size)
    if len(images):
        return CheckPhotos(images, labels, f"{len(images)} validation photos", paths)
    n = 8
    rng = np.random.default_rng(0)
    return CheckPhotos(rng.uniform(0, 255, (n, img_size, img_size, 3)).astype(np.float32), None,
                       f"{n} random images (the dataset was not found)")


def calibration_photos(run_dir: Path, img_size: int, limit: int = CALIBRATION_LIMIT) -> np.ndarray:
    """Training photos (never validation ones: those judge the result) for the int8 file's ranges."""
    from desktop_app.core.results.evaluation import run_photos

    try:
        files = _stratified(run_photos(run_dir).split.train, limit)
    except (UserError, OSError):
        files = []
    images = _decode(files, img_size)[0]
    if not len(images):
        raise UserError("The full 8-bit file needs the run's training photos to set its value ranges, and the "
                        "dataset folder was not found.")
    return images


def judge(fmt: str, title: str, file: str, photos: CheckPhotos, reference: np.ndarray, got: np.ndarray,
          float_limit: float | None, **facts) -> FormatCheck:
    """The check of one file; ``float_limit`` the largest probability difference a float file may
    show, None for 8-bit files (judged by how many answers they keep)."""
    n = len(reference)
    if got.shape == reference.shape and not np.isfinite(got).all():
        return FormatCheck(fmt, title, file, False, "Check failed: it gave numbers that are not numbers (NaN or "
                           "infinite) for some photos.", images=n, **facts)
    if got.shape != reference.shape:
        return FormatCheck(fmt, title, file, False, f"Check failed: it gave {got.shape} numbers for "
                           f"{reference.shape} expected.", images=n, **facts)
    same = np.argmax(got, 1) == np.argmax(reference, 1)
    agreement = float(np.mean(same)) if n else 0.0
    accuracy = float(np.mean(np.argmax(got, 1) == photos.labels)) if photos.labels is not None and n else None
    diff = float(np.max(np.abs(got - reference))) if n else float("inf")
    agrees = f"agrees with the trained model on {percent(agreement)} of {photos.words}"
    right = f"; right on {percent(accuracy)}" if accuracy is not None else ""
    if float_limit is None:  # an approximation by design: its agreement is the finding, not a failure
        ok, caution = True, agreement < QUANTIZED_MIN_AGREEMENT
        detail = f"{'Careful: it only' if caution else 'It'} {agrees}{right}."
        if caution:
            detail += (f" An 8-bit copy should keep at least {percent(QUANTIZED_MIN_AGREEMENT)} of the answers: "
                       "prefer the float file, or train longer so the model is surer of its answers.")
    else:
        ok, caution = diff <= float_limit, False
        places = "exactly" if diff == 0 else f"to {_places(decimal_places(diff))}"
        detail = (f"{'It' if ok else 'Check failed: it'} {agrees}{right}; its probabilities match {places} "
                  f"(the check needs {_places(decimal_places(float_limit))}).")
    return FormatCheck(fmt, title, file, ok, detail, agreement, accuracy, diff, n, caution=caution, **facts)
