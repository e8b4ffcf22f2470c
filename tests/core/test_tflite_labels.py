"""Class names stored inside a .tflite file, in the standard TFLite metadata layout."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from desktop_app.core.errors import UserError
from desktop_app.core.model.tflite_labels import (
    LABELS_NAME,
    embed_labels,
    embedded_labels,
)

LABELS = ["café", "red apple", "猫"]
WORDS = {"name": "Fruit finder", "description": "Tells fruit apart.",
         "input_description": "An RGB photo, 0..255.", "output_description": "One score per class."}


@pytest.fixture(scope="module")
def tiny_model() -> bytes:
    """Input(8, 8, 3) -> average -> Dense(3, softmax), converted to TFLite."""
    import tensorflow as tf

    keras = tf.keras
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(3, activation="softmax")])
    return bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())


@pytest.fixture(scope="module")
def labelled(tiny_model) -> bytes:
    return embed_labels(tiny_model, LABELS, **WORDS)


def run_litert(content: bytes, image: np.ndarray) -> np.ndarray:
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=content)
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], image)
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


# ---- a tiny reader of the metadata flatbuffer, independent of the writer ----------------

def table_at(buf: bytes, pos: int):
    import flatbuffers

    return flatbuffers.table.Table(bytearray(buf), pos)


def field(tab, slot: int) -> int:
    return tab.Offset(4 + 2 * slot)  # vtable entry of field number `slot`, 0 when absent


def string(tab, slot: int) -> str | None:
    o = field(tab, slot)
    return tab.String(o + tab.Pos).decode("utf-8") if o else None


def sub_table(tab, slot: int):
    o = field(tab, slot)
    return table_at(tab.Bytes, tab.Indirect(o + tab.Pos)) if o else None


def tables(tab, slot: int) -> list:
    o = field(tab, slot)
    if not o:
        return []
    start = tab.Vector(o)
    return [table_at(tab.Bytes, tab.Indirect(start + 4 * i)) for i in range(tab.VectorLen(o))]


def int8(tab, slot: int) -> int:
    import flatbuffers

    o = field(tab, slot)
    return tab.Get(flatbuffers.number_types.Int8Flags, o + tab.Pos) if o else 0


def metadata_entries(content: bytes) -> list[tuple[str, bytes]]:
    """(name, buffer bytes) for each entry of the model's metadata list."""
    from tensorflow.lite.python import schema_py_generated as schema

    root = schema.Model.GetRootAs(content, 0)
    out = []
    for i in range(root.MetadataLength()):
        entry = root.Metadata(i)
        out.append((entry.Name().decode(), root.Buffers(entry.Buffer()).DataAsNumpy().tobytes()))
    return out


def n_buffers(content: bytes) -> int:
    from tensorflow.lite.python import schema_py_generated as schema

    return schema.Model.GetRootAs(content, 0).BuffersLength()


# ---- tests -------------------------------------------------------------------------------

def test_labels_round_trip_with_accents_and_spaces(tiny_model, labelled):
    assert embedded_labels(labelled) == LABELS
    assert embedded_labels(tiny_model) is None
    with zipfile.ZipFile(io.BytesIO(labelled)) as archive:
        assert archive.namelist() == [LABELS_NAME]
        info = archive.getinfo(LABELS_NAME)
        assert info.compress_type == zipfile.ZIP_STORED
        # Offsets count from the start of the file, as MetadataPopulator's append gives.
        assert labelled[info.header_offset:info.header_offset + 4] == b"PK\x03\x04"
        assert archive.read(LABELS_NAME).decode("utf-8").splitlines() == LABELS


def test_labels_without_the_metadata_entry_do_not_count(tiny_model, labelled):
    zip_only = tiny_model + labelled[labelled.index(b"PK\x03\x04"):]
    assert zipfile.ZipFile(io.BytesIO(zip_only)).namelist() == [LABELS_NAME]
    assert embedded_labels(zip_only) is None


def test_labelled_file_runs_in_litert_like_the_plain_one(tiny_model, labelled):
    image = np.random.default_rng(0).uniform(0, 255, (1, 8, 8, 3)).astype(np.float32)
    plain, with_labels = run_litert(tiny_model, image), run_litert(labelled, image)
    assert with_labels.shape == (1, 3)
    assert np.array_equal(plain, with_labels)


def test_metadata_buffer_is_standard_model_metadata(labelled):
    import flatbuffers

    entries = dict(metadata_entries(labelled))
    assert {"min_runtime_version", "CONVERSION_METADATA"} <= set(entries)  # converter's are kept
    meta = entries["TFLITE_METADATA"]
    assert meta[4:8] == b"M001"
    assert flatbuffers.util.BufferHasIdentifier(meta, 0, b"M001")
    root = table_at(meta, flatbuffers.encode.Get(flatbuffers.packer.uoffset, meta, 0))
    assert string(root, 0) == WORDS["name"]
    assert string(root, 1) == WORDS["description"]
    assert string(root, 7) == "1.0.0"  # min_parser_version
    (subgraph,) = tables(root, 3)
    (image,) = tables(subgraph, 2)
    (probability,) = tables(subgraph, 3)
    assert (string(image, 0), string(image, 1)) == ("image", WORDS["input_description"])
    assert int8(sub_table(image, 3), 0) == 2  # content is ImageProperties
    assert (string(probability, 0), string(probability, 1)) == ("probability", WORDS["output_description"])
    (labels_file,) = tables(probability, 6)
    assert string(labels_file, 0) == LABELS_NAME
    assert int8(labels_file, 2) == 2  # TENSOR_AXIS_LABELS


def test_embedding_twice_keeps_one_entry_and_one_set_of_labels(tiny_model, labelled):
    again = embed_labels(labelled, ["x", "y", "z"], **WORDS)
    names = [name for name, _ in metadata_entries(again)]
    assert names.count("TFLITE_METADATA") == 1
    assert embedded_labels(again) == ["x", "y", "z"]
    assert again.count(b"PK\x05\x06") == 1  # a single zip archive at the end
    assert n_buffers(again) == n_buffers(labelled) == n_buffers(tiny_model) + 1  # none orphaned


def test_a_larger_model_keeps_its_weights(tiny_model):
    import tensorflow as tf

    keras = tf.keras
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Flatten(),
                              keras.layers.Dense(4096), keras.layers.Dense(3, activation="softmax")])
    plain = bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    assert len(plain) > 3_000_000
    labelled = embed_labels(plain, LABELS, **WORDS)
    image = np.full((1, 8, 8, 3), 128.0, np.float32)
    assert np.array_equal(run_litert(plain, image), run_litert(labelled, image))
    assert embedded_labels(labelled) == LABELS


def test_wrong_number_of_names_or_not_a_model_is_refused(tiny_model):
    with pytest.raises(UserError, match="3 scores but 2 class names"):
        embed_labels(tiny_model, ["a", "b"], **WORDS)
    with pytest.raises(UserError, match="one line"):
        embed_labels(tiny_model, ["a", "b\nc", "d"], **WORDS)
    with pytest.raises(UserError, match="not a TensorFlow Lite model"):
        embed_labels(b"not a model at all", LABELS, **WORDS)
    assert embedded_labels(b"junk") is None
