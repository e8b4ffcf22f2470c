"""The pretrained bases a user can choose, and what each one needs.

Importing this module does not import TensorFlow; only ``create_base`` does.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace

from desktop_app.core.errors import UserError
from desktop_app.core.session import ModelSettings, Session

DEFAULT_BACKBONE = ModelSettings.backbone  # the session decides the default
BASE_LAYER_NAME = "base_model"  # the base's name inside the classifier

_KERAS_WEIGHTS = "https://storage.googleapis.com/tensorflow/keras-applications/"
# Keras MobileNet v1 spells the width in its file names like this.
_MOBILENET_ALPHA_TEXT = {1.0: "1_0", 0.75: "7_5", 0.5: "5_0", 0.25: "2_5"}


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
    # Where Keras downloads the no-top ImageNet weights, and the name it caches them under
    # in $KERAS_HOME/models. "{alpha}" is str(float(alpha)), "{alpha_v1}" MobileNet's
    # "2_5" style, "{rows}" the input size (only for ``weights_sizes`` families).
    weights_url_dir: str = ""
    weights_file: str = ""
    # Input sizes Keras publishes separate weights for; any other size uses the 224 file.
    weights_sizes: tuple[int, ...] = ()
    # Keras' published hash (md5 or sha256) of the no-top file, per alpha (None: no alpha).
    # Copied from the Keras modules' WEIGHTS_HASHES; tests/core/test_backbones.py checks
    # they still agree with what the installed Keras asks for.
    weights_hashes: tuple[tuple[float | None, str], ...] = ()

    def resolve_alpha(self, alpha: float | None) -> float | None:
        return self.default_alpha if alpha is None else alpha

    def weights_file_name(self, alpha: float | None = None, img_size: int | None = None) -> str:
        """The file name Keras caches this base's ImageNet weights under."""
        alpha = self.resolve_alpha(alpha)
        rows = img_size if img_size in self.weights_sizes else 224
        return self.weights_file.format(
            alpha=str(float(alpha)) if alpha is not None else "",
            alpha_v1=_MOBILENET_ALPHA_TEXT.get(alpha, ""),
            rows=rows,
        )

    def weights_file_names(self, alpha: float | None = None, img_size: int | None = None) -> list[str]:
        """Every cached file that serves this width at ``img_size``, best first: the one Keras
        publishes for that size, then the base's own size, then the others. A no-top file's
        weights have the same shapes at every input size (these bases are all convolutions);
        Keras merely publishes a copy trained at each size."""
        sizes = [img_size, self.default_size, *sorted(self.weights_sizes, reverse=True)]
        return list(dict.fromkeys(self.weights_file_name(alpha, size) for size in sizes))

    def weights_url(self, alpha: float | None = None, img_size: int | None = None) -> str:
        return self.weights_url_dir + self.weights_file_name(alpha, img_size)

    def weights_hash(self, alpha: float | None = None) -> str | None:
        """Keras' published md5/sha256 of the weights file, or None where Keras publishes none."""
        alpha = self.resolve_alpha(alpha)
        return dict(self.weights_hashes).get(alpha if self.alphas else None)

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
        weights_url_dir=_KERAS_WEIGHTS + "efficientnet_v2/", weights_file="efficientnetv2-b0_notop.h5",
        weights_hashes=((None, "893217f2bb855e2983157299931e43ff"),),
    ),
    Backbone(
        "efficientnet_v2_b1", "EfficientNetV2-B1", "EfficientNetV2B1", 240, "builtin",
        "A little bigger and more accurate than B0, a little slower (7 M parameters).",
        weights_url_dir=_KERAS_WEIGHTS + "efficientnet_v2/", weights_file="efficientnetv2-b1_notop.h5",
        weights_hashes=((None, "0e80663031ca32d657f9caa404b6ec37"),),
    ),
    Backbone(
        "efficientnet_v2_b2", "EfficientNetV2-B2", "EfficientNetV2B2", 260, "builtin",
        "More accurate again, noticeably slower on a laptop (9 M parameters).",
        weights_url_dir=_KERAS_WEIGHTS + "efficientnet_v2/", weights_file="efficientnetv2-b2_notop.h5",
        weights_hashes=((None, "1dfe2e7a5d45b6632553a8961ea609eb"),),
    ),
    Backbone(
        "efficientnet_v2_b3", "EfficientNetV2-B3", "EfficientNetV2B3", 300, "builtin",
        "The most accurate EfficientNetV2 here; slow without a graphics card (13 M parameters).",
        weights_url_dir=_KERAS_WEIGHTS + "efficientnet_v2/", weights_file="efficientnetv2-b3_notop.h5",
        weights_hashes=((None, "f6abf7b5849ac99a89b50dd3fd532856"),),
    ),
    Backbone(
        "efficientnet_b0", "EfficientNet-B0", "EfficientNetB0", 224, "builtin",
        "The first EfficientNet: small and accurate (4 M parameters).",
        weights_url_dir="https://storage.googleapis.com/keras-applications/", weights_file="efficientnetb0_notop.h5",
        weights_hashes=((None, "50bc09e76180e00e4465e1a485ddc09d"),),
    ),
    Backbone(
        "mobilenet", "MobileNet", "MobileNet", 224, "minus_one_to_one",
        "Tiny and very fast, made for phones; less accurate (0.2-3 M parameters by width).",
        alphas=(0.25, 0.5, 0.75, 1.0), default_alpha=1.0,
        weights_url_dir=_KERAS_WEIGHTS + "mobilenet/", weights_file="mobilenet_{alpha_v1}_{rows}_tf_no_top.h5",
        weights_sizes=(128, 160, 192, 224),
    ),
    Backbone(
        "mobilenet_v2", "MobileNetV2", "MobileNetV2", 224, "minus_one_to_one",
        "Fast and light, more accurate than MobileNet (0.4-2.3 M parameters by width).",
        alphas=(0.35, 0.5, 0.75, 1.0, 1.3, 1.4), default_alpha=1.0,
        weights_url_dir=_KERAS_WEIGHTS + "mobilenet_v2/",
        weights_file="mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{alpha}_{rows}_no_top.h5",
        weights_sizes=(96, 128, 160, 192, 224),
    ),
    Backbone(
        "mobilenet_v3_small", "MobileNetV3-Small", "MobileNetV3Small", 224, "builtin",
        "The fastest here, for slow computers; least accurate (1 M parameters).",
        alphas=(0.75, 1.0), default_alpha=1.0,
        weights_url_dir=_KERAS_WEIGHTS + "mobilenet_v3/",
        weights_file="weights_mobilenet_v3_small_224_{alpha}_float_no_top_v2.h5",
        weights_hashes=((0.75, "ebdb5cc8e0b497cd13a7c275d475c819"), (1.0, "d3e8ec802a04aa4fc771ee12a9a9b836")),
    ),
    Backbone(
        "mobilenet_v3_large", "MobileNetV3-Large", "MobileNetV3Large", 224, "builtin",
        "Fast and fairly accurate (3 M parameters).",
        alphas=(0.75, 1.0), default_alpha=1.0,
        weights_url_dir=_KERAS_WEIGHTS + "mobilenet_v3/",
        weights_file="weights_mobilenet_v3_large_224_{alpha}_float_no_top_v2.h5",
        weights_hashes=((0.75, "40af19a13ebea4e2ee0c676887f69a2e"), (1.0, "07fb09a5933dd0c8eaafa16978110389")),
    ),
    Backbone(
        "resnet50_v2", "ResNet50V2", "ResNet50V2", 224, "minus_one_to_one",
        "A classic, large network; accurate but heavy (24 M parameters).",
        weights_url_dir=_KERAS_WEIGHTS + "resnet/", weights_file="resnet50v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
        weights_hashes=((None, "fac2f116257151a9d068a22e544a4917"),),
    ),
    Backbone(
        "convnext_tiny", "ConvNeXt-Tiny", "ConvNeXtTiny", 224, "builtin",
        "A modern, large network; very accurate, slow on a laptop (28 M parameters).",
        weights_url_dir=_KERAS_WEIGHTS + "convnext/", weights_file="convnext_tiny_notop.h5",
        weights_hashes=((None, "d547c096cabd03329d7be5562c5e14798aa39ed24b474157cef5e85ab9e49ef1"),),
    ),
]

