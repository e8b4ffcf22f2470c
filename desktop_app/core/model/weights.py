"""Pretrained ImageNet weights in Keras' cache: status, download, import, verification.

Files live where ``keras.utils.get_file`` looks for them, ``$KERAS_HOME/models`` (default
``~/.keras/models``), under the names Keras gives them, so a later
``keras.applications.X(weights="imagenet")`` finds them there and never goes online.

Importing this module does not import TensorFlow; only checking an imported file does
(it builds the base with random weights to compare against).
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from desktop_app.core.model.backbones import BACKBONES, Backbone, get_backbone
from desktop_app.core.errors import UserError
from desktop_app.core.fileio import copy_atomic

DEFAULT_TIMEOUT_S = 20.0
# A school can serve the weight files from a computer of its own: their address, ending in "/".
MIRROR_ENV = "TRANSFER_STUDIO_WEIGHTS_MIRROR"
_CHUNK = 256 * 1024


class DownloadCancelled(UserError):
    """The user pressed Cancel; nothing was left in the cache."""


@dataclass(frozen=True)
class DownloadProgress:
    file_name: str
    done_bytes: int
    total_bytes: int | None  # None when the server does not say

    @property
    def fraction(self) -> float | None:
        return self.done_bytes / self.total_bytes if self.total_bytes else None


@dataclass(frozen=True)
class WeightsInfo:
    """One base's (and width's) ImageNet weights file and whether it is cached."""

    backbone: str
    label: str
    alpha: float | None
    file_name: str
    url: str
    file_hash: str | None
    path: Path

    @property
    def cached(self) -> bool:
        return self.path.is_file()

    @property
    def size_bytes(self) -> int:
        return self.path.stat().st_size if self.cached else 0

    @property
    def title(self) -> str:
        return self.label if self.alpha is None else f"{self.label} (width {self.alpha:g})"


def keras_home() -> Path:
    """The folder Keras uses, decided as ``keras.src.backend.config`` does.

    Read from the environment at each call (not Keras' value frozen at import time),
    so tests and portable installs can point KERAS_HOME elsewhere.
    """
    home = os.environ.get("KERAS_HOME")
    if home:
        return Path(home).expanduser()
    base = Path.home()
    return (base if os.access(base, os.W_OK) else Path("/tmp")) / ".keras"


def cache_dir() -> Path:
    home = keras_home()
    # keras.utils.get_file falls back to /tmp/.keras when its folder is read-only.
    if home.exists() and not os.access(home, os.W_OK):
        home = Path("/tmp") / ".keras"
    return home / "models"


def weights_info(key: str, alpha: float | None = None, img_size: int | None = None) -> WeightsInfo:
    backbone = get_backbone(key)
    alpha = backbone.resolve_alpha(alpha)
    size = backbone.default_size if img_size is None else img_size
    name = backbone.weights_file_name(alpha, size)
    mirror = os.environ.get(MIRROR_ENV)
    url = mirror.rstrip("/") + "/" + name if mirror else backbone.weights_url(alpha, size)
    return WeightsInfo(
        backbone=key, label=backbone.label, alpha=alpha if backbone.alphas else None, file_name=name,
        url=url, file_hash=backbone.weights_hash(alpha), path=cache_dir() / name,
    )


def list_weights() -> list[WeightsInfo]:
    """Every base and width at its default input size."""
    return [
        weights_info(b.key, alpha)
        for b in BACKBONES.values()
        for alpha in (b.alphas or (None,))
    ]


def file_matches_hash(path: Path, file_hash: str) -> bool:
    """Keras' convention: a 64-character hash is sha256, anything else md5."""
    digest = _hasher(file_hash)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest() == file_hash.lower()


def _hasher(file_hash: str):
    return hashlib.sha256() if len(file_hash) == 64 else hashlib.md5()


def ensure_cached(key: str, alpha: float | None = None, img_size: int | None = None,
                  timeout: float = DEFAULT_TIMEOUT_S) -> Path:
    """The cached weights file, downloaded first if it is missing."""
    info = weights_info(key, alpha, img_size)
    if info.cached:
        return info.path
    return download(key, alpha, img_size, timeout=timeout)


def resolve_weights(weights: str | None, key: str, alpha: float | None = None,
                    img_size: int | None = None) -> str | None:
    """The file a base loads for a model's ``weights`` setting: "imagenet" is Keras' cached
    file (downloaded first if missing, with a timeout: Keras' own download has none), a
    path stays itself, None means random weights."""
    if weights == "imagenet":
        return str(ensure_cached(key, alpha, img_size))
    return weights


def download(
    key: str,
    alpha: float | None = None,
    img_size: int | None = None,
    *,
    report: Callable[[DownloadProgress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    url: str | None = None,
) -> Path:
    """Download the ImageNet weights into Keras' cache and return their path.

    ``timeout`` bounds connecting (name lookup included) and every read, so an offline
    computer gets a UserError within about ``timeout`` seconds. The file appears in the
    cache only complete and with Keras' published hash (where there is one).
    ``url`` replaces Keras' address (tests, mirrors).
    """
    info = weights_info(key, alpha, img_size)
    url = url or info.url
    should_stop = should_stop or (lambda: False)
    response = _open(url, timeout, should_stop, info)
    info.path.parent.mkdir(parents=True, exist_ok=True)
    tmp = info.path.with_name(f".{info.file_name}.{uuid.uuid4().hex}.part")
    try:
        with response, open(tmp, "xb") as out:
            total = _content_length(response)
            digest = _hasher(info.file_hash) if info.file_hash else None
            done = 0
            if report:
                report(DownloadProgress(info.file_name, 0, total))
            while True:
                if should_stop():
                    raise DownloadCancelled("Download cancelled; nothing was saved.")
                try:
                    block = response.read(_CHUNK)
                except (TimeoutError, socket.timeout, OSError) as e:
                    raise UserError(_offline_sentence(info, f"the download stalled: {e}")) from None
                if not block:
                    break
                out.write(block)
                if digest:
                    digest.update(block)
                done += len(block)
                if report:
                    report(DownloadProgress(info.file_name, done, total))
            out.flush()
            os.fsync(out.fileno())
        if total is not None and done != total:
            raise UserError(_offline_sentence(info, f"the download stopped after {done:,} of {total:,} bytes"))
        if digest and digest.hexdigest() != info.file_hash:
            raise UserError(
                f"The downloaded file for {info.title} is damaged (its checksum is not the one Keras "
                "publishes); nothing was saved. Try again, or import a copy of the file."
            )
        os.replace(tmp, info.path)
    finally:
        tmp.unlink(missing_ok=True)
    return info.path


def _open(url: str, timeout: float, should_stop: Callable[[], bool], info: WeightsInfo):
    """urlopen in a helper thread: a name lookup ignores socket timeouts and Cancel, this does not."""
    result: dict = {}

    def connect() -> None:
        try:
            result["response"] = urllib.request.urlopen(url, timeout=timeout)
        except BaseException as e:  # handed to the waiting thread
            result["error"] = e

    thread = threading.Thread(target=connect, name="weights-connect", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while thread.is_alive():
        if should_stop():
            raise DownloadCancelled("Download cancelled; nothing was saved.")
        if time.monotonic() > deadline:
            raise UserError(_offline_sentence(info, f"no answer within {timeout:g} seconds"))
        thread.join(0.05)
    error = result.get("error")
    if isinstance(error, urllib.error.HTTPError):
        raise UserError(_offline_sentence(info, f"the server answered {error.code} {error.reason}")) from None
    if isinstance(error, urllib.error.URLError):
        raise UserError(_offline_sentence(info, str(error.reason))) from None
    if isinstance(error, (OSError, ValueError)):
        raise UserError(_offline_sentence(info, str(error))) from None
    if error is not None:
        raise error
    return result["response"]


def _content_length(response) -> int | None:
    try:
        return int(response.headers["Content-Length"])
    except (KeyError, TypeError, ValueError):
        return None


def _offline_sentence(info: WeightsInfo, reason: str) -> str:
    return (
        f"Could not download the ImageNet weights for {info.title}; the network is not reachable ({reason}). "
        f"Use Import file... with a copy of {info.file_name}, or train without pretrained weights."
    )


# -- importing a file the user brings (classrooms without internet) ----------------------

def import_weights(path: str | Path, key: str, alpha: float | None = None, img_size: int | None = None) -> Path:
    """Check ``path`` against the base, then copy it into the cache under Keras' name."""
    path = Path(path).expanduser()
    info = weights_info(key, alpha, img_size)
    check_weights_file(path, key, alpha, img_size)
    copy_atomic(path, info.path)
    return info.path


def check_weights_file(path: str | Path, key: str, alpha: float | None = None, img_size: int | None = None) -> None:
    """Raise a UserError saying why ``path`` is not this base's weights file."""
    import h5py

    path = Path(path).expanduser()
    backbone = get_backbone(key)
    info = weights_info(key, alpha, img_size)
    if not path.is_file():
        raise UserError(f"The file {path} does not exist.")
    if not h5py.is_hdf5(path):
        raise UserError(f"{path.name} is not a Keras weights file (.h5); choose the file named {info.file_name}.")
    try:
        with h5py.File(path, "r") as f:
            group = f["model_weights"] if "model_weights" in f else f
            if "layer_names" not in group.attrs:
                raise UserError(f"{path.name} is an HDF5 file but holds no Keras layer weights.")
            found = _file_layers(group)
    except (OSError, KeyError, ValueError):  # h5py's words for a file cut short or damaged inside
        raise UserError(f"{path.name} is damaged or cut off (a copy that did not finish?); copy "
                        f"{info.file_name} again.") from None
    if info.file_hash and file_matches_hash(path, info.file_hash):
        return  # exactly the file Keras publishes: no need to build the network to compare
    expected = _expected_layers(backbone, info.alpha, img_size or backbone.default_size)
    _compare_layers(found, expected, path.name, info)
    if info.file_hash and not file_matches_hash(path, info.file_hash):
        raise UserError(
            f"{path.name} has the right layers for {info.title} but is not the exact file Keras publishes "
            f"(its checksum differs), so Keras would replace it; use an unmodified {info.file_name}."
        )


def _text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _file_layers(group) -> list[tuple[str, list[tuple[int, ...]]]]:
    """(layer name, weight shapes) for every layer that has weights, in file order."""
    layers = []
    for name in (_text(n) for n in group.attrs["layer_names"]):
        layer = group[name]
        shapes = [tuple(layer[_text(w)].shape) for w in layer.attrs.get("weight_names", [])]
        if shapes:
            layers.append((name, shapes))
    return layers


def _expected_layers(backbone: Backbone, alpha: float | None, img_size: int) -> list[tuple[str, list[tuple[int, ...]]]]:
    from desktop_app.core.model.backbones import create_base

    base = create_base(backbone.key, img_size, None, alpha)
    return [(layer.name, [tuple(int(d) for d in w.shape) for w in layer.weights]) for layer in base.layers if layer.weights]


def _compare_layers(found, expected, file_name: str, info: WeightsInfo) -> None:
    # Keras loads such files layer by layer in order, so order, names and shapes must all agree.
    for (f_name, f_shapes), (e_name, e_shapes) in zip(found, expected):
        if f_name != e_name:
            raise UserError(
                f"{file_name} does not fit {info.title}: the file has layer '{f_name}' where the network "
                f"has '{e_name}'. It holds weights for a different network."
            )
        if f_shapes != e_shapes:
            raise UserError(
                f"{file_name} does not fit {info.title}: layer '{f_name}' has weights of shape "
                f"{_shapes(f_shapes)} in the file but the network needs {_shapes(e_shapes)}. "
                "It was made for a different width or network."
            )
    if len(found) != len(expected):
        raise UserError(
            f"{file_name} does not fit {info.title}: it has {len(found)} layers with weights, "
            f"the network has {len(expected)}."
        )


def _shapes(shapes: list[tuple[int, ...]]) -> str:
    return ", ".join("(" + ", ".join(str(d) for d in s) + ")" for s in shapes)
