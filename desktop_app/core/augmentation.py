"""The data-augmentation block: a JSON-friendly spec and the Keras layers built from it.

The block is a ``keras.Sequential`` named ``data_augmentation`` used as the first layer
of the classifier, so it runs only in training (Keras' preprocessing layers pass images
through unchanged when called with ``training=False``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

FLIP_MODES = ("none", "horizontal", "vertical", "horizontal_and_vertical")
PRESETS = ("none", "light", "strong")


@dataclass(frozen=True)
class AugmentationSpec:
    """Each strength is a fraction; 0 switches that layer off.

    rotation is a fraction of a full turn (0.1 = up to +/-36 degrees); zoom, stretch and
    translation are fractions of the image size; contrast and brightness are fractions
    of the value range.
    """

    flip: str = "none"
    rotation: float = 0.0
    zoom: float = 0.0
    stretch_height: float = 0.0
    stretch_width: float = 0.0
    translation: float = 0.0
    contrast: float = 0.0
    brightness: float = 0.0

    def __post_init__(self) -> None:
        if self.flip not in FLIP_MODES:
            raise ValueError(f"flip must be one of {', '.join(FLIP_MODES)}, not {self.flip!r}")
        for f in fields(self):
            if f.name != "flip":
                value = getattr(self, f.name)
                if not 0.0 <= float(value) <= 1.0:
                    raise ValueError(f"{f.name} must be between 0 and 1, not {value!r}")

    @property
    def is_identity(self) -> bool:
        return self == AugmentationSpec()

    @classmethod
    def preset(cls, name: str) -> AugmentationSpec:
        name = name.lower()
        if name == "none":
            return cls()
        if name == "light":  # the reference notebook's block
            return cls(flip="horizontal", rotation=0.2, zoom=0.2, stretch_height=0.2, stretch_width=0.2)
        if name == "strong":
            return cls(
                flip="horizontal", rotation=0.3, zoom=0.3, stretch_height=0.3, stretch_width=0.3,
                translation=0.15, contrast=0.3, brightness=0.2,
            )
        raise ValueError(f"unknown augmentation preset {name!r}; choose one of {', '.join(PRESETS)}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AugmentationSpec:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown augmentation setting(s): {', '.join(sorted(unknown))}")
        return cls(**data)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_json(cls, text: str) -> AugmentationSpec:
        return cls.from_dict(json.loads(text))

    def with_changes(self, **changes: Any) -> AugmentationSpec:
        return replace(self, **changes)


def build_augmentation(spec: AugmentationSpec, seed: int | None = None):
    """The ``keras.Sequential`` for ``spec``, or None when it would change nothing."""
    import keras

    def layer_seed(i: int) -> int | None:
        return None if seed is None else seed + i

    layers: list[Any] = []
    if spec.flip != "none":
        layers.append(keras.layers.RandomFlip(spec.flip, seed=layer_seed(0), name="flip"))
    if spec.rotation:
        layers.append(keras.layers.RandomRotation(spec.rotation, seed=layer_seed(1), name="rotation"))
    if spec.zoom:
        layers.append(keras.layers.RandomZoom(spec.zoom, seed=layer_seed(2), name="zoom"))
    # Stretching through one-axis zoom keeps the image size the base model expects,
    # unlike RandomHeight / RandomWidth.
    if spec.stretch_height:
        layers.append(
            keras.layers.RandomZoom(spec.stretch_height, 0.0, seed=layer_seed(3), name="stretch_height")
        )
    if spec.stretch_width:
        layers.append(
            keras.layers.RandomZoom(0.0, spec.stretch_width, seed=layer_seed(4), name="stretch_width")
        )
    if spec.translation:
        layers.append(
            keras.layers.RandomTranslation(
                spec.translation, spec.translation, seed=layer_seed(5), name="translation"
            )
        )
    if spec.contrast:
        layers.append(keras.layers.RandomContrast(spec.contrast, seed=layer_seed(6), name="contrast"))
    if spec.brightness:
        layers.append(
            keras.layers.RandomBrightness(
                spec.brightness, value_range=(0, 255), seed=layer_seed(7), name="brightness"
            )
        )
    if not layers:
        return None
    return keras.Sequential(layers, name="data_augmentation")
