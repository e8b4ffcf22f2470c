"""Put a classifier's class names inside its TensorFlow Lite file.

The layout is the standard TFLite metadata one (as tflite-support's MetadataPopulator
writes it), so Android's TFLite Task Library, MediaPipe and Netron find the names:

1. a ``ModelMetadata`` flatbuffer (file identifier ``M001``, see tflite-support's
   ``metadata_schema.fbs``) describing the input image and the output probabilities,
   whose output tensor lists ``labels.txt`` as a TENSOR_AXIS_LABELS file;
2. a ``TFLITE_METADATA`` entry in the model's ``metadata`` list, pointing at a buffer
   that holds those bytes;
3. ``labels.txt`` (one name a line, UTF-8) in an uncompressed zip appended after the
   flatbuffer; the interpreter ignores the trailing bytes, zip readers find the archive.

The stale ``tflite-support`` package is not needed: the metadata table is built by hand
with ``flatbuffers.Builder`` and the model is rewritten with TensorFlow's own
``flatbuffer_utils``. TensorFlow is imported inside functions.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence

from desktop_app.core.errors import UserError

LABELS_NAME = "labels.txt"
METADATA_NAME = "TFLITE_METADATA"  # the key readers look for in Model.metadata
METADATA_IDENTIFIER = b"M001"
MIN_PARSER_VERSION = "1.0.0"  # no field used here is newer than schema 1.0.0

# Enum values from metadata_schema.fbs.
TENSOR_AXIS_LABELS = 2  # AssociatedFileType
COLOR_SPACE_RGB = 1  # ColorSpaceType
CONTENT_FEATURE, CONTENT_IMAGE = 1, 2  # ContentProperties union types
OPTIONS_NORMALIZATION = 1  # ProcessUnitOptions union type


def embed_labels(model: bytes, labels: Sequence[str], *, name: str, description: str,
                 input_description: str, output_description: str) -> bytes:
    """Return ``model`` (.tflite bytes) with ``labels`` and descriptions stored inside it.

    Any metadata or labels embedded before are replaced, so embedding twice is safe.
    """
    from tensorflow.lite.tools import flatbuffer_utils

    labels = _checked_labels(labels)
    model_obj = _read_model(model)
    _check_classifier(model_obj, len(labels))
    metadata = _model_metadata(name, description, input_description, output_description)
    _set_metadata_buffer(model_obj, metadata)
    flat = bytes(flatbuffer_utils.convert_object_to_bytearray(model_obj))
    return _append_labels_zip(flat, labels)


def embedded_labels(model: bytes) -> list[str] | None:
    """The class names stored by :func:`embed_labels`, or None when the file has none.

    Both parts must be there: the TFLITE_METADATA entry and ``labels.txt`` in the zip.
    """
    if not _has_metadata_entry(model):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(model)) as archive:
            text = archive.read(LABELS_NAME).decode("utf-8")
    except (zipfile.BadZipFile, KeyError, UnicodeDecodeError):
        return None
    return text.rstrip("\n").split("\n")  # "\n" only, as Task Library splits; not splitlines


# ---- checks -------------------------------------------------------------------------

def _checked_labels(labels: Sequence[str]) -> list[str]:
    labels = [str(label) for label in labels]
    if not labels:
        raise UserError("There are no class names to put in the TensorFlow Lite file.")
    if any(not label.strip() or "\n" in label or "\r" in label for label in labels):
        raise UserError("Every class name must be non-empty and fit on one line.")
    return labels


def _read_model(model: bytes):
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    if len(model) < 8 or not schema.Model.ModelBufferHasIdentifier(model, 0):
        raise UserError("This file is not a TensorFlow Lite model.")
    return flatbuffer_utils.convert_bytearray_to_object(bytearray(model))


def _check_classifier(model_obj, n_labels: int) -> None:
    """One input, one output whose last axis has one score per class name."""
    graph = model_obj.subgraphs[0]
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        raise UserError("Class names can only be added to a model with one input and one output.")
    shape = graph.tensors[graph.outputs[0]].shape
    n_scores = int(shape[-1]) if shape is not None and len(shape) else 0
    if n_scores != n_labels:
        raise UserError(f"The model gives {n_scores} scores but {n_labels} class names were given.")


def _has_metadata_entry(model: bytes) -> bool:
    from tensorflow.lite.python import schema_py_generated as schema

    if len(model) < 8 or not schema.Model.ModelBufferHasIdentifier(model, 0):
        return False
    root = schema.Model.GetRootAs(model, 0)
    return any(_name(root.Metadata(i).Name()) == METADATA_NAME for i in range(root.MetadataLength()))


def _name(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else (value or "")


# ---- writing --------------------------------------------------------------------------

def _set_metadata_buffer(model_obj, metadata: bytes) -> None:
    """Point the TFLITE_METADATA entry at a buffer holding ``metadata``.

    An existing entry keeps its buffer (its bytes are replaced), so re-embedding adds no
    orphaned buffer and keeps exactly one entry.
    """
    import numpy as np
    from tensorflow.lite.python import schema_py_generated as schema

    data = np.frombuffer(metadata, dtype=np.uint8).copy()
    model_obj.metadata = list(model_obj.metadata or [])
    entries = [m for m in model_obj.metadata if _name(m.name) == METADATA_NAME]
    if entries:
        keep = entries[0]
        model_obj.metadata = [m for m in model_obj.metadata if m is keep or _name(m.name) != METADATA_NAME]
        model_obj.buffers[keep.buffer].data = data
        return
    buffer = schema.BufferT()
    buffer.data = data
    model_obj.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name = METADATA_NAME
    entry.buffer = len(model_obj.buffers) - 1
    model_obj.metadata.append(entry)


def _append_labels_zip(flat: bytes, labels: list[str]) -> bytes:
    """``flat`` followed by an uncompressed zip holding labels.txt.

    Appending in "a" mode (as MetadataPopulator does) makes the zip offsets count from
    the start of the file; Task Library reads stored (uncompressed) entries in place.
    """
    out = io.BytesIO(flat)
    out.seek(0, io.SEEK_END)
    with zipfile.ZipFile(out, "a", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(LABELS_NAME, "\n".join(labels) + "\n")
    return out.getvalue()


# ---- the ModelMetadata flatbuffer -----------------------------------------------------
# Slots follow the field order of tflite-support's metadata_schema.fbs (a union field
# takes two slots: its type, then its value):
#   ModelMetadata: name 0, description 1, version 2, subgraph_metadata 3, author 4,
#                  license 5, associated_files 6, min_parser_version 7
#   SubGraphMetadata: name 0, description 1, input_tensor_metadata 2,
#                     output_tensor_metadata 3, associated_files 4, ...
#   TensorMetadata: name 0, description 1, dimension_names 2, content 3,
#                   process_units 4, stats 5, associated_files 6
#   AssociatedFile: name 0, description 1, type 2, locale 3
#   Content: content_properties_type 0, content_properties 1, range 2
#   ImageProperties: color_space 0, default_size 1
#   ProcessUnit: options_type 0, options 1
#   NormalizationOptions: mean 0, std 1

def _model_metadata(name: str, description: str, input_description: str,
                    output_description: str) -> bytes:
    import flatbuffers

    b = flatbuffers.Builder(1024)
    image = _input_tensor(b, input_description)
    probability = _output_tensor(b, output_description)
    subgraph = _table(b, 7, strings={}, offsets={2: _vector(b, [image]), 3: _vector(b, [probability])})
    root = _table(b, 8, strings={0: name, 1: description, 7: MIN_PARSER_VERSION},
                  offsets={3: _vector(b, [subgraph])})
    b.Finish(root, file_identifier=METADATA_IDENTIFIER)
    return bytes(b.Output())


def _input_tensor(b, description: str) -> int:
    """An RGB image; mean 0 / std 1 says "feed raw 0..255 values", the model scales itself.

    Task Library refuses a float image input without NormalizationOptions, hence both.
    """
    properties = _table(b, 2, bytes_={0: COLOR_SPACE_RGB})
    content = _table(b, 3, bytes_={0: CONTENT_IMAGE}, offsets={1: properties})
    norm = _table(b, 2, offsets={0: _floats(b, [0.0]), 1: _floats(b, [1.0])})
    unit = _table(b, 2, bytes_={0: OPTIONS_NORMALIZATION}, offsets={1: norm})
    return _table(b, 7, strings={0: "image", 1: description},
                  offsets={3: content, 4: _vector(b, [unit])})


def _output_tensor(b, description: str) -> int:
    features = _table(b, 0)
    content = _table(b, 3, bytes_={0: CONTENT_FEATURE}, offsets={1: features})
    labels = _table(b, 4, strings={0: LABELS_NAME, 1: "One class name per line, in the order of the scores."},
                    bytes_={2: TENSOR_AXIS_LABELS})
    return _table(b, 7, strings={0: "probability", 1: description},
                  offsets={3: content, 6: _vector(b, [labels])})


def _table(b, n_slots: int, *, strings: dict | None = None, offsets: dict | None = None,
           bytes_: dict | None = None) -> int:
    """One table; strings are created first because flatbuffers forbids nesting."""
    made = {slot: b.CreateString(text) for slot, text in (strings or {}).items()}
    made.update(offsets or {})
    b.StartObject(n_slots)
    for slot, offset in made.items():
        b.PrependUOffsetTRelativeSlot(slot, offset, 0)
    for slot, value in (bytes_ or {}).items():
        b.PrependInt8Slot(slot, value, 0)
    return b.EndObject()


def _vector(b, offsets: list[int]) -> int:
    b.StartVector(4, len(offsets), 4)
    for offset in reversed(offsets):
        b.PrependUOffsetTRelative(offset)
    return b.EndVector()


def _floats(b, values: list[float]) -> int:
    b.StartVector(4, len(values), 4)
    for value in reversed(values):
        b.PrependFloat32(value)
    return b.EndVector()
