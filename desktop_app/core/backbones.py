"""The pretrained bases a user can choose, and what each one needs.

Importing this module does not import TensorFlow; only ``create_base`` does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from desktop_app.core.errors import UserError

DEFAULT_BACKBONE = "efficientnet_v2_b0"


@dataclass(frozen=True)
class Backbone:
    key: str
    label: str
    keras_name: str  # constructor in keras.applications
    default_size: int
    # "builtin": the Keras model rescales 0..255 itself; "minus_one_to_one": we add a
    # Rescaling layer in front so the classifier still takes plain 0..255 pixels.
    preprocessing: str
    description: str
    alphas: tuple[float, ...] = ()  # width multipliers, for the MobileNets
    default_alpha: float | None = None
    min_size: int = 32

    def check(self, alpha: float | None, img_size: int) -> None:
        if self.alphas and alpha is not None and alpha not in self.alphas:
            choices = ", ".join(str(a) for a in self.alphas)
            raise UserError(f"{self.label} comes in widths {choices}; {alpha} is not one of them.")
        if not self.alphas and alpha not in (None, self.default_alpha):
            raise UserError(f"{self.label} has no width (alpha) setting.")
        if img_size < self.min_size:
            raise UserError(f"{self.label} needs images of at least {self.min_size} pixels, not {img_size}.")


_ALL = [
    Backbone(
        "efficientnet_v2_b0", "EfficientNetV2-B0", "EfficientNetV2B0", 224, "builtin",
        "Small and accurate, the recommended start (6 M parameters).",
    ),
    Backbone(
        "efficientnet_v2_b1", "EfficientNetV2-B1", "EfficientNetV2B1", 240, "builtin",
        "A little bigger and more accurate than B0, a little slower (7 M parameters).",
    ),
    Backbone(
        "efficientnet_v2_b2", "EfficientNetV2-B2", "EfficientNetV2B2", 260, "builtin",
        "More accurate again, noticeably slower on a laptop (9 M parameters).",
    ),
    Backbone(
        "efficientnet_v2_b3", "EfficientNetV2-B3", "EfficientNetV2B3", 300, "builtin",
        "The most accurate EfficientNetV2 here; slow without a graphics card (13 M parameters).",
    ),
    Backbone(
        "efficientnet_b0", "EfficientNet-B0", "EfficientNetB0", 224, "builtin",
        "The first EfficientNet: small and accurate (4 M parameters).",
    ),
    Backbone(
        "mobilenet", "MobileNet", "MobileNet", 224, "minus_one_to_one",
        "Tiny and very fast, made for phones; less accurate (0.2-3 M parameters by width).",
        alphas=(0.25, 0.5, 0.75, 1.0), default_alpha=1.0,
    ),
    Backbone(
        "mobilenet_v2", "MobileNetV2", "MobileNetV2", 224, "minus_one_to_one",
        "Fast and light, more accurate than MobileNet (0.4-2.3 M parameters by width).",
        alphas=(0.35, 0.5, 0.75, 1.0, 1.3, 1.4), default_alpha=1.0,
    ),
    Backbone(
        "mobilenet_v3_small", "MobileNetV3-Small", "MobileNetV3Small", 224, "builtin",
        "The fastest here, for slow computers; least accurate (1 M parameters).",
        alphas=(0.75, 1.0), default_alpha=1.0,
    ),
    Backbone(
        "mobilenet_v3_large", "MobileNetV3-Large", "MobileNetV3Large", 224, "builtin",
        "Fast and fairly accurate (3 M parameters).",
        alphas=(0.75, 1.0), default_alpha=1.0,
    ),
    Backbone(
        "resnet50_v2", "ResNet50V2", "ResNet50V2", 224, "minus_one_to_one",
        "A classic, large network; accurate but heavy (24 M parameters).",
    ),
    Backbone(
        "convnext_tiny", "ConvNeXt-Tiny", "ConvNeXtTiny", 224, "builtin",
        "A modern, large network; very accurate, slow on a laptop (28 M parameters).",
    ),
]

BACKBONES: dict[str, Backbone] = {b.key: b for b in _ALL}


def get_backbone(key: str) -> Backbone:
    try:
        return BACKBONES[key]
    except KeyError:
        raise UserError(f"Unknown base model {key!r}; choose one of: {', '.join(BACKBONES)}.") from None


def create_base(key: str, img_size: int, weights: str | None, alpha: float | None = None):
    """The Keras base model without its top, called ``base_model``.

    ``weights`` is "imagenet", None (random) or the path of a Keras weights file.
    """
    import keras

    backbone = get_backbone(key)
    alpha = backbone.default_alpha if alpha is None else alpha
    backbone.check(alpha, img_size)
    kwargs = {"alpha": alpha} if backbone.alphas else {}
    constructor = getattr(keras.applications, backbone.keras_name)
    if weights not in (None, "imagenet") and not os.path.isfile(weights):
        raise UserError(f"The weights file {weights} does not exist.")
    try:
        model = constructor(include_top=False, weights=weights, input_shape=(img_size, img_size, 3), **kwargs)
    except Exception as e:  # Keras raises bare Exception for download failures
        if weights is None:
            raise
        raise UserError(_weights_failure(backbone, weights, e)) from e
    model.name = "base_model"
    return model


def _weights_failure(backbone: Backbone, weights: str, error: Exception) -> str:
    if weights == "imagenet":
        return (
            f"Could not get the ImageNet weights for {backbone.label}; is this computer offline? "
            "Import a weights file or train without pretrained weights. (" + str(error).splitlines()[0] + ")"
        )
    return (
        f"The file {weights} does not hold weights for {backbone.label} with these settings. "
        "(" + str(error).splitlines()[0] + ")"
    )


def preprocessing_layer(key: str):
    """The layer that maps 0..255 pixels to what the base expects, or None if it does it itself."""
    import keras

    if get_backbone(key).preprocessing == "minus_one_to_one":
        return keras.layers.Rescaling(1.0 / 127.5, offset=-1.0, name="preprocessing")
    return None
