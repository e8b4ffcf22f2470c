"""Use a trained model on image files: load it with its labels, top-k classes, CSV.

Images are decoded exactly as in training (``data.pipeline.image_dataset``, with its Pillow
slow path) and resized to the model's input size; the model itself holds any preprocessing,
so it gets plain 0..255 RGB. TensorFlow is imported only inside the functions.
"""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from desktop_app.core.data.scan import IMAGE_EXTENSIONS, is_hidden_or_system
from desktop_app.core.errors import UserError, first_line
from desktop_app.core.fileio import write_text_atomic
from desktop_app.core.keras_files import load_keras_model
from desktop_app.core.runs import LABELS_FILE, MODEL_FILE, keras_file_problem, read_labels

TOP_K = 3
EXPORTED_SUFFIXES = (".tflite", ".onnx")  # run in LiteRT and ONNX Runtime


@dataclass
class Predictor:
    model: object  # a keras.Model taking (n, size, size, 3) 0..255 floats
    classes: list[str]
    img_size: int
    path: Path

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        # The compiled function, not an eager call: eagerly, EfficientNetV2-B0 at 224 px holds
        # about 2 GB of intermediate results for a batch of 32 (bench/ui_stall.py measured it).
        return np.asarray(self.model.predict_on_batch(images), dtype=np.float32)


@dataclass(frozen=True)
class ImagePrediction:
    path: Path
    top: list[tuple[str, float]]  # (class, probability), most likely first
    error: str = ""  # why the file could not be read; empty when ``top`` is set

    @property
    def label(self) -> str:
        return self.top[0][0] if self.top else ""

    def to_dict(self) -> dict:
        return {"path": str(self.path), "top": [{"class": c, "probability": p} for c, p in self.top],
                **({"error": self.error} if self.error else {})}


@dataclass
class PredictionSet:
    predictions: list[ImagePrediction] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        k = max((len(p.top) for p in self.predictions), default=TOP_K)
        header = ["path"]
        for i in range(1, k + 1):
            header += [f"class_{i}", f"probability_{i}"]
        writer.writerow([*header, "error"])
        for p in self.predictions:
            row = [str(p.path)]
            for i in range(k):
                row += [p.top[i][0], f"{p.top[i][1]:.6f}"] if i < len(p.top) else ["", ""]
            writer.writerow([*row, p.error])
        return out.getvalue()

    def save_csv(self, path: Path) -> Path:
        try:
            write_text_atomic(Path(path), self.to_csv())
        except OSError as e:
            raise UserError(f"Could not write {path} ({e.strerror or e}).") from None
        return Path(path)


def resolve_model_path(model: str | Path) -> Path:
    """A ``.keras``, ``.tflite`` or ``.onnx`` file, or a folder holding ``model.keras`` (a run or an export)."""
    path = Path(model).expanduser()
    if path.is_dir():
        path = path / MODEL_FILE
    if not path.is_file():
        raise UserError(f"There is no trained model at {model}: choose a .keras, .tflite or .onnx file, or a "
                        f"run folder with "
                        f"{MODEL_FILE} in it.")
    return path


_cache: dict[tuple[str, int], Predictor] = {}
_cache_lock = threading.Lock()


def load_predictor(model: str | Path) -> Predictor:
    """The model with its class names; cached, so the Predict page loads a model once."""
    path = resolve_model_path(model)
    key = (str(path.resolve()), path.stat().st_mtime_ns)
    with _cache_lock:
        if key in _cache:
            return _cache[key]
    if path.suffix.lower() in EXPORTED_SUFFIXES:
        predictor = _exported_predictor(path)
    else:
        predictor = _keras_predictor(path)
    with _cache_lock:
        _cache.clear()  # one model at a time is plenty, and models are big
        _cache[key] = predictor
    return predictor


def _exported_predictor(path: Path) -> Predictor:
    """A TFLite (run in LiteRT) or ONNX file; its class names from inside it, else labels.txt beside it."""
    from desktop_app.core.model.runtimes import FileModel

    try:
        model = FileModel(path)
    except UserError:
        raise
    except Exception as e:  # not a file the runtime can read
        raise UserError(f"{path} is not a model file the app can run ({first_line(e, 120)}).") from None
    return _checked(Predictor(model, model.labels or read_labels(path.parent), int(model.input_shape[1]), path))


