"""The tf.data input pipeline: files -> decoded, resized 0..255 float images + one-hot labels."""

from __future__ import annotations

from collections.abc import Sequence

import tensorflow as tf

from desktop_app.core.dataset import ImageFile

AUTOTUNE = tf.data.AUTOTUNE


def load_image(path: tf.Tensor, img_size: int) -> tf.Tensor:
    """One file as a float32 (img_size, img_size, 3) tensor of 0..255 values."""
    data = tf.io.read_file(path)
    image = tf.io.decode_image(data, channels=3, expand_animations=False)
    image = tf.image.resize(image, (img_size, img_size))
    return tf.ensure_shape(image, (img_size, img_size, 3))


def make_dataset(
    files: Sequence[ImageFile],
    n_classes: int,
    img_size: int,
    batch_size: int,
    shuffle: bool = False,
    seed: int = 42,
    cache: bool = False,
) -> tf.data.Dataset:
    paths = [str(f.path) for f in files]
    labels = [f.label for f in files]
    ds = tf.data.Dataset.from_tensor_slices((paths, labels))
    # Shuffle file names, not decoded images: the buffer stays small. A cached pipeline
    # holds the images anyway, so it shuffles after the cache (a new order each epoch).
    if shuffle and not cache:
        ds = ds.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)
    ds = ds.map(
        lambda p, y: (load_image(p, img_size), tf.one_hot(y, n_classes)),
        num_parallel_calls=AUTOTUNE,
        deterministic=True,
    )
    # A file that fails to decode is dropped instead of ending the epoch.
    ds = ds.ignore_errors()
    if cache:
        ds = ds.cache()
        if shuffle:
            ds = ds.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(AUTOTUNE)
