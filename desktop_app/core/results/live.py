"""Live prediction: one camera frame at a time through a run's model, kept loaded.

A frame is treated like a photo on disk: the centre square (``data.frames.centre_square``,
the crop captured photos get too), resized to the model's input size the way training and
``predict`` resize files (``tf.image.resize``: bilinear, half-pixel centres, no
antialiasing), plain 0..255 RGB. ``model_input`` does that in numpy, so the window can
send the engine a small uint8 array instead of a whole camera frame; the engine only
runs the model. TensorFlow is imported lazily (by ``predict.load_predictor``).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from desktop_app.core.data.frames import centre_square
from desktop_app.core.errors import UserError
from desktop_app.core.results.predict import Predictor, load_predictor
from desktop_app.core.runs import RunFolder


@dataclass(frozen=True)
class LivePrediction:
    """The model's answer for one frame; ``frame_id`` names the frame it is about."""

    frame_id: int
    classes: tuple[str, ...]
    probabilities: tuple[float, ...]  # in ``classes`` order
    seconds: float  # the model's time for this frame, in the engine

    @property
    def best(self) -> int:
        return int(np.argmax(self.probabilities))

    @property
    def label(self) -> str:
        return self.classes[self.best]

    @property
    def confidence(self) -> float:
        return float(self.probabilities[self.best])


def _bilinear_axis(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source rows (low, high) and weights of high, as tf.image.resize computes them."""
    centre = (np.arange(n_out, dtype=np.float64) + 0.5) * (n_in / n_out) - 0.5
    centre = np.clip(centre, 0, n_in - 1)
    low = np.floor(centre).astype(np.int64)
    high = np.minimum(low + 1, n_in - 1)
    return low, high, (centre - low).astype(np.float32)


def resize_like_training(image: np.ndarray, size: int) -> np.ndarray:
    """``image`` (h, w, 3) resized to (size, size, 3) float32 exactly as the training pipeline does."""
    image = np.asarray(image, dtype=np.float32)
    if image.shape[:2] == (size, size):
        return image
    y0, y1, wy = _bilinear_axis(image.shape[0], size)
    x0, x1, wx = _bilinear_axis(image.shape[1], size)
    rows = image[y0] * (1 - wy)[:, None, None] + image[y1] * wy[:, None, None]
    return rows[:, x0] * (1 - wx)[None, :, None] + rows[:, x1] * wx[None, :, None]


def model_input(frame: Image.Image | np.ndarray, size: int) -> np.ndarray:
    """A camera frame as the model sees it: its centre square at ``size`` px, uint8 RGB (small to send)."""
    square = np.asarray(centre_square(frame))
    return np.clip(np.rint(resize_like_training(square, size)), 0, 255).astype(np.uint8)


def live_input_size(run_dir: Path) -> int:
    """The image size a run's model takes, read from its settings (no TensorFlow)."""
    return int(RunFolder(run_dir).read_config().model.img_size)


class LivePredictor:
    """Keeps the last model used for live prediction loaded (and its predict function traced),
    even when the Predict tab loads another model meanwhile."""

    def __init__(self):
        self._predictor: Predictor | None = None
        self._key: tuple[str, int] | None = None
        self._lock = threading.Lock()

    def predictor(self, model: Path) -> Predictor:
        path = RunFolder(model).model_path if Path(model).is_dir() else Path(model)
        if not path.is_file():
            raise UserError("This run has no trained model yet: train it on the Train page, then try it live.")
        key = (str(path.resolve()), path.stat().st_mtime_ns)
        with self._lock:
            if key != self._key:
                self._predictor, self._key = load_predictor(path), key
            return self._predictor

    def predict(self, model: Path, frame: np.ndarray, frame_id: int = 0) -> LivePrediction:
        predictor = self.predictor(model)
        size = predictor.img_size
        image = frame if frame.shape[:2] == (size, size) else model_input(frame, size)
        start = time.perf_counter()
        probabilities = predictor.probabilities(np.asarray(image, np.float32)[None])[0]
        return LivePrediction(frame_id, tuple(predictor.classes), tuple(float(p) for p in probabilities),
                              time.perf_counter() - start)


_live = LivePredictor()


def predict_frame(model: Path, frame: np.ndarray, frame_id: int = 0) -> LivePrediction:
    """One frame (already ``model_input``, or any RGB frame) through ``model`` (a run folder or .keras)."""
    return _live.predict(Path(model), frame, frame_id)
