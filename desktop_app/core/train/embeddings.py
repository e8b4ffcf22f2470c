"""Fast mode: run the frozen base once, cache its pooled features, train only the head.

With the base frozen and augmentation off, every epoch would push the same images
through the same base; computing the features once makes each later epoch cost only
the head's few thousand multiplications per image.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import keras
import numpy as np

from desktop_app.core.data.pipeline import make_dataset
from desktop_app.core.data.scan import ImageFile
from desktop_app.core.model.builder import POOLING_LAYER_NAME
from desktop_app.core.paths import user_data_dir

CACHE_ENTRIES = 40


def feature_cache_dir() -> Path:
    return user_data_dir() / "feature-cache"


def cache_key(files: Sequence[ImageFile], model_identity: dict) -> str:
    """Changes when a file, its label, the base, its weights or the image size changes."""
    h = hashlib.sha256(json.dumps(model_identity, sort_keys=True).encode())
    for f in files:
        st = os.stat(f.path)
        h.update(os.fsencode(f.path) + f"\0{f.label}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:32]


def weights_identity(weights: str | None) -> str | None:
    """A file path stands for its content's size and time: retrained weights differ."""
    if weights in (None, "imagenet"):
        return weights
    st = os.stat(weights)
    return f"{os.path.abspath(weights)}:{st.st_size}:{st.st_mtime_ns}"


def feature_extractor(model):
    """The classifier up to its pooling layer: augmentation (inactive), preprocessing, base."""
    return keras.Model(model.inputs, model.get_layer(POOLING_LAYER_NAME).output, name="feature_extractor")


def head_model(model):
    """The layers after pooling, as a model on feature vectors that shares their weights."""
    pooling = model.get_layer(POOLING_LAYER_NAME)
    features = keras.Input(shape=pooling.output.shape[1:], name="features")
    x = features
    after = model.layers[model.layers.index(pooling) + 1:]
    for layer in after:
        x = layer(x)
    return keras.Model(features, x, name="head")


def compute_features(
    model,
    files: Sequence[ImageFile],
    n_classes: int,
    img_size: int,
    batch_size: int,
    model_identity: dict,
    report: Callable[[int, int], None] = lambda done, total: None,
    should_stop: Callable[[], bool] = lambda: False,
) -> tuple[np.ndarray, np.ndarray] | None:
    """(features, one-hot labels) for ``files``, from the disk cache when it has them.

    Returns None when ``should_stop`` interrupts the computation.
    """
    path = feature_cache_dir() / f"{cache_key(files, model_identity)}.npz"
    if path.exists():
        try:
            with np.load(path) as cached:
                return cached["features"], cached["labels"]
        except (OSError, ValueError, KeyError):
            path.unlink(missing_ok=True)  # a damaged cache entry is recomputed
    extractor = feature_extractor(model)
    features, labels = [], []
    done = 0
    # Images and labels travel together, so a file that fails to decode drops both.
    for images, onehot in make_dataset(files, n_classes, img_size, batch_size):
        if should_stop():
            return None
        features.append(extractor.predict_on_batch(images))  # compiled, unlike an eager call
        labels.append(onehot.numpy())
        done += len(images)
        report(done, len(files))
    result = (np.concatenate(features), np.concatenate(labels))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.npz")
    np.savez(tmp, features=result[0], labels=result[1])
    os.replace(tmp, path)
    prune_cache(keep=CACHE_ENTRIES)
    return result


def prune_cache(keep: int) -> None:
    """Keep the ``keep`` most recently written entries; features are cheap to recompute."""
    entries = sorted(feature_cache_dir().glob("*.npz"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[keep:]:
        old.unlink(missing_ok=True)
