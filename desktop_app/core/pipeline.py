"""The tf.data input pipeline: files -> decoded, resized 0..255 float images + one-hot labels.

Plain JPEG/PNG/BMP files take TensorFlow's fast native decoders, in parallel. Files
that those would get wrong (EXIF-rotated, CMYK, 16-bit, palette, transparent, GIF,
WebP) are decoded by Pillow (``images.open_rgb``) inside the same pipeline. A file
that fails to decode is dropped, so one bad file never ends an epoch.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from desktop_app.core.dataset import ImageFile
from desktop_app.core.images import load_rgb_array
from desktop_app.core.validation import needs_conversion

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
    convert = needs_conversion([f.path for f in files])
    ds = tf.data.Dataset.from_tensor_slices((paths, labels, convert))
    # Shuffle file names, not decoded images: the buffer stays small. A cached pipeline
    # holds the images anyway, so it shuffles after the cache (a new order each epoch).
    if shuffle and not cache:
        ds = ds.shuffle(max(1, len(paths)), seed=seed, reshuffle_each_iteration=True)

    def decode(path, label, odd):
        image = tf.cond(odd, lambda: load_converted_image(path, img_size), lambda: load_image(path, img_size))
        return image, tf.one_hot(label, n_classes)

    ds = ds.map(decode, num_parallel_calls=AUTOTUNE, deterministic=True)
    # A file that fails to decode (changed or broken since it was checked) is dropped
    # instead of ending the epoch.
    ds = ds.ignore_errors()
    if cache:
        ds = ds.cache()
        if shuffle:
            ds = ds.shuffle(max(1, len(paths)), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(AUTOTUNE)