BACKBONES: dict[str, Backbone] = {b.key: b for b in _ALL}


def get_backbone(key: str) -> Backbone:
    try:
        return BACKBONES[key]
    except KeyError:
        raise UserError(f"Unknown base model {key!r}; choose one of: {', '.join(BACKBONES)}.") from None


def weights_file_owner(file_name: str) -> tuple[Backbone, float | None, int] | None:
    """The base, width and input size whose Keras weights file is called ``file_name``
    (a browser's " (1)" before the suffix allowed), or None for any other name."""
    name = re.sub(r" \(\d+\)(?=\.h5$)", "", file_name)
    for backbone in _ALL:
        for alpha in backbone.alphas or (None,):
            for size in backbone.weights_sizes or (backbone.default_size,):
                if backbone.weights_file_name(alpha, size) == name:
                    return backbone, alpha, size
    return None


def choose_base(session: Session, key: str, alpha: float | None = None) -> None:
    """Put ``session`` on the base ``key``, keeping the width and image size where they still
    apply: ``alpha`` if given, else the current width where the new base has it, else the width
    last used with that base (MobileNet 0.25 -> MobileNetV2 -> MobileNet is 0.25 again)."""
    backbone = get_backbone(key)
    model = session.model
    if model.alpha is not None:
        session.base_widths[model.backbone] = model.alpha
    if alpha is None:
        for candidate in (model.alpha, session.base_widths.get(key)):
            if candidate in backbone.alphas:
                alpha = candidate
                break
    size = model.img_size if model.img_size >= backbone.min_size else backbone.default_size
    session.model = replace(model, backbone=key, alpha=alpha, img_size=size)


def create_base(key: str, img_size: int, weights_file: str | None, alpha: float | None = None):
    """The Keras base model without its top, called ``base_model``.

    ``weights_file`` is a Keras weights file or None (random weights); turning
    "imagenet" into a file is ``weights.resolve_weights``' job.
    """
    import keras

    backbone = get_backbone(key)
    alpha = backbone.default_alpha if alpha is None else alpha
    backbone.check(alpha, img_size)
    kwargs = {"alpha": alpha} if backbone.alphas else {}
    constructor = getattr(keras.applications, backbone.keras_name)
    if weights_file is not None and not os.path.isfile(weights_file):
        raise UserError(f"The weights file {weights_file} does not exist.")
    try:
        model = constructor(include_top=False, weights=weights_file, input_shape=(img_size, img_size, 3), **kwargs)
    except Exception as e:  # Keras raises bare Exception for files that do not fit
        if weights_file is None:
            raise
        raise UserError(_weights_failure(backbone, weights_file, e)) from e
    model.name = BASE_LAYER_NAME
    return model


def _weights_failure(backbone: Backbone, weights: str, error: Exception) -> str:
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
