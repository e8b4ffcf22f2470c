"""A folder of bad and odd files, built fresh for the tests that must survive it.

``build_bad_corpus(root)`` returns what each file should be judged: for usable files
the note validation gives, for unusable ones the problem code.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from conftest import write_image

RED, BLUE = (220, 40, 40), (40, 60, 220)


@dataclass(frozen=True)
class Expected:
    usable: bool
    code: str  # problem code when unusable, a word of the note when usable ("" = a plain image)


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a huge size: Pillow learns it from the header, nothing is decoded."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def _jpeg_bytes(colour, size=32, mode="RGB") -> bytes:
    rng = np.random.default_rng(7)
    pixels = np.clip(np.array(colour) + rng.normal(0, 40, (size, size, 3)), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).convert(mode).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def rotated_jpeg(path: Path) -> Path:
    """Stored sideways with EXIF orientation 6 (turn 90 degrees clockwise to view):
    upright it is 20 wide, 40 tall, red on top and blue at the bottom."""
    upright = np.zeros((40, 20, 3), np.uint8)
    upright[:20] = RED
    upright[20:] = BLUE
    stored = Image.fromarray(upright).transpose(Image.Transpose.ROTATE_90)  # what the camera saved
    exif = Image.Exif()
    exif[0x0112] = 6
    stored.save(path, "JPEG", quality=95, exif=exif.tobytes())
    return path


def build_bad_corpus(root: Path, normal_per_class: int = 4) -> dict[str, Expected]:
    """ROOT/alpha, ROOT/beta (usable classes), ROOT/empty_class; returns {relative path: Expected}."""
    alpha, beta = root / "alpha", root / "beta"
    expected: dict[str, Expected] = {}
    for c, (folder, colour) in enumerate(((alpha, RED), (beta, BLUE))):
        for i in range(normal_per_class):
            write_image(folder / f"plain_{i}.jpg", colour, 24, seed=c * 100 + i)
            expected[f"{folder.name}/plain_{i}.jpg"] = Expected(True, "")

    def add(rel: str, usable: bool, code: str) -> Path:
        expected[rel] = Expected(usable, code)
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    # Unusable.
    add("alpha/empty.jpg", False, "empty").write_bytes(b"")
    whole = _jpeg_bytes(RED, 64)
    add("alpha/truncated.jpg", False, "corrupt").write_bytes(whole[: len(whole) * 2 // 3])  # cut mid-picture
    add("alpha/notes.jpg", False, "not_image").write_text("shopping list: apples, pears\n", encoding="utf-8")
    add("beta/damaged.png", False, "corrupt").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(200))
    Image.new("RGB", (16, 16), BLUE).save(add("beta/scan.tif", False, "unsupported"), "TIFF")
    Image.new("RGB", (16, 16), BLUE).save(add("beta/tiff_inside.png", False, "unsupported"), "TIFF")
    add("beta/bomb.png", False, "too_large").write_bytes(_png_header_only(40_000, 40_000))
    locked = write_image(add("alpha/locked.jpg", False, "unreadable"), RED)
    locked.chmod(0)
    os.symlink("self_link.jpg", add("beta/self_link.jpg", False, "link_loop"))

    # Odd but usable.
    write_image(add("alpha/gray.png", True, "grayscale"), RED, mode="L")
    Image.new("RGBA", (24, 24), (*RED, 128)).save(add("alpha/rgba.png", True, "transparent"))
    Image.new("RGB", (24, 24), RED).convert("P", palette=Image.Palette.ADAPTIVE).save(
        add("alpha/palette.png", True, "palette"))
    add("alpha/cmyk.jpg", True, "CMYK").write_bytes(_jpeg_bytes(RED, 24, "CMYK"))
    Image.fromarray(np.full((24, 24), 40_000, np.uint16)).save(add("beta/gray16.png", True, "16-bit"))
    rotated_jpeg(add("beta/rotated.jpg", True, "upright"))
    Image.new("RGB", (4, 4), BLUE).save(add("beta/tiny.png", True, "tiny"))
    Image.new("RGB", (24, 24), BLUE).save(add("beta/photo.webp", True, ""), "WEBP")
    Image.new("RGB", (24, 24), BLUE).save(add("beta/anim.gif", True, "palette"), "GIF")
    Image.new("RGB", (24, 24), RED).save(add("alpha/bitmap.BMP", True, ""), "BMP")
    write_image(add("alpha/ünïcödé ☀ name.JPG", True, ""), RED)
    write_image(add("beta/with spaces in name.jpeg", True, ""), BLUE)

    # Silently ignored, or only warned about.
    write_image(alpha / ".hidden.jpg", RED)
    (alpha / ".DS_Store").write_bytes(b"\x00\x01junk")
    (beta / "Thumbs.db").write_bytes(b"\x00junk")
    (beta / "readme.txt").write_text("not a photo", encoding="utf-8")
    (root / "empty_class").mkdir()
    write_image(alpha / "nested" / "deeper.jpg", RED)
    os.symlink("..", alpha / "loop")
    return expected


# chmod 000 does not stop root: the "locked" file is then readable, hence usable.
RUNNING_AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def usable_count(expected: dict[str, Expected]) -> int:
    """How many files of the corpus should train, for the user running the tests."""
    return sum(e.usable for e in expected.values()) + (1 if RUNNING_AS_ROOT else 0)
