"""The colours of every plot, chart and confusion matrix, safe for colour-blind eyes.

Series colours come from Okabe and Ito's palette ("Color Universal Design", 2008), chosen
so that each pair stays apart under deuteranopia, protanopia and tritanopia; the
confusion matrix uses cividis (Nuñez et al. 2018), a sequential map whose lightness
rises steadily, so it reads the same with any colour vision. Plain hex strings, no Qt:
the window's plots and the lab report (made in core) share them.
"""

from __future__ import annotations

# Okabe-Ito.
BLACK = "#000000"
ORANGE = "#e69f00"
SKY_BLUE = "#56b4e9"
BLUISH_GREEN = "#009e73"
YELLOW = "#f0e442"
BLUE = "#0072b2"
VERMILLION = "#d55e00"
REDDISH_PURPLE = "#cc79a7"

# What each colour means, wherever it is drawn.
TRAINING = BLUE  # training curves, training photos
VALIDATION = VERMILLION  # validation curves, photos kept aside to check the model
PER_STEP = SKY_BLUE  # the smoothed per-step loss, behind the per-epoch points
PHASE = BLUISH_GREEN  # the line where fine-tuning starts
PHASE_TEXT = "#006e50"  # BLUISH_GREEN darkened: its label stays readable (contrast > 4.5 on white)
COMPARISON = (REDDISH_PURPLE, BLACK, ORANGE)  # earlier runs, dashed

# Every colour that must be told apart from the others on one plot (tests/core/test_palette.py).
SERIES = (TRAINING, VALIDATION, PER_STEP, PHASE, *COMPARISON)

# cividis, from the empty end (light yellow) to the full end (dark blue), nine even stops.
_CIVIDIS_LIGHT_TO_DARK = ("#ffea46", "#e0cb5e", "#bdaf6f", "#9b9477", "#7d7c78",
                          "#61646f", "#414d6b", "#05366e", "#00204d")


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def sequential(fraction: float) -> str:
    """The confusion-matrix colour for a cell holding ``fraction`` of its row: white when
    empty, then cividis from light yellow (a few photos) to dark blue (all of them)."""
    fraction = min(1.0, max(0.0, float(fraction)))
    if fraction == 0:
        return "#ffffff"
    position = fraction * (len(_CIVIDIS_LIGHT_TO_DARK) - 1)
    low = min(int(position), len(_CIVIDIS_LIGHT_TO_DARK) - 2)
    t = position - low
    a, b = _rgb(_CIVIDIS_LIGHT_TO_DARK[low]), _rgb(_CIVIDIS_LIGHT_TO_DARK[low + 1])
    r, g, bl = (round(x + (y - x) * t) for x, y in zip(a, b))
    return f"#{r:02x}{g:02x}{bl:02x}"


def text_on(background: str) -> str:
    """Black or white, whichever reads better on ``background`` (WCAG relative luminance)."""
    def linear(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in _rgb(background))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    # Contrast with white: 1.05 / (L + 0.05); with black: (L + 0.05) / 0.05.
    return "#ffffff" if 1.05 / (luminance + 0.05) > (luminance + 0.05) / 0.05 else "#212529"
