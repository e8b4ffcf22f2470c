"""The export formats: how each file is written, and how it is run back to check it.

Every file but ``.keras`` (the trained file itself) is made from the inference copy: the
same layers and weights without the data-augmentation block, whose random operations do
nothing when the model predicts and which converters and runtimes cannot all handle.
TensorFlow and the converters are imported inside functions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from desktop_app.core.export.check import CheckPhotos
from desktop_app.core.fileio import copy_atomic
from desktop_app.core.model import runtimes
from desktop_app.core.model.tflite_labels import embed_labels, embedded_labels
from desktop_app.core.runs import LABELS_FILE, MODEL_FILE


@dataclass(frozen=True)
class ExportFormat:
    key: str
    title: str
    file: str  # in the export folder
    float_limit: float | None  # the largest probability difference allowed; None: an 8-bit file
    extra: str = ""  # the optional install it needs


EXPORT_FORMATS = (
    ExportFormat("keras", "Keras (.keras)", MODEL_FILE, 1e-4),
    ExportFormat("savedmodel", "TensorFlow SavedModel", "saved_model", 1e-4),
    ExportFormat("tflite", "TensorFlow Lite", "model.tflite", 1e-3),
    ExportFormat("tflite-quant", "TensorFlow Lite, 8-bit weights", "model_quantized.tflite", None),
    ExportFormat("tflite-int8", "TensorFlow Lite, 8-bit integers", "model_int8.tflite", None),
    ExportFormat("onnx", "ONNX", "model.onnx", 1e-4, extra="onnx"),
)
BY_KEY = {f.key: f for f in EXPORT_FORMATS}
FORMATS = tuple(BY_KEY)
FORMAT_TITLES = {f.key: f.title for f in EXPORT_FORMATS}
FORMAT_FILES = {f.key: f.file for f in EXPORT_FORMATS}
INPUT_WORDS = "an RGB photo, {size} x {size}, pixel values 0..255"
OUTPUT_WORDS = "{n} probabilities, one per class in labels.txt order (they add up to 1)"


def available_formats() -> tuple[str, ...]:
    """The formats this installation can write (ONNX needs its optional install)."""
    return tuple(f.key for f in EXPORT_FORMATS if f.extra != "onnx" or runtimes.onnx_available())


@dataclass
class ExportContext:
    """What every writer needs: the trained model, its inference copy and where to write."""

    model: object  # the trained keras.Model
    inference: object  # the same without the augmentation block
    model_file: Path  # the trained .keras file
    classes: list[str]
    img_size: int
    folder: Path  # the staging folder
    calibration: Callable[[], np.ndarray]  # training photos for the int8 file (loaded when first asked)
    name: str = "model"


@dataclass
class RunBack:
    """An exported file run over the check photos."""

    probabilities: np.ndarray
    runtime: str
    tensors: dict
    extra: str = ""  # a further finding, said after the check's sentence


def inference_copy(model):
    """The same layers and weights without the ``data_augmentation`` block."""
    import keras

    from desktop_app.core.augment.layers import AUGMENTATION_LAYER_NAME

    inputs = keras.Input(shape=model.input_shape[1:], name="image")
    x = inputs
    for layer in model.layers[1:]:
        if layer.name != AUGMENTATION_LAYER_NAME:
            x = layer(x)
    return keras.Model(inputs, x, name=f"{model.name}_inference")


def has_augmentation(model) -> bool:
    from desktop_app.core.augment.layers import AUGMENTATION_LAYER_NAME

    return any(layer.name == AUGMENTATION_LAYER_NAME for layer in model.layers)


# ----- writing -----

def _write_keras(ctx: ExportContext, target: Path) -> None:
    copy_atomic(ctx.model_file, target)  # the trained file itself: bit for bit the model


def _write_savedmodel(ctx: ExportContext, target: Path) -> None:
    from desktop_app.core.export.serving import write_saved_model

    write_saved_model(ctx.inference, target, ctx.folder / LABELS_FILE)


def tflite_bytes(ctx: ExportContext, mode: str = "") -> bytes:
    """The TFLite flatbuffer with the class names inside; ``mode`` "" (float), "dynamic" (8-bit
    weights, float input and output) or "int8" (8-bit everything, uint8 pixels in and out)."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(ctx.inference)
    if mode:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if mode == "int8":
        images = ctx.calibration()
        converter.representative_dataset = lambda: ([image[np.newaxis]] for image in images)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.uint8
        converter.inference_output_type = tf.uint8
    pixels = "uint8 pixels 0..255 (see the quantization)" if mode == "int8" else "float32 pixels 0..255"
    return embed_labels(
        converter.convert(), ctx.classes, name=ctx.name,
        description=f"Sorts a photo into {len(ctx.classes)} classes. Made with Transfer Studio.",
        input_description=f"{INPUT_WORDS.format(size=ctx.img_size)}; {pixels}",
        output_description=OUTPUT_WORDS.format(n=len(ctx.classes)),
    )


