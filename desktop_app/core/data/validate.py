"""Check every image file once: usable (maybe after conversion) or not, and why.

``check_file`` reads one file, takes its content digest (``data.fingerprint``) and decodes
it with Pillow (JPEGs at reduced scale, which still uses every byte, so truncation is
found). ``validate_index`` runs it over a scanned folder on a few threads, reports
progress, and caches the verdicts per folder keyed by each file's stamp (size, times,
inode), so reopening an unchanged folder only costs one ``stat`` per file. No Qt, no
TensorFlow.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from desktop_app.core.data import images  # noqa: F401  (silences Pillow's size warning)
from desktop_app.core.data.fingerprint import digest_bytes, stamp
from desktop_app.core.data.scan import BadFile, DatasetIndex
from desktop_app.core.errors import UserError
from desktop_app.core.fileio import write_json_atomic
from desktop_app.core.paths import user_data_dir

log = logging.getLogger(__name__)

VALIDATOR_VERSION = 2  # bump when verdicts change meaning, so old caches are ignored
# Pillow's own decompression-bomb limit (about 89 megapixels): far above any camera.
MAX_PIXELS = 89_478_485
# Formats TensorFlow decodes natively; MPO is how some cameras label their JPEGs.
SUPPORTED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "GIF", "BMP", "WEBP"})
# The pipeline's fast path handles these as they are; everything else goes via Pillow.
FAST_PATH_FORMATS = frozenset({"JPEG", "PNG", "BMP"})
FAST_PATH_MODES = frozenset({"RGB", "L"})
TINY_SIDE = 16  # smaller than this on a side: noted, still used
EXIF_ORIENTATION = 0x0112

# Magic bytes of picture formats Pillow does not open, to say "unsupported" not "not an image".
_FOREIGN_MAGIC = ((b"%PDF", "PDF"), (b"8BPS", "Photoshop"), (b"\x00\x00\x00\x0cjP", "JPEG 2000"))
_KNOWN_MAGIC = (b"\xff\xd8", b"\x89PNG", b"GIF8", b"BM", b"RIFF")

Report = Callable[[object], None]


@dataclass(frozen=True)
class Verdict:
    usable: bool
    problem: str = ""  # for unusable files: empty, corrupt, not_image, unsupported, too_large, unreadable
    reason: str = ""  # one sentence a person understands
    notes: tuple[str, ...] = ()  # odd but usable: "grayscale", "CMYK colours", ...
    convert: bool = False  # decode with Pillow (images.open_rgb), not TensorFlow's fast path
    width: int = 0
    height: int = 0
    format: str = ""
    digest: str = ""  # of the file's bytes (``data.fingerprint``); empty when it could not be read

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Verdict:
        return cls(**{**data, "notes": tuple(data.get("notes", ()))})


def bad(problem: str, reason: str, **info) -> Verdict:
    return Verdict(False, problem, reason, **info)


def check_file(path: str | os.PathLike) -> Verdict:
    """The verdict for one file: never raises for anything the file contains."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except PermissionError:
        return bad("unreadable", "Transfer Studio is not allowed to read this file (check its permissions).")
    except OSError as e:
        return bad("unreadable", f"The file could not be read ({e.strerror or e}).")
    if size == 0:
        return bad("empty", "The file is empty (0 bytes); it was probably not copied completely.")
    try:
        with open(path, "rb") as f:
            data = f.read()  # once: for the digest and for the decoder
    except PermissionError:
        return bad("unreadable", "Transfer Studio is not allowed to read this file (check its permissions).")
    except OSError as e:
        return bad("unreadable", f"The file could not be read ({e.strerror or e}).")
    return replace(_check_image(io.BytesIO(data), data[:512]), digest=digest_bytes(data))


