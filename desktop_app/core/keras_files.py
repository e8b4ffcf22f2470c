"""Keras model files read and put together without TensorFlow (zip + HDF5), and loaded with a
sentence that names the Keras version that wrote one this Keras cannot read.

A ``.keras`` file is a zip of ``config.json``, ``metadata.json`` and ``model.weights.h5``,
whose groups follow the model's layers (``layers/<path>/vars/<i>``) and its optimizer
(``optimizer/vars/<i>``). While the base is frozen, a run's checkpoints hold only the
head that trains (kilobytes, written in milliseconds); ``assemble_classifier`` puts one
together with the whole classifier saved as that phase began, so what a reader gets is
always a whole model.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from desktop_app.core.errors import UserError
from desktop_app.core.fileio import atomic_file

WEIGHTS_MEMBER = "model.weights.h5"


def keras_file_problem(path: Path) -> str | None:
    """Why a .keras file cannot be a whole model, in words; None when it looks whole. A crash,
    a full disk or a copy cut short can leave an empty or broken one."""
    try:
        if Path(path).stat().st_size == 0:
            return "it is empty"
        with zipfile.ZipFile(path) as archive:
            if "config.json" not in archive.namelist():
                return "it is not a Keras model file"
            if archive.testzip() is not None:
                return "it is cut off or damaged"
    except FileNotFoundError:
        return "it is missing"
    except (OSError, zipfile.BadZipFile):
        return "it is not a Keras model file, or it is cut off"
    return None


def saved_by_keras(path: Path) -> str | None:
    """The Keras version that wrote a .keras file (its ``metadata.json``), None if it does not say."""
    import json

    try:
        with zipfile.ZipFile(path) as archive:
            version = json.loads(archive.read("metadata.json")).get("keras_version")
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None
    return str(version) if version else None


def load_keras_model(path: Path, **kwargs):
    """``keras.saving.load_model``; a file another Keras version wrote and this one cannot read is
    said in a sentence naming both versions (a run trained under an older lock, say)."""
    import keras

    try:
        return keras.saving.load_model(path, **kwargs)
    except Exception:
        made_by = saved_by_keras(path)
        if made_by and made_by != keras.__version__:
            raise UserError(f"The model file {path} was saved by Keras {made_by}, and this app has Keras "
                            f"{keras.__version__}, which cannot read it: train the run again here, or open the file "
                            f"with Keras {made_by}.") from None
        raise


def assemble_classifier(whole: Path, head: Path, target: Path, extra: dict[str, bytes] | None = None,
                        leave_out: frozenset[str] = frozenset()) -> None:
    """Write ``target``: the classifier of ``whole`` with the head layers and the optimizer
    state of ``head`` (a model of the layers after pooling, which share their names and
    order with the classifier's top level). ``extra`` members are added to the zip, members
    of ``whole`` named in ``leave_out`` are not copied.
    Atomic: ``target`` is the old file or the new one, never half of it, and synced."""
    import h5py

    with zipfile.ZipFile(whole) as source, zipfile.ZipFile(head) as part:
        weights = io.BytesIO(source.read(WEIGHTS_MEMBER))
        with h5py.File(weights, "r+") as full, h5py.File(io.BytesIO(part.read(WEIGHTS_MEMBER)), "r") as trained:
            for name in trained["layers"]:
                if name == "input_layer":
                    continue
                if name not in full["layers"]:
                    raise ValueError(f"the head's layer {name!r} is not in the whole model")
                del full["layers"][name]
                trained.copy(trained["layers"][name], full["layers"], name)
            if "optimizer" in trained:
                if "optimizer" in full:
                    del full["optimizer"]
                trained.copy(trained["optimizer"], full, "optimizer")
        members = {name: source.read(name) for name in source.namelist()
                   if name != WEIGHTS_MEMBER and name not in leave_out}
    members[WEIGHTS_MEMBER] = weights.getvalue()
    members.update(extra or {})
    with atomic_file(target) as f, zipfile.ZipFile(f, "w") as archive:  # stored, as Keras writes them
        for name, data in members.items():
            archive.writestr(name, data)
