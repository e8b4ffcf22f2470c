"""The plot colours stay apart for colour-blind eyes (simulated), and the matrix map is sequential."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from desktop_app.core import palette

# Machado, Oliveira and Fernandes (2009), severity 1.0, applied to linear RGB.
DEUTERANOPIA = np.array([[0.367322, 0.860646, -0.227968],
                         [0.280085, 0.672501, 0.047413],
                         [-0.011820, 0.042940, 0.968881]])
PROTANOPIA = np.array([[0.152286, 1.052583, -0.204868],
                       [0.114503, 0.786281, 0.099216],
                       [-0.003882, -0.048116, 1.051998]])
# CIE76 distance two lines or bars must keep at least. The colours used before this palette
# (a dark blue beside a purple) fell to 15 under deuteranopia.
MIN_DELTA_E = 17.0


def _linear(colour: str) -> np.ndarray:
    c = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _lab(linear_rgb: np.ndarray) -> np.ndarray:
    """CIE L*a*b* (D65) of a linear sRGB colour."""
    to_xyz = np.array([[0.4124564, 0.3575761, 0.1804375],
                       [0.2126729, 0.7151522, 0.0721750],
                       [0.0193339, 0.1191920, 0.9503041]])
    xyz = to_xyz @ np.clip(linear_rgb, 0, 1) / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _seen(colour: str, vision: np.ndarray) -> np.ndarray:
    return _lab(vision @ _linear(colour))


@pytest.mark.parametrize("vision", [np.eye(3), DEUTERANOPIA, PROTANOPIA], ids=["typical", "deuteranopia", "protanopia"])
def test_series_colours_stay_distinguishable(vision):
    assert len(set(palette.SERIES)) == len(palette.SERIES)
    close = [(a, b, round(float(np.linalg.norm(_seen(a, vision) - _seen(b, vision))), 1))
             for a, b in itertools.combinations(palette.SERIES, 2)
             if np.linalg.norm(_seen(a, vision) - _seen(b, vision)) < MIN_DELTA_E]
    assert close == []


def test_the_simulation_tells_red_from_green_apart_only_for_typical_vision():
    """The simulation is the real thing: a red and a green of equal lightness merge for a deuteranope."""
    red, green = "#c85a00", "#6e7d00"
    typical = np.linalg.norm(_seen(red, np.eye(3)) - _seen(green, np.eye(3)))
    deutan = np.linalg.norm(_seen(red, DEUTERANOPIA) - _seen(green, DEUTERANOPIA))
    assert typical > 30 and deutan < 12


@pytest.mark.parametrize("vision", [np.eye(3), DEUTERANOPIA, PROTANOPIA], ids=["typical", "deuteranopia", "protanopia"])
def test_confusion_matrix_colours_darken_steadily_with_the_share_of_photos(vision):
    lightness = [_seen(palette.sequential(f), vision)[0] for f in np.linspace(0, 1, 41)]
    assert all(later < earlier for earlier, later in zip(lightness, lightness[1:]))
    assert palette.sequential(0) == "#ffffff"


def test_cell_text_is_readable_on_its_colour():
    assert palette.text_on(palette.sequential(1.0)) == "#ffffff"
    assert palette.text_on(palette.sequential(0.1)) != "#ffffff"
    assert palette.text_on("#ffffff") != "#ffffff"
