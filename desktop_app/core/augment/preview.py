"""The augmentation preview: a real image through the very block the model trains with.

Used by the Augment page (through the engine) and by ``transfer-studio augment-preview``,
so both show the same grid for the same image, settings and seed. No Qt here; Keras is
imported only when a preview is computed.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from desktop_app.core.augment.spec import AugmentationSpec
from desktop_app.core.errors import UserError
from desktop_app.core.data.images import open_rgb  # upright, alpha on white: as the pipeline reads it

PREVIEW_SIZE = 224  # the input size of the default base models
N_VARIANTS = 9
GRID_COLUMNS = 3


@dataclass
class Preview:
    original: np.ndarray  # uint8 (size, size, 3)
    variants: list[np.ndarray]  # uint8, each like original
    spec: AugmentationSpec
    seed: int
    seconds: float  # time spent in the augmentation block


def load_preview_image(path: str | Path, size: int = PREVIEW_SIZE) -> np.ndarray:
    """The image as the model gets it: upright RGB, squashed to ``size`` x ``size``, uint8."""
    path = Path(path)
    try:
        # Decoding at twice the size keeps big photos fast and the squash to a square sharp.
        image = open_rgb(path, max_side=2 * size).resize((size, size), Image.Resampling.BILINEAR)
    except FileNotFoundError:
        raise UserError(f"The image {path} does not exist.") from None
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise UserError(f"Could not open {path.name} as an image ({e}).") from None
    return np.asarray(image, dtype=np.uint8)


class _BlockCache:
    """Built blocks per spec: dragging back to a setting, or new seeds, rebuild nothing.

    A block's random state is reset before every use, so a cached block draws exactly
    what a fresh ``build_augmentation(spec, seed)`` would. The lock keeps reset and call
    together when two threads preview at once (the CLI and tests may).
    """

    def __init__(self, max_size: int = 8):
        self._blocks: OrderedDict[AugmentationSpec, object] = OrderedDict()
        self._max_size = max_size
        self.lock = threading.Lock()

    def get(self, spec: AugmentationSpec):
        from desktop_app.core.augment.layers import build_augmentation

        if spec in self._blocks:
            self._blocks.move_to_end(spec)
            return self._blocks[spec]
        block = build_augmentation(spec, seed=0)
        self._blocks[spec] = block
        if len(self._blocks) > self._max_size:
            self._blocks.popitem(last=False)
        return block


_cache = _BlockCache()


def augment_copies(image: np.ndarray, spec: AugmentationSpec, seed: int = 0, n: int = N_VARIANTS) -> list[np.ndarray]:
    """``n`` augmented copies of ``image`` (uint8 HxWx3), as one batch with training=True."""
    from desktop_app.core.augment.layers import reseed

    batch = np.repeat(image[np.newaxis].astype(np.float32), n, axis=0)
    with _cache.lock:
        block = _cache.get(spec)
        if block is None:  # nothing switched on: the model sees the photo unchanged
            out = batch
        else:
            reseed(block, seed)
            out = np.asarray(block(batch, training=True))
    out = np.clip(np.rint(out), 0, 255).astype(np.uint8)
    return list(out)


def render_preview(
    image: str | Path | np.ndarray,
    spec: AugmentationSpec,
    seed: int = 0,
    n: int = N_VARIANTS,
    size: int = PREVIEW_SIZE,
) -> Preview:
    original = image if isinstance(image, np.ndarray) else load_preview_image(image, size)
    start = time.perf_counter()
    variants = augment_copies(original, spec, seed, n)
    return Preview(original, variants, spec, seed, time.perf_counter() - start)


def grid_geometry(tile: int, n: int = N_VARIANTS, columns: int = GRID_COLUMNS) -> dict[str, int]:
    """Where things go in the grid: the original on the left, the variants to its right."""
    gap = max(4, tile // 32)
    rows = -(-n // columns)
    margin = 2 * gap
    caption = max(14, tile // 9) + gap
    return {
        "gap": gap, "rows": rows, "columns": columns, "margin": margin, "caption": caption,
        "divider": 6 * gap,
        "width": 2 * margin + tile + 6 * gap + columns * tile + (columns - 1) * gap,
        "height": 2 * margin + caption + rows * tile + (rows - 1) * gap,
    }


def grid_image(preview: Preview, columns: int = GRID_COLUMNS, captions: bool = True) -> Image.Image:
    """The page's layout as one picture: the original, then the augmented copies."""
    tile = preview.original.shape[0]
    g = grid_geometry(tile, len(preview.variants), columns)
    canvas = Image.new("RGB", (g["width"], g["height"]), (244, 246, 250))
    draw = ImageDraw.Draw(canvas)
    top = g["margin"] + g["caption"]
    canvas.paste(Image.fromarray(preview.original), (g["margin"], top))
    left = g["margin"] + tile + g["divider"]
    for i, variant in enumerate(preview.variants):
        row, col = divmod(i, columns)
        canvas.paste(Image.fromarray(variant), (left + col * (tile + g["gap"]), top + row * (tile + g["gap"])))
    if captions:
        font = ImageFont.load_default(size=g["caption"] - g["gap"])
        ink = (31, 59, 99)
        draw.text((g["margin"], g["margin"]), "Original", fill=ink, font=font)
        draw.text(
            (left, g["margin"]),
            f"{len(preview.variants)} random training versions (seed {preview.seed})",
            fill=ink, font=font,
        )
    return canvas
