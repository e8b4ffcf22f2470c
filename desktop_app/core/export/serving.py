"""A SavedModel ready for TensorFlow Serving: ``saved_model/1/`` with two signatures and the labels.

- ``serving_default``: ``images`` float32 (n, size, size, 3), RGB pixel values 0..255, already
  resized; gives ``probabilities`` (n, classes).
- ``serve_image_bytes``: ``image_bytes``, the encoded files (JPEG, PNG, GIF, BMP), decoded
  and squashed to the model's size inside the graph (bilinear, as the app does). It does
  not turn photos by their EXIF orientation nor put transparency on white: the model card says so.
The class names are in the SavedModel's assets (``assets/labels.txt``), in output order.
"""

from __future__ import annotations

from pathlib import Path

VERSION = "1"  # TF Serving loads the highest numbered folder
DEFAULT_SIGNATURE, BYTES_SIGNATURE = "serving_default", "serve_image_bytes"
IMAGES_INPUT, BYTES_INPUT, OUTPUT = "images", "image_bytes", "probabilities"


def write_saved_model(model, folder: Path, labels_file: Path) -> Path:
    """``model`` without random layers (the inference copy); returns ``folder/1``."""
    import tensorflow as tf

    size = int(model.input_shape[1])

    class Serving(tf.Module):
        def __init__(self):
            super().__init__()
            self.model = model
            self.labels = tf.saved_model.Asset(str(labels_file))

        @tf.function(input_signature=[tf.TensorSpec([None, size, size, 3], tf.float32, name=IMAGES_INPUT)])
        def serve(self, images):
            return {OUTPUT: self.model(images, training=False)}

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=BYTES_INPUT)])
        def serve_bytes(self, image_bytes):
            def decode(data):
                image = tf.io.decode_image(data, channels=3, expand_animations=False)
                return tf.image.resize(tf.cast(image, tf.float32), (size, size))  # as data.pipeline.load_image

            images = tf.map_fn(decode, image_bytes, fn_output_signature=tf.TensorSpec([size, size, 3], tf.float32))
            return {OUTPUT: self.model(images, training=False)}

    module = Serving()
    target = folder / VERSION
    tf.saved_model.save(module, str(target), signatures={DEFAULT_SIGNATURE: module.serve,
                                                          BYTES_SIGNATURE: module.serve_bytes})
    return target


def signatures_words(size: int) -> dict:
    """The signatures as the model card lists them."""
    return {
        DEFAULT_SIGNATURE: {"inputs": {IMAGES_INPUT: {"dtype": "float32", "shape": [None, size, size, 3]}},
                            "outputs": {OUTPUT: {"dtype": "float32"}}},
        BYTES_SIGNATURE: {"inputs": {BYTES_INPUT: {"dtype": "string", "shape": [None]}},
                          "outputs": {OUTPUT: {"dtype": "float32"}},
                          "note": "JPEG/PNG/GIF/BMP bytes, decoded and resized inside; EXIF orientation is not "
                                  "applied and transparency is not put on white"},
    }
