"""The data-augmentation settings: a JSON-friendly spec, presets, and their plain words.

``augment.layers`` turns a spec into the Keras block the model trains with. No TensorFlow.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

FLIP_MODES = ("none", "horizontal", "vertical", "horizontal_and_vertical")
PRESETS = ("none", "light", "strong")

FLIP_WORDS = {
    "none": "off",
    "horizontal": "mirrored left-right, at random",
    "vertical": "turned upside down (mirrored top-bottom), at random",
    "horizontal_and_vertical": "mirrored left-right and top-bottom, each at random",
}
# What fills the corners a turn, a zoom out or a shift uncovers. Keras' default, "reflect",
# mirrors the photo into them, so an object near the edge shows up twice (ghost shapes);
# "nearest" repeats the edge pixels, which continues the background instead.
FILL_MODE = "nearest"
FILL_WORDS = ("Corners that a turn, zoom or shift uncovers are filled with the colours at the photo's edge, "
              "not with a mirrored copy of the photo.")
FLIP_TITLES = {
    "horizontal": "Left-right",
    "vertical": "Top-bottom",
    "horizontal_and_vertical": "Both ways",
}


def _percent(value: float) -> str:
    return f"{value * 100:.0f} %"


def turn(degrees: float) -> float:
    """A rotation of up to ±``degrees`` as the spec stores it: a fraction of a full turn."""
    return round(degrees / 360, 6)


@dataclass(frozen=True)
class Setting:
    """One numeric strength of the spec, with the words a student reads next to its control."""

    name: str  # the AugmentationSpec field
    title: str
    help: str  # a plain-words tooltip
    maximum: float  # the strongest a slider offers (the spec itself allows up to 1)
    default: float  # a sensible strength when a student switches the layer on
    step: float
    words: Callable[[float], str]

    def describe(self, value: float) -> str:
        return "off" if not value else self.words(value)


SETTINGS: tuple[Setting, ...] = (
    # Keras' RandomRotation takes a fraction of a full turn (0.1 = ±36°): the slider moves
    # in whole degrees, and the words say the degrees Keras really turns by.
    Setting("rotation", "Rotate",
            "Turns each copy by a random angle, as if the camera was tilted.",
            0.5, turn(10), 1 / 360, lambda v: f"turn up to ±{v * 360:.0f}°"),
    Setting("zoom", "Zoom",
            "Zooms in or out by a random amount, as if the photo was taken closer or further away.",
            0.5, 0.2, 0.01, lambda v: f"zoom in or out by up to {_percent(v)}"),
    Setting("stretch_height", "Stretch height",
            "Stretches or squashes each copy from top to bottom; the picture size stays the same.",
            0.5, 0.2, 0.01, lambda v: f"stretch or squash the height up to {_percent(v)}"),
    Setting("stretch_width", "Stretch width",
            "Stretches or squashes each copy from side to side; the picture size stays the same.",
            0.5, 0.2, 0.01, lambda v: f"stretch or squash the width up to {_percent(v)}"),
    Setting("translation", "Shift",
            "Moves the picture up, down, left or right, as if the object was not in the middle.",
            0.5, 0.1, 0.01, lambda v: f"move up to {_percent(v)} of the size, any direction"),
    Setting("contrast", "Contrast",
            "Makes the difference between light and dark parts stronger or weaker.",
            0.9, 0.2, 0.01, lambda v: f"contrast up or down by up to {_percent(v)}"),
    Setting("brightness", "Brightness",
            "Makes each copy brighter or darker, as if the light in the room changed.",
            0.9, 0.2, 0.01, lambda v: f"brighter or darker by up to {_percent(v)}"),
)
SETTINGS_BY_NAME = {s.name: s for s in SETTINGS}

PRESET_VALUES: dict[str, dict[str, Any]] = {
    "none": {},
    "light": dict(flip="horizontal", rotation=turn(10), zoom=0.1, stretch_height=0.1, stretch_width=0.1),
    "strong": dict(flip="horizontal", rotation=turn(30), zoom=0.3, stretch_height=0.3, stretch_width=0.3,
                   translation=0.15, contrast=0.3, brightness=0.2),
}
# What the names meant before the presets turned photos by whole degrees ("light" was the
# reference notebook's block, ±72°): files that name a preset instead of its values (projects
# of schema 0, run configs of version 1) keep what they were trained with.
FIRST_PRESET_VALUES: dict[str, dict[str, Any]] = {
    "none": {},
    "light": dict(flip="horizontal", rotation=0.2, zoom=0.2, stretch_height=0.2, stretch_width=0.2),
    "strong": dict(flip="horizontal", rotation=0.3, zoom=0.3, stretch_height=0.3, stretch_width=0.3,
                   translation=0.15, contrast=0.3, brightness=0.2),
}


@dataclass(frozen=True)
class AugmentationSpec:
    """Each strength is a fraction; 0 switches that layer off.

    rotation is a fraction of a full turn, as Keras' RandomRotation takes it (0.1 = up to
    +/-36 degrees; ``turn(10)`` = up to +/-10 degrees); zoom, stretch and
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
            if f.name == "flip":
                continue
            value = getattr(self, f.name)
            # bool is an int to Python, but "rotation": true in a JSON file is a mistake.
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{f.name} must be a number between 0 and 1, not {value!r}")
            if not (math.isfinite(value) and 0.0 <= value <= 1.0):
                raise ValueError(f"{f.name} must be between 0 and 1, not {value!r}")
            # Always floats, so specs compare equal and JSON round-trips exactly.
            object.__setattr__(self, f.name, float(value))

    @property
    def is_identity(self) -> bool:
        return self == AugmentationSpec()

    @classmethod
    def preset(cls, name: str, first_meaning: bool = False) -> AugmentationSpec:
        """A preset by name; ``first_meaning``: as an old file that names it meant it."""
        values = (FIRST_PRESET_VALUES if first_meaning else PRESET_VALUES).get(name.lower())
        if values is None:
            raise ValueError(f"unknown augmentation preset {name!r}; choose one of {', '.join(PRESETS)}")
        return cls(**values)

    def preset_name(self) -> str | None:
        """The preset this spec equals, or None for a custom mix."""
        return next((name for name in PRESETS if self == AugmentationSpec.preset(name)), None)

    def active(self) -> list[str]:
        """The settings switched on, in the order the block applies them."""
        return (["flip"] if self.flip != "none" else []) + [s.name for s in SETTINGS if getattr(self, s.name)]

    def describe(self) -> list[str]:
        """One line in plain words per active layer, in the order the block applies them."""
        lines = [f"Flip: {FLIP_WORDS[self.flip]}" if name == "flip" else
                 f"{SETTINGS_BY_NAME[name].title}: {SETTINGS_BY_NAME[name].describe(getattr(self, name))}"
                 for name in self.active()]
        return lines or ["No augmentation: the model sees every photo unchanged."]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AugmentationSpec:
        if not isinstance(data, dict):
            raise ValueError("augmentation settings must be a JSON object such as {\"rotation\": 0.1}")
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


def describe_setting(name: str, value: float | str) -> str:
    """The plain words for one setting's value, e.g. ("rotation", 0.1) -> "turn up to ±36°"."""
    if name == "flip":
        return FLIP_WORDS[str(value)]
    return SETTINGS_BY_NAME[name].describe(float(value))
