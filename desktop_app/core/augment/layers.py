"""The Keras layers of an ``AugmentationSpec``: the ``data_augmentation`` block.

The block is a ``keras.Sequential`` used as the first layer of the classifier, so it
runs only in training (Keras' preprocessing layers pass images through unchanged when
called with ``training=False``). The augment preview runs the very same block.
"""

from __future__ import annotations

from typing import Any

from desktop_app.core.augment.spec import FILL_MODE, AugmentationSpec

AUGMENTATION_LAYER_NAME = "data_augmentation"

# The seed of each layer is the block's seed plus this offset; reseed() relies on it.
LAYER_SEED_OFFSETS = {
    "flip": 0, "rotation": 1, "zoom": 2, "stretch_height": 3, "stretch_width": 4,
    "translation": 5, "contrast": 6, "brightness": 7, "flip_vertical": 8,
}


def build_augmentation(spec: AugmentationSpec, seed: int | None = None):
    """The ``keras.Sequential`` for ``spec``, or None when it would change nothing."""
    import keras

    def layer_seed(name: str) -> int | None:
        return None if seed is None else seed + LAYER_SEED_OFFSETS[name]

    layers: list[Any] = []
    if spec.flip == "horizontal_and_vertical":
        # Keras 3's RandomFlip("horizontal_and_vertical") tosses one coin for both axes,
        # which only ever turns a photo half a turn; two layers flip each axis on its own.
        layers.append(keras.layers.RandomFlip("horizontal", seed=layer_seed("flip"), name="flip"))
        layers.append(keras.layers.RandomFlip("vertical", seed=layer_seed("flip_vertical"), name="flip_vertical"))
    elif spec.flip != "none":
        layers.append(keras.layers.RandomFlip(spec.flip, seed=layer_seed("flip"), name="flip"))
    if spec.rotation:
        layers.append(keras.layers.RandomRotation(spec.rotation, fill_mode=FILL_MODE, seed=layer_seed("rotation"),
                                                  name="rotation"))
    if spec.zoom:
        layers.append(keras.layers.RandomZoom(spec.zoom, fill_mode=FILL_MODE, seed=layer_seed("zoom"), name="zoom"))
    # Stretching through one-axis zoom keeps the image size the base model expects,
    # unlike RandomHeight / RandomWidth.
    if spec.stretch_height:
        layers.append(
            keras.layers.RandomZoom(spec.stretch_height, 0.0, fill_mode=FILL_MODE, seed=layer_seed("stretch_height"),
                                    name="stretch_height")
        )
    if spec.stretch_width:
        layers.append(
            keras.layers.RandomZoom(0.0, spec.stretch_width, fill_mode=FILL_MODE, seed=layer_seed("stretch_width"),
                                    name="stretch_width")
        )
    if spec.translation:
        layers.append(
            keras.layers.RandomTranslation(
                spec.translation, spec.translation, fill_mode=FILL_MODE, seed=layer_seed("translation"),
                name="translation",
            )
        )
    if spec.contrast:
        layers.append(keras.layers.RandomContrast(spec.contrast, seed=layer_seed("contrast"), name="contrast"))
    if spec.brightness:
        layers.append(
            keras.layers.RandomBrightness(
                spec.brightness, value_range=(0, 255), seed=layer_seed("brightness"), name="brightness"
            )
        )
    if not layers:
        return None
    return keras.Sequential(layers, name=AUGMENTATION_LAYER_NAME)


def fill_modes(block) -> list[str]:
    """The fill modes ``block``'s layers use: a block loaded from an older run may differ."""
    return sorted({layer.get_config()["fill_mode"] for layer in block.layers if "fill_mode" in layer.get_config()})


def seed_generators(block) -> list[tuple[Any, list, int]]:
    """(layer, its Keras seed generators, its seed offset) for each layer of ``block``."""
    import keras

    return [(layer, [v for v in vars(layer).values() if isinstance(v, keras.random.SeedGenerator)],
             LAYER_SEED_OFFSETS[layer.name]) for layer in block.layers]


def reseed(block, seed: int) -> None:
    """Put every random layer of ``block`` back to the state ``build_augmentation(spec, seed)``
    starts in, so a cached block draws exactly what a freshly built one would."""
    import numpy as np

    for _layer, generators, offset in seed_generators(block):
        for generator in generators:
            generator.state.assign(np.array([seed + offset, 0]).astype(generator.state.dtype))