def _checked(predictor: Predictor) -> Predictor:
    n_out = int(predictor.model.output_shape[-1])
    if n_out != len(predictor.classes):
        raise UserError(f"{predictor.path.with_name(LABELS_FILE)} names {len(predictor.classes)} classes but the "
                        f"model has {n_out} outputs.")
    return predictor


def _keras_predictor(path: Path) -> Predictor:
    problem = keras_file_problem(path)
    if problem is not None:
        raise UserError(f"The model file {path} is damaged: {problem}. Restore one of the run's checkpoints on the "
                        "Train page (or train the run again).")
    try:
        loaded = load_keras_model(path, compile=False)
    except UserError:
        raise
    except Exception as e:  # a file that looks whole but is not a model Keras can read
        raise UserError(f"The model file {path} is damaged and cannot be loaded ({first_line(e, 120)}).") from None
    return _checked(Predictor(loaded, read_labels(path.parent), int(loaded.input_shape[1]), path))


def expand_image_paths(items: Sequence[str | Path]) -> list[Path]:
    """Files as given, and the images inside folders (recursively, sorted)."""
    found: list[Path] = []
    for item in items:
        path = Path(item).expanduser()
        if path.is_dir():
            found += sorted(
                p for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS and not is_hidden_or_system(p.name)
            )
        elif path.exists():
            found.append(path)
        else:
            raise UserError(f"The image {path} does not exist.")
    return found


def decoded_batches(paths: Sequence[Path], img_size: int, batch_size: int = 32) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(images, indices into ``paths``) per batch; files that fail to decode are left out.

    The indices keep predictions aligned with their files when some are dropped.
    """
    from desktop_app.core.data.pipeline import AUTOTUNE, image_dataset

    if not paths:
        return
    for images, indices in image_dataset(list(paths), img_size).batch(batch_size).prefetch(AUTOTUNE):
        yield images.numpy(), indices.numpy()


def predict_probabilities(
    predictor: Predictor,
    paths: Sequence[Path],
    batch_size: int = 32,
    report: Callable[[int, int], None] = lambda done, total: None,
    should_stop: Callable[[], bool] = lambda: False,
) -> tuple[np.ndarray, np.ndarray] | None:
    """(probabilities (n_kept, n_classes), indices of the kept files); None when stopped."""
    probabilities, kept = [], []
    for images, indices in decoded_batches(paths, predictor.img_size, batch_size):
        if should_stop():
            return None
        probabilities.append(predictor.probabilities(images))
        kept.append(indices)
        report(int(sum(len(k) for k in kept)), len(paths))
    if not kept:
        return np.zeros((0, len(predictor.classes)), np.float32), np.zeros(0, np.int64)
    return np.concatenate(probabilities), np.concatenate(kept)


def top_k(probabilities: np.ndarray, classes: Sequence[str], k: int = TOP_K) -> list[tuple[str, float]]:
    order = np.argsort(-probabilities, kind="stable")[:k]
    return [(classes[i], float(probabilities[i])) for i in order]


def predict_images(
    model: str | Path | Predictor,
    items: Sequence[str | Path],
    k: int = TOP_K,
    report: Callable[[int, int], None] = lambda done, total: None,
    should_stop: Callable[[], bool] = lambda: False,
) -> PredictionSet:
    """Top-``k`` classes for each image in ``items`` (files or folders), in order."""
    predictor = model if isinstance(model, Predictor) else load_predictor(model)
    paths = expand_image_paths(items)
    if not paths:
        raise UserError("There are no images to look at: drop photos (.jpg, .png, ...) or a folder of them.")
    result = predict_probabilities(predictor, paths, report=report, should_stop=should_stop)
    if result is None:
        return PredictionSet([], predictor.classes)
    probabilities, kept = result
    by_index = {int(i): p for i, p in zip(kept, probabilities)}
    predictions = [
        ImagePrediction(path, top_k(by_index[i], predictor.classes, k)) if i in by_index
        else ImagePrediction(path, [], "not an image the app can read")
        for i, path in enumerate(paths)
    ]
    return PredictionSet(predictions, predictor.classes)