def _tflite_writer(mode: str):
    def write(ctx: ExportContext, target: Path) -> None:
        target.write_bytes(tflite_bytes(ctx, mode))

    return write


def _write_onnx(ctx: ExportContext, target: Path) -> None:
    import json

    import onnx

    ctx.inference.export(str(target), format="onnx", verbose=False)
    model = onnx.load(str(target))
    entry = model.metadata_props.add()
    entry.key, entry.value = "labels", json.dumps(ctx.classes)  # class names, in output order
    onnx.save(model, str(target))


WRITERS: dict[str, Callable[[ExportContext, Path], None]] = {
    "keras": _write_keras, "savedmodel": _write_savedmodel, "tflite": _tflite_writer(""),
    "tflite-quant": _tflite_writer("dynamic"), "tflite-int8": _tflite_writer("int8"), "onnx": _write_onnx,
}


# ----- running back -----

def _run_keras(path: Path, photos: CheckPhotos, classes: list[str]) -> RunBack:
    import keras

    model = keras.saving.load_model(path, compile=False, safe_mode=True)
    tensors = {"input": {"name": model.layers[0].name, "dtype": "float32", "shape": [None, *model.input_shape[1:]]},
               "output": {"name": model.layers[-1].name, "dtype": "float32", "shape": list(model.output_shape)}}
    return RunBack(runtimes.batched(model.predict_on_batch, photos.images), "Keras", tensors)


def _run_savedmodel(path: Path, photos: CheckPhotos, classes: list[str]) -> RunBack:
    import tensorflow as tf

    from desktop_app.core.export import serving

    loaded = tf.saved_model.load(str(path / serving.VERSION))  # kept: its functions need its variables
    serve = loaded.signatures[serving.DEFAULT_SIGNATURE]
    labels = (path / serving.VERSION / "assets" / LABELS_FILE).read_text(encoding="utf-8").splitlines()
    if labels != classes:
        raise ValueError("the class names in its assets are not the model's")
    got = runtimes.batched(lambda batch: serve(**{serving.IMAGES_INPUT: tf.constant(batch)})[serving.OUTPUT],
                           photos.images)
    return RunBack(got, "TensorFlow", serving.signatures_words(photos.images.shape[1]),
                   _bytes_signature_words(loaded, photos, got))


def _bytes_signature_words(loaded, photos: CheckPhotos, pixels: np.ndarray) -> str:
    """How the encoded-bytes signature does on the same photo files: it decodes inside the graph,
    without EXIF rotation or transparency on white, so it may differ where those apply."""
    import tensorflow as tf

    from desktop_app.core.export import serving
    from desktop_app.core.export.check import percent

    if not photos.paths:
        return ""
    serve = loaded.signatures[serving.BYTES_SIGNATURE]
    files = np.array([p.read_bytes() for p in photos.paths], dtype=object)
    got = runtimes.batched(lambda batch: serve(**{serving.BYTES_INPUT: tf.constant(list(batch))})[serving.OUTPUT],
                           files)
    same = float(np.mean(np.argmax(got, 1) == np.argmax(pixels, 1)))
    return f"Given the photo files themselves (serve_image_bytes), it agrees on {percent(same)} of them."


def _run_tflite(path: Path, photos: CheckPhotos, classes: list[str]) -> RunBack:
    content = path.read_bytes()
    if embedded_labels(content) != classes:
        raise ValueError("the class names inside the file are not the model's")
    interpreter = runtimes.tflite_interpreter(content)
    inp, out = runtimes.tflite_tensors(interpreter)
    return RunBack(runtimes.run_tflite(interpreter, photos.images), runtimes.tflite_runtime_name(),
                   {"input": inp.to_dict(), "output": out.to_dict()})


def _run_onnx(path: Path, photos: CheckPhotos, classes: list[str]) -> RunBack:
    model = runtimes.FileModel(path)
    if model.labels != classes:
        raise ValueError("the class names inside the file are not the model's")
    inp, out = runtimes.onnx_tensors(model.session)
    return RunBack(model.predict_on_batch(photos.images), "ONNX Runtime",
                   {"input": inp.to_dict(), "output": out.to_dict()})


READERS: dict[str, Callable[[Path, CheckPhotos, list[str]], RunBack]] = {
    "keras": _run_keras, "savedmodel": _run_savedmodel, "tflite": _run_tflite, "tflite-quant": _run_tflite,
    "tflite-int8": _run_tflite, "onnx": _run_onnx,
}