def _check_image(f, head: bytes) -> Verdict:
    try:
        image = Image.open(f)
    except Image.DecompressionBombError:
        return bad("too_large", "The picture is far too large (a so-called decompression bomb); it was not opened.")
    except UnidentifiedImageError:
        return _not_an_image(head)
    except Exception as e:  # a broken header can raise almost anything inside Pillow
        return _damaged(e)
    with image:
        fmt, mode, (width, height) = image.format or "", image.mode, image.size
        info = {"width": width, "height": height, "format": fmt}
        if fmt not in SUPPORTED_FORMATS:
            return bad("unsupported", f"{fmt} pictures are not supported; save it as JPEG or PNG.", **info)
        if width * height > MAX_PIXELS:
            return bad("too_large", f"The picture is too large ({width:,} x {height:,} pixels); "
                       "shrink it below 89 megapixels.", **info)
        try:
            orientation = image.getexif().get(EXIF_ORIENTATION, 1)
        except Exception:  # a broken EXIF block does not spoil the pixels
            orientation = 1
        try:
            if fmt == "JPEG":
                image.draft(mode if mode in ("RGB", "L") else None, (256, 256))
            image.load()
        except Exception as e:
            return _damaged(e, **info)
    notes = _notes(fmt, mode, width, height, orientation, image)
    convert = fmt not in FAST_PATH_FORMATS or mode not in FAST_PATH_MODES or orientation not in (1, None)
    return Verdict(True, notes=notes, convert=convert, **info)


def _notes(fmt: str, mode: str, width: int, height: int, orientation, image) -> tuple[str, ...]:
    notes = []
    if mode in ("L", "1", "LA", "I;16", "I;16B", "I;16L", "I", "F"):
        notes.append("grayscale")
    if mode.startswith("I;16") or (mode == "I" and fmt == "PNG"):
        notes.append("16-bit")
    if mode in ("CMYK", "YCCK"):
        notes.append("CMYK colours")
    if mode == "P":
        notes.append("palette colours")
    if mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        notes.append("transparent parts shown on white")
    if orientation not in (1, None):
        notes.append("turned upright (camera rotation)")
    if min(width, height) < TINY_SIDE:
        notes.append(f"tiny ({width} x {height} pixels)")
    return tuple(notes)


def _not_an_image(head: bytes) -> Verdict:
    for magic, kind in _FOREIGN_MAGIC:
        if head.startswith(magic):
            return bad("unsupported", f"This is a {kind} file; save it as JPEG or PNG.")
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftyphevc"):
        return bad("unsupported", "HEIC photos (from iPhones) are not supported; save it as JPEG.")
    if head[4:12] == b"ftypavif":
        return bad("unsupported", "AVIF pictures are not supported; save it as JPEG or PNG.")
    if any(head.startswith(m) for m in _KNOWN_MAGIC):
        return bad("corrupt", "The file starts like a picture but is damaged and cannot be opened.")
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            return bad("not_image", "This is a text file, not a picture: only its name ends like an image.")
    return bad("not_image", "This file is not a picture: its contents are no image format.")


def _damaged(e: Exception, **info) -> Verdict:
    if "truncat" in str(e).lower():
        return bad("corrupt", "The picture is incomplete (cut off); it was probably not copied or "
                   "downloaded completely.", **info)
    return bad("corrupt", f"The picture is damaged and cannot be decoded ({_short(e)}).", **info)


def _short(e: Exception) -> str:
    text = str(e).strip() or type(e).__name__
    return text if len(text) <= 80 else text[:77] + "..."


# --------------------------------------------------------------------------- cache


def cache_file(root: Path) -> Path:
    key = hashlib.sha1(str(Path(root).resolve()).encode("utf-8", "surrogateescape")).hexdigest()[:20]
    return user_data_dir() / "validation" / f"{key}.json"


