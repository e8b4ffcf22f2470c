"""Pretrained ImageNet weights in Keras' cache: status, download, import, verification.

Files live where ``keras.utils.get_file`` looks for them, ``$KERAS_HOME/models`` (default
``~/.keras/models``), under the names Keras gives them, so a later
``keras.applications.X(weights="imagenet")`` finds them there and never goes online.
One file serves every input size: where Keras publishes a file per size (MobileNets), a
size without its own file loads another size's (the shapes are the same).

Importing this module does not import TensorFlow; only checking an imported file does
(it builds the base with random weights to compare against).
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from desktop_app.core.model.backbones import (
    BACKBONES, DEFAULT_BACKBONE, Backbone, get_backbone, weights_file_owner,
)
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
    path: Path  # where Keras caches the file for this size: downloads and imports land here
    # The same width's files for other input sizes, which serve this size just as well.
    alternatives: tuple[Path, ...] = ()

    @property
    def local(self) -> Path | None:
        """The cached file this base and width load at this size, or None."""
        return next((p for p in (self.path, *self.alternatives) if p.is_file()), None)

    @property
    def cached(self) -> bool:
        return self.local is not None

    @property
    def size_bytes(self) -> int:
        local = self.local
        return local.stat().st_size if local else 0

    @property
    def title(self) -> str:
        return self.label if self.alpha is None else f"{self.label} (width {self.alpha:g})"

    @property
    def described(self) -> str:
        return self.label if self.alpha is None else f"{self.label} with width {self.alpha:g}"


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
    name, *others = backbone.weights_file_names(alpha, size)
    mirror = os.environ.get(MIRROR_ENV)
    url = mirror.rstrip("/") + "/" + name if mirror else backbone.weights_url(alpha, size)
    folder = cache_dir()
    return WeightsInfo(
        backbone=key, label=backbone.label, alpha=alpha if backbone.alphas else None, file_name=name,
        url=url, file_hash=backbone.weights_hash(alpha), path=folder / name,
        alternatives=tuple(folder / other for other in others),
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
    local = weights_info(key, alpha, img_size).local
    if local is not None:
        return local
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

Layers = list[tuple[str, list[tuple[int, ...]]]]
# The layers each base and width has, measured once per process (building a network takes seconds).
_expected: dict[tuple[str, float | None], Layers] = {}
_CHECK_SIZE = 64  # small, so building is quick; a no-top file's shapes do not depend on it


def import_weights(path: str | Path, key: str | None = None, alpha: float | None = None,
                   img_size: int | None = None) -> WeightsInfo:
    """Find out which base and width ``path`` holds weights for, then copy it into the cache
    under Keras' name, where it serves every image size. ``key`` (and ``alpha``) say what the
    caller expects; a file for another base or width is then refused. Returns what it holds."""
    path = Path(path).expanduser()
    found = identify_weights_file(path, key, alpha)
    if key is not None:
        wanted = weights_info(key, alpha, img_size)
        if (found.backbone, found.alpha) != (wanted.backbone, wanted.alpha):
            raise UserError(f"{path.name} holds the weights of {found.described}, not of {wanted.described}; "
                            f"import it for {found.described} instead.")
    if path.resolve() != found.path.resolve():
        copy_atomic(path, found.path)
    return found


def identify_weights_file(path: str | Path, key: str | None = None, alpha: float | None = None) -> WeightsInfo:
    """Which base and width ``path`` holds ImageNet weights for, or a UserError in words.

    A file Keras publishes is known by its checksum; any other is compared layer by layer
    with the networks, the one its Keras file name suggests first, then ``key``'s. With a
    ``key`` only those two are tried (the caller knows what it wants); without one, all.
    """
    path = Path(path).expanduser()
    example = weights_info(key or DEFAULT_BACKBONE, alpha if key else None).file_name
    found = _file_layers_of(path, example)
    owner = weights_file_owner(path.name)
    named_size = owner[2] if owner else None

    def info(backbone: Backbone, width: float | None) -> WeightsInfo:
        same_file = owner is not None and (owner[0], owner[1]) == (backbone, backbone.resolve_alpha(width))
        return weights_info(backbone.key, width, named_size if same_file else None)

    published = _published_match(path)
    if published is not None:
        return info(*published)
    families = [owner[0]] if owner else []
    families += [get_backbone(key)] if key else [b for b in BACKBONES.values()]
    near_miss = None
    for backbone in dict.fromkeys(families):
        widths = list(dict.fromkeys([owner[1] if owner and owner[0] is backbone else None, alpha,
                                     backbone.default_alpha, *backbone.alphas]))
        widths = [w for w in widths if w in (backbone.alphas or (None,))]
        if not _same_names(found, _expected_layers(backbone, widths[0])):
            continue
        for width in widths:
            if _same_shapes(found, _expected_layers(backbone, width)):
                result = info(backbone, width)
                if result.file_hash:  # Keras publishes this file, and this is not it byte for byte
                    raise UserError(
                        f"{path.name} has the layers of {result.described} but is not the file Keras publishes "
                        f"(it was changed since), so it is not used; copy an unchanged {result.file_name}.")
                return result
        near_miss = backbone
    if near_miss is not None and near_miss.alphas:
        choices = ", ".join(f"{a:g}" for a in near_miss.alphas)
        raise UserError(f"{path.name} has the layers of {near_miss.label}, but not at any width it comes in "
                        f"({choices}), so it cannot be used.")
    if key is not None:
        wanted = weights_info(key, alpha)
        raise UserError(f"{path.name} does not hold the weights of {wanted.described}: its layers are those of "
                        f"another network. Choose the file named {wanted.file_name}.")
    raise UserError(f"{path.name} holds weights for a network Transfer Studio does not offer. Choose the "
                    f"ImageNet weights file of one of its bases, without the top, such as {example}.")


def _file_layers_of(path: Path, example: str) -> Layers:
    import h5py

    if not path.is_file():
        raise UserError(f"The file {path} does not exist.")
    if not h5py.is_hdf5(path):
        raise UserError(f"{path.name} is not a Keras weights file (.h5); choose a file such as {example}.")
    try:
        with h5py.File(path, "r") as f:
            group = f["model_weights"] if "model_weights" in f else f
            if "layer_names" not in group.attrs:
                raise UserError(f"{path.name} is an HDF5 file but holds no Keras layer weights.")
            return _file_layers(group)
    except (OSError, KeyError, ValueError):  # h5py's words for a file cut short or damaged inside
        raise UserError(f"{path.name} is damaged or cut off (a copy that did not finish?); copy it again.") from None


def _published_match(path: Path) -> tuple[Backbone, float | None] | None:
    """The base and width whose published file this is, byte for byte."""
    published = [(b, a, h) for b in BACKBONES.values() for a, h in b.weights_hashes]
    if not published:
        return None
    digests = {"md5": hashlib.md5(), "sha256": hashlib.sha256()}
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            for digest in digests.values():
                digest.update(block)
    known = {d.hexdigest() for d in digests.values()}
    return next(((b, a) for b, a, h in published if h.lower() in known), None)


def _text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _file_layers(group) -> Layers:
    """(layer name, weight shapes) for every layer that has weights, in file order."""
    layers = []
    for name in (_text(n) for n in group.attrs["layer_names"]):
        layer = group[name]
        shapes = [tuple(layer[_text(w)].shape) for w in layer.attrs.get("weight_names", [])]
        if shapes:
            layers.append((name, shapes))
    return layers


def _expected_layers(backbone: Backbone, alpha: float | None) -> Layers:
    key = (backbone.key, alpha)
    if key not in _expected:
        from desktop_app.core.model.backbones import create_base

        base = create_base(backbone.key, _CHECK_SIZE, None, alpha)
        _expected[key] = [(layer.name, [tuple(int(d) for d in w.shape) for w in layer.weights])
                          for layer in base.layers if layer.weights]
    return _expected[key]


def _plain_name(name: str) -> str:
    """A layer name without the "_3" Keras adds to unnamed layers when it builds a network twice."""
    return re.sub(r"_\d+$", "", name)


def _same_names(found: Layers, expected: Layers) -> bool:
    # Keras loads such files layer by layer in order, so the order must agree.
    return len(found) == len(expected) and all(
        f == e or _plain_name(f) == _plain_name(e) for (f, _), (e, _) in zip(found, expected))


def _same_shapes(found: Layers, expected: Layers) -> bool:
    return all(f == e for (_, f), (_, e) in zip(found, expected))
