"""Decode any usable image file with Pillow: upright, 8-bit RGB, whatever it was saved as.

TensorFlow's own decoders are fast but ignore EXIF rotation, drop transparency to
black and mishandle CMYK; the files that need care go through here instead (the
pipeline's slow path, thumbnails, previews). No Qt, no TensorFlow.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
from PIL import Image, ImageOps

# We check image sizes ourselves (validation.MAX_PIXELS) and say so in plain words;
# Pillow's own warning would only repeat it in the log.
warnings.simplefilter("ignore", Image.DecompressionBombWarning)

SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I"})
TRANSPARENT_BACKGROUND = (255, 255, 255)


def to_rgb(image: Image.Image) -> Image.Image:
    """An 8-bit RGB copy: 16-bit scaled (Pillow would clip it to white), alpha on white."""
    if image.mode in SIXTEEN_BIT_MODES:
        pixels = np.asarray(image, dtype=np.float64)
        # 16-bit data spans 0..65535; scale it, never clip it.
        pixels = np.clip(pixels / 257.0 + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(pixels, "L").convert("RGB")
    if image.mode == "F":
        pixels = np.asarray(image, dtype=np.float64)
        top = float(pixels.max()) or 1.0
        return Image.fromarray((np.clip(pixels / top, 0, 1) * 255).astype(np.uint8), "L").convert("RGB")
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (*TRANSPARENT_BACKGROUND, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if image.mode != "RGB":
        return image.convert("RGB")  # L, P, CMYK (Pillow inverts Adobe CMYK correctly), YCbCr, 1
    return image


def open_rgb(path: str | os.PathLike, max_side: int | None = None) -> Image.Image:
    """The file as an upright 8-bit RGB image, shrunk to fit ``max_side`` when given.

    With ``max_side`` a JPEG is decoded at reduced scale (much faster for thumbnails).
    Raises OSError / Image errors for files that cannot be decoded.
    """
    with Image.open(path) as image:
        if max_side is not None and image.format == "JPEG":
            image.draft("RGB", (max_side, max_side))
        image.load()
        image = ImageOps.exif_transpose(image)
        image = to_rgb(image)
    if max_side is not None and max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
    return image


def load_rgb_array(path: str | os.PathLike) -> np.ndarray:
    """(height, width, 3) uint8 pixels of the file, upright."""
    return np.asarray(open_rgb(path), dtype=np.uint8)
