"""Run exported files the way their users will: LiteRT for TFLite, onnxruntime for ONNX.

``tf.lite.Interpreter`` is deprecated and announced for deletion, so TFLite files run in
the standalone LiteRT runtime (``ai-edge-litert``) wherever it has wheels; TensorFlow's
own interpreter is only the fallback. Integer files take and give quantized tensors:
``run_tflite`` converts with the scale and zero point stored in the file, as a phone app must.
"""

from __future__ import annotations

import importlib.util
import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from desktop_app.core.errors import UserError
from desktop_app.core.model.tflite_labels import embedded_labels

ONNX_EXTRA = "pip install 'transfer-studio[onnx]'"


@dataclass(frozen=True)
class TensorInfo:
    """One input or output tensor as the runtime names it: what a phone developer types."""

    name: str
    dtype: str
    shape: tuple
    scale: float = 0.0  # integer tensors: real = scale * (q - zero_point)
    zero_point: int = 0

    def to_dict(self) -> dict:
        data = {"name": self.name, "dtype": self.dtype, "shape": [int(d) if d is not None else None
                                                                   for d in self.shape]}
        if self.scale:
            data.update(scale=self.scale, zero_point=self.zero_point)
        return data


def _interpreter_class() -> tuple[type, str]:
    """LiteRT's interpreter and its name; TensorFlow's where LiteRT has no wheel (Intel Macs)."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        import tensorflow as tf

        return tf.lite.Interpreter, "TensorFlow (tf.lite)"
    return Interpreter, "LiteRT"


def tflite_runtime_name() -> str:
    return _interpreter_class()[1]


def tflite_interpreter(model: Path | bytes):
    """An allocated interpreter for a .tflite file or its bytes: LiteRT, else TensorFlow's."""
    Interpreter = _interpreter_class()[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf.lite's deprecation notice, once per file
        interpreter = (Interpreter(model_content=bytes(model)) if isinstance(model, (bytes, bytearray))
                       else Interpreter(model_path=str(model)))
    interpreter.allocate_tensors()
    return interpreter


def _tensor_info(detail: dict) -> TensorInfo:
    scale, zero_point = detail.get("quantization", (0.0, 0))
    return TensorInfo(str(detail["name"]), np.dtype(detail["dtype"]).name, tuple(detail["shape"]),
                      float(scale), int(zero_point))


def tflite_tensors(interpreter) -> tuple[TensorInfo, TensorInfo]:
    return _tensor_info(interpreter.get_input_details()[0]), _tensor_info(interpreter.get_output_details()[0])


def quantize(images: np.ndarray, tensor: TensorInfo) -> np.ndarray:
    """Float 0..255 pixels as the integer tensor wants them (uint8 files with scale 1, zero 0:
    the pixels themselves, rounded)."""
    if not tensor.scale:
        return images.astype(tensor.dtype)
    info = np.iinfo(tensor.dtype)
    return np.clip(np.round(images / tensor.scale + tensor.zero_point), info.min, info.max).astype(tensor.dtype)


def dequantize(values: np.ndarray, tensor: TensorInfo) -> np.ndarray:
    if not tensor.scale:
        return values.astype(np.float32)
    return (tensor.scale * (values.astype(np.float32) - tensor.zero_point)).astype(np.float32)


def run_tflite(interpreter, images: np.ndarray) -> np.ndarray:
    """Probabilities for float 0..255 images, one image at a time as a phone runs it."""
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    inp_info, out_info = _tensor_info(inp), _tensor_info(out)
    rows = []
    for image in images:
        interpreter.set_tensor(inp["index"], quantize(image[np.newaxis], inp_info))
        interpreter.invoke()
        rows.append(dequantize(interpreter.get_tensor(out["index"])[0], out_info))
    return np.stack(rows) if rows else np.zeros((0, 0), np.float32)


def onnx_available() -> bool:
    """Whether the ONNX add-on is installed; asked without importing it (tf2onnx imports TensorFlow,
    and the window's process never does)."""
    return all(importlib.util.find_spec(name) is not None for name in ("tf2onnx", "onnx", "onnxruntime"))


def onnx_session(path: Path):
    try:
        import onnxruntime
    except ImportError:
        raise UserError(f"ONNX files need the ONNX add-on: {ONNX_EXTRA}") from None
    return onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def onnx_tensors(session) -> tuple[TensorInfo, TensorInfo]:
    def info(arg) -> TensorInfo:
        return TensorInfo(arg.name, arg.type.removeprefix("tensor(").removesuffix(")"), tuple(
            d if isinstance(d, int) else None for d in arg.shape))

    return info(session.get_inputs()[0]), info(session.get_outputs()[0])


def run_onnx(session, images: np.ndarray, batch_size: int = 32) -> np.ndarray:
    name = session.get_inputs()[0].name
    rows = [session.run(None, {name: images[i:i + batch_size].astype(np.float32)})[0]
            for i in range(0, len(images), batch_size)]
    return np.concatenate(rows).astype(np.float32) if rows else np.zeros((0, 0), np.float32)


def batched(predict, images: np.ndarray, size: int = 32) -> np.ndarray:
    """``predict`` over ``images`` a batch at a time: hundreds of large photos at once would not fit."""
    rows = [np.asarray(predict(images[i:i + size]), np.float32) for i in range(0, len(images), size)]
    return np.concatenate(rows) if rows else np.zeros((0, 0), np.float32)


class FileModel:
    """An exported TFLite or ONNX file behind the one method the app's predictors call."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.labels: list[str] | None = None  # the class names stored inside the file
        if self.path.suffix.lower() == ".onnx":
            session = self.session = onnx_session(self.path)
            inp, out = onnx_tensors(session)
            self._predict = lambda images: run_onnx(session, images)
            stored = session.get_modelmeta().custom_metadata_map.get("labels")
            self.labels = json.loads(stored) if stored else None
        else:
            content = self.path.read_bytes()
            interpreter = tflite_interpreter(content)
            inp, out = tflite_tensors(interpreter)
            self._predict = lambda images: run_tflite(interpreter, images)
            self.labels = embedded_labels(content)
        self.input_shape, self.output_shape = (None, *inp.shape[1:]), (None, *out.shape[1:])

    def predict_on_batch(self, images: np.ndarray) -> np.ndarray:
        return self._predict(np.asarray(images, np.float32))
