"""The tf.data input pipeline: files -> decoded, resized 0..255 float images + one-hot labels.

Plain JPEG/PNG/BMP files take TensorFlow's fast native decoders, in parallel. Files
that those would get wrong (EXIF-rotated, CMYK, 16-bit, palette, transparent, GIF,
WebP) are decoded by Pillow (``images.open_rgb``) inside the same pipeline. A file
that fails to decode is dropped, so one bad file never ends an epoch.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from desktop_app.core.data.scan import ImageFile
from desktop_app.core.data.images import load_rgb_array
from desktop_app.core.data.validate import needs_conversion

AUTOTUNE = tf.data.AUTOTUNE


def load_image(path: tf.Tensor, img_size: int) -> tf.Tensor:
    """One plain file (fast path) as a float32 (img_size, img_size, 3) tensor of 0..255 values."""
    data = tf.io.read_file(path)
    image = tf.io.decode_image(data, channels=3, expand_animations=False)
    image = tf.image.resize(image, (img_size, img_size))
    return tf.ensure_shape(image, (img_size, img_size, 3))


def _pillow_decode(path: np.ndarray | bytes) -> np.ndarray:
    raw = path.decode("utf-8", "surrogateescape") if isinstance(path, bytes) else path.item().decode()
    return load_rgb_array(raw)


def load_converted_image(path: tf.Tensor, img_size: int) -> tf.Tensor:
    """One odd file, decoded upright by Pillow, then resized like the fast path."""
    image = tf.numpy_function(_pillow_decode, [path], tf.uint8, stateful=False)
    image = tf.ensure_shape(image, (None, None, 3))
    image = tf.image.resize(image, (img_size, img_size))
    return tf.ensure_shape(image, (img_size, img_size, 3))


def image_dataset(
    paths: Sequence[str | os.PathLike],
    img_size: int,
    shuffle: bool = False,
    seed: int = 42,
) -> tf.data.Dataset:
    """Unbatched ``(image, index)``: each file decoded and resized, ``index`` its position in ``paths``.

    The one decode step of the app (training, evaluation, prediction, export checks): the
    fast native decoders, Pillow for odd files, and a file that fails to decode is dropped
    (the indices keep the survivors aligned with their files). ``shuffle`` shuffles the
    file names before decoding, so the shuffle buffer stays small.
    """
    ds = tf.data.Dataset.from_tensor_slices(_file_table(paths))
    if shuffle:
        ds = ds.shuffle(max(1, len(paths)), seed=seed, reshuffle_each_iteration=True)
    return _decoded(ds, img_size)


def _file_table(paths: Sequence[str | os.PathLike]) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """(file name, index, needs Pillow) of each file, as tensors."""
    # Bytes, not str: a file name that is not valid UTF-8 (old archives, USB sticks) still works.
    encoded = tf.constant([os.fsencode(p) for p in paths], dtype=tf.string)
    indices = tf.range(len(paths), dtype=tf.int64)
    convert = tf.constant(needs_conversion(list(paths)), dtype=tf.bool, shape=(len(paths),))
    return encoded, indices, convert


def _decoded(ds: tf.data.Dataset, img_size: int) -> tf.data.Dataset:
    def decode(path, index, odd):
        image = tf.cond(odd, lambda: load_converted_image(path, img_size), lambda: load_image(path, img_size))
        return image, index

    ds = ds.map(decode, num_parallel_calls=AUTOTUNE, deterministic=True)
    # A file that fails to decode (changed or broken since it was checked) is dropped
    # instead of ending the epoch.
    return ds.ignore_errors()


def epoch_orders(count: int, seed: int, epochs: range) -> np.ndarray:
    """One order of ``count`` photos for each epoch (0-based numbers), from the seed and the
    epoch's number alone: the same whatever runs the dataset (a MirroredStrategy copies a
    dataset, and TensorFlow's own shuffle then starts elsewhere) and when a run resumes."""
    return np.stack([np.random.default_rng([seed, epoch]).permutation(count) for epoch in epochs]
                    ).astype(np.int64).reshape(len(epochs), count)


def training_dataset(
    files: Sequence[ImageFile],
    n_classes: int,
    img_size: int,
    batch_size: int,
    orders: np.ndarray,
) -> tf.data.Dataset:
    """The batches of several epochs, each epoch the files in its row of ``orders`` (``epoch_orders``)
    and batched on its own; repeated, so a file that stopped decoding never ends training early."""
    photos = _photos_in_order(files, n_classes, img_size)
    return (tf.data.Dataset.from_tensor_slices(orders).flat_map(lambda order: photos(order).batch(batch_size))
            .repeat().prefetch(AUTOTUNE))


def _photos_in_order(files: Sequence[ImageFile], n_classes: int, img_size: int):
    """A function of indices into ``files``: those photos, decoded, with one-hot labels, in that order."""
    labels = tf.constant([f.label for f in files], dtype=tf.int32, shape=(len(files),))
    table = _file_table([f.path for f in files])

    def photos(indices):
        ds = _decoded(tf.data.Dataset.from_tensor_slices(tuple(tf.gather(column, indices) for column in table)),
                      img_size)
        return ds.map(lambda image, index: (image, tf.one_hot(tf.gather(labels, index), n_classes)),
                      num_parallel_calls=AUTOTUNE, deterministic=True)

    return photos


def share_batches(
    files: Sequence[ImageFile],
    n_classes: int,
    img_size: int,
    shares: Sequence[np.ndarray],
) -> tf.data.Dataset:
    """Exactly one batch per share (indices into ``files``), in order, even for a share that is
    empty or whose files all failed to decode: in a cluster each replica must take part in
    every step, or the others wait for it without end."""
    photos = _photos_in_order(files, n_classes, img_size)
    empty = tf.data.Dataset.from_tensors((tf.zeros((0, img_size, img_size, 3)), tf.zeros((0, n_classes))))

    def share(indices):
        return photos(indices).batch(max(1, len(files))).concatenate(empty).take(1)

    ragged = tf.ragged.constant([np.asarray(s, dtype=np.int64).tolist() for s in shares], dtype=tf.int64,
                                ragged_rank=1)
    return tf.data.Dataset.from_tensor_slices(ragged).flat_map(share).prefetch(AUTOTUNE)


def make_dataset(
    files: Sequence[ImageFile],
    n_classes: int,
    img_size: int,
    batch_size: int,
    shuffle: bool = False,
    seed: int = 42,
    cache: bool = False,
) -> tf.data.Dataset:
    """Batches of (images, one-hot labels) for ``model.fit``."""
    labels = tf.constant([f.label for f in files], dtype=tf.int32, shape=(len(files),))
    # A cached pipeline holds the decoded images anyway, so it shuffles after the cache
    # (a new order each epoch); otherwise the file names are shuffled before decoding.
    ds = image_dataset([f.path for f in files], img_size, shuffle=shuffle and not cache, seed=seed)
    ds = ds.map(lambda image, index: (image, tf.one_hot(tf.gather(labels, index), n_classes)),
                num_parallel_calls=AUTOTUNE, deterministic=True)
    if cache:
        ds = ds.cache()
        if shuffle:
            ds = ds.shuffle(max(1, len(files)), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(AUTOTUNE)
