"""The built-in demo dataset: coloured shapes drawn offline, the same on every machine.

Images are generated (seeded) the first time they are needed and written to the
user's data folder, so nothing binary lives in the repository or the install folder.
"""

from __future__ import annotations

import math
import os
import random
import shutil
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from desktop_app.core.paths import user_data_dir

DEMO_VERSION = 1  # bump when the drawing changes, so old copies are regenerated
DEMO_CLASSES = ("circles", "squares", "stars", "triangles")
IMAGES_PER_CLASS = 60
IMAGE_SIZE = 128
DEMO_SEED = 1234


def demo_dataset_dir() -> Path:
    return user_data_dir() / "demo" / f"shapes-v{DEMO_VERSION}"


def ensure_demo_dataset(target: Path | None = None) -> Path:
    """Return the demo dataset folder, generating it first if it is not there yet."""
    target = Path(target) if target is not None else demo_dataset_dir()
    if _is_complete(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # Draw into a private folder and rename it into place: a half-written dataset is
    # never visible, and two processes racing both end up with the same result.
    staging = Path(tempfile.mkdtemp(prefix=".demo-", dir=target.parent))
    try:
        write_demo_images(staging)
        if target.exists():
            shutil.rmtree(target)  # an incomplete earlier copy
        os.replace(staging, target)
    except OSError:
        if not _is_complete(target):
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _is_complete(folder: Path) -> bool:
    return all(
        len(list((folder / name).glob("*.jpg"))) == IMAGES_PER_CLASS for name in DEMO_CLASSES
    )


def write_demo_images(
    folder: Path, images_per_class: int = IMAGES_PER_CLASS, size: int = IMAGE_SIZE, seed: int = DEMO_SEED
) -> None:
    for class_index, name in enumerate(DEMO_CLASSES):
        class_dir = Path(folder) / name
        class_dir.mkdir(parents=True, exist_ok=True)
        for i in range(images_per_class):
            rng = random.Random(seed * 1_000_003 + class_index * 10_007 + i)
            draw_shape_image(name, rng, size).save(class_dir / f"{name}_{i:03d}.jpg", quality=90)


def draw_shape_image(shape: str, rng: random.Random, size: int) -> Image.Image:
    image = _background(rng, size)
    draw = ImageDraw.Draw(image)
    colour = _bright_colour(rng)
    radius = rng.uniform(0.18, 0.38) * size
    cx = rng.uniform(radius, size - radius)
    cy = rng.uniform(radius, size - radius)
    angle = rng.uniform(0, 2 * math.pi)
    if shape == "circles":
        draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=colour)
    elif shape == "squares":
        draw.polygon(_regular_polygon(cx, cy, radius, 4, angle), fill=colour)
    elif shape == "triangles":
        draw.polygon(_regular_polygon(cx, cy, radius, 3, angle), fill=colour)
    elif shape == "pentagons":  # not a demo class; bench/recipe.py draws a fifth class
        draw.polygon(_regular_polygon(cx, cy, radius, 5, angle), fill=colour)
    elif shape == "stars":
        draw.polygon(_star(cx, cy, radius, angle), fill=colour)
    else:
        raise ValueError(f"unknown demo shape {shape!r}")
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.0, 1.2)))
    noise = np.random.default_rng(rng.randrange(2**32)).normal(0, rng.uniform(3, 14), (size, size, 3))
    pixels = np.clip(np.asarray(image, dtype=np.float32) + noise, 0, 255).astype(np.uint8)
    return Image.fromarray(pixels, "RGB")


def _background(rng: random.Random, size: int) -> Image.Image:
    top, bottom = _dull_colour(rng), _dull_colour(rng)
    t = np.linspace(0.0, 1.0, size, dtype=np.float32)[:, None, None]
    rows = (1 - t) * np.array(top, np.float32) + t * np.array(bottom, np.float32)
    return Image.fromarray(np.repeat(rows, size, axis=1).astype(np.uint8), "RGB")


def _bright_colour(rng: random.Random) -> tuple[int, int, int]:
    h = rng.random()
    r, g, b = (int(255 * max(0.0, min(1.0, abs((h * 6 + k) % 6 - 3) - 1))) for k in (0, 4, 2))
    return r, g, b


def _dull_colour(rng: random.Random) -> tuple[int, int, int]:
    base = rng.randint(40, 170)
    return tuple(max(0, min(255, base + rng.randint(-30, 30))) for _ in range(3))  # type: ignore[return-value]


def _regular_polygon(cx: float, cy: float, r: float, n: int, angle: float) -> list[tuple[float, float]]:
    return [(cx + r * math.cos(angle + 2 * math.pi * k / n), cy + r * math.sin(angle + 2 * math.pi * k / n)) for k in range(n)]


def _star(cx: float, cy: float, r: float, angle: float) -> list[tuple[float, float]]:
    points = []
    for k in range(10):
        rk = r if k % 2 == 0 else r * 0.42
        a = angle + math.pi * k / 5
        points.append((cx + rk * math.cos(a), cy + rk * math.sin(a)))
    return points
