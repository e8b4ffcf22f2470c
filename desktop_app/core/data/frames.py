"""Camera frames as photos: one centre crop for saved photos and live predictions alike,
and the JPEG a captured frame becomes in its class folder. No Qt, no TensorFlow."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import numpy as np
from PIL import Image

from desktop_app.core.fileio import atomic_file

CAPTURE_PREFIX = "capture-"  # captured photos are named so, and listed in the project
JPEG_QUALITY = 92
_counter = itertools.count()


def centre_square(image: Image.Image | np.ndarray) -> Image.Image:
    """The largest centred square of a frame, as RGB: what both capture and live prediction use,
    so a photo saved from the camera looks to the model as the live frame did."""
    if isinstance(image, np.ndarray):
        image = Image.fromarray(np.ascontiguousarray(image[..., :3]).astype(np.uint8), "RGB")
    image = image.convert("RGB")
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    return image.crop((left, top, left + side, top + side))


def capture_name(when: float | None = None) -> str:
    """A new captured photo's file name, unique within this process and sortable by time."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(when))
    return f"{CAPTURE_PREFIX}{stamp}-{next(_counter) % 100000:05d}.jpg"


def save_frame(folder: Path, frame: Image.Image | np.ndarray, max_side: int = 640) -> Path:
    """Save ``frame``'s centre square into ``folder`` (a class folder) as a JPEG, whole or not at
    all (a crash never leaves half a photo for the next scan); returns its path."""
    square = centre_square(frame)
    if square.width > max_side:
        square = square.resize((max_side, max_side), Image.Resampling.BILINEAR)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / capture_name()
    while path.exists():
        path = folder / capture_name()
    with atomic_file(path) as temporary:
        square.save(temporary, "JPEG", quality=JPEG_QUALITY)
    return path