def _load_cache(root: Path) -> dict:
    try:
        data = json.loads(cache_file(root).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if data.get("version") != VALIDATOR_VERSION or data.get("root") != str(root):
        return {}
    return data.get("files", {})


def _save_cache(root: Path, entries: dict) -> None:
    try:
        write_json_atomic(cache_file(root), {"version": VALIDATOR_VERSION, "root": str(root), "files": entries})
    except (OSError, UnicodeError) as e:  # a cache is a nicety: never fail the check for it
        log.warning("Could not save the validation cache: %s", e)


# --------------------------------------------------------------------------- the whole folder


@dataclass(frozen=True)
class ValidationProgress:
    done: int
    total: int
    from_cache: int

    @property
    def text(self) -> str:
        return f"Checking images: {self.done:,} of {self.total:,}"


@dataclass
class ValidationStats:
    checked: int = 0  # decoded now
    from_cache: int = 0  # unchanged since the last check
    verdicts: dict[Path, Verdict] = field(default_factory=dict)


class ValidationStopped(UserError):
    """``should_stop`` said so; what was checked so far is cached."""

    def __init__(self) -> None:
        super().__init__("The check of the images was stopped.")


def validate_index(
    index: DatasetIndex,
    report: Report | None = None,
    should_stop: Callable[[], bool] | None = None,
    use_cache: bool = True,
    workers: int | None = None,
    stats: ValidationStats | None = None,
) -> DatasetIndex:
    """A copy of ``index`` holding only usable files; the rest move to ``bad_files``.

    An index that is already validated is returned as is.
    """
    if index.validated:
        return index
    stats = stats if stats is not None else ValidationStats()
    root = Path(index.root)
    cached = _load_cache(root) if use_cache else {}
    entries: dict[str, list] = {}
    todo: list[tuple[Path, str, list[int] | None]] = []
    for f in index.files:
        key = _rel(f.path, root)
        now = stamp(f.path)
        hit = cached.get(key)
        if now is not None and hit is not None and hit[:4] == now:
            stats.verdicts[f.path] = Verdict.from_json(hit[4])
            entries[key] = hit
            stats.from_cache += 1
        else:
            todo.append((f.path, key, now))
    total = len(index.files)
    lock = threading.Lock()
    step = max(1, total // 200)

    def one(item: tuple[Path, str, list[int] | None]) -> None:
        if should_stop is not None and should_stop():
            return
        path, key, file_stamp = item
        verdict = check_file(path)
        with lock:
            stats.verdicts[path] = verdict
            stats.checked += 1
            # An unreadable file may become readable without changing: check it again next time.
            if file_stamp is not None and verdict.problem != "unreadable":
                entries[key] = [*file_stamp, verdict.to_json()]
            done = stats.checked + stats.from_cache
        if report is not None and (done % step == 0 or done == total):
            report(ValidationProgress(done, total, stats.from_cache))

    if report is not None:
        report(ValidationProgress(stats.from_cache, total, stats.from_cache))
    if todo:
        n = workers or min(8, os.cpu_count() or 2)
        with ThreadPoolExecutor(max_workers=n, thread_name_prefix="validate") as pool:
            list(pool.map(one, todo))
    if todo or not use_cache:
        _save_cache(root, entries)
    if should_stop is not None and should_stop() and len(stats.verdicts) < total:
        raise ValidationStopped()

    class_of = {f.path: index.classes[f.label] for f in index.files}
    split_of = {f.path: f.split for f in index.files}
    unusable = {
        p: BadFile(p, class_of[p], split_of[p], v.problem, v.reason)
        for p, v in stats.verdicts.items() if not v.usable
    }
    notes = {p: v.notes for p, v in stats.verdicts.items() if v.usable and v.notes}
    digests = {p: v.digest for p, v in stats.verdicts.items() if v.usable and v.digest}
    _CONVERT.update((p, v.convert) for p, v in stats.verdicts.items() if v.usable)
    return index.without(unusable, notes, digests)


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


# Which validated files need Pillow, for this process's pipelines (path -> flag).
_CONVERT: dict[Path, bool] = {}


def needs_conversion(paths: list[Path]) -> list[bool]:
    """For the pipeline: which files TensorFlow's decoders would get wrong.

    Uses the verdicts of this process's validations, otherwise reads the file's header.
    """
    return [
        flag if (flag := _CONVERT.get(Path(p))) is not None else _sniff_needs_conversion(Path(p))
        for p in paths
    ]


def _sniff_needs_conversion(path: Path) -> bool:
    try:
        with Image.open(path) as image:
            if image.format not in FAST_PATH_FORMATS or image.mode not in FAST_PATH_MODES:
                return True
            return image.getexif().get(EXIF_ORIENTATION, 1) not in (1, None)
    except Exception:
        return False  # a broken file: the fast path drops it like any other error


__all__ = [
    "MAX_PIXELS", "ValidationProgress", "ValidationStats", "ValidationStopped", "Verdict", "check_file",
    "needs_conversion", "validate_index",
]
