"""Keras' weights cache: import a file offline, refuse wrong files, fail downloads fast."""

from __future__ import annotations

import functools
import http.server
import os
import socket
import threading
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from desktop_app.core.model import weights
from desktop_app.core.errors import UserError

MOBILENET_FILE = "mobilenet_2_5_224_tf_no_top.h5"


@pytest.fixture
def keras_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "keras-home"
    monkeypatch.setenv("KERAS_HOME", str(home))
    return home


@pytest.fixture
def no_network(monkeypatch):
    """Every connection and name lookup fails, as on an offline classroom computer."""
    def refuse(*args, **kwargs):
        raise OSError("network disabled by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def _conv1_kernel(path: Path) -> np.ndarray:
    with h5py.File(path, "r") as f:
        return f["conv1"]["conv1/kernel:0"][()]


def _no_leftovers(home: Path) -> bool:
    models = home / "models"
    return not models.exists() or not any(p.name.startswith(".") for p in models.iterdir())


def test_status_follows_keras_home(keras_home):
    info = weights.weights_info("mobilenet", 0.25)
    assert info.path == keras_home / "models" / MOBILENET_FILE
    assert not info.cached and info.size_bytes == 0
    listed = weights.list_weights()
    assert {w.backbone for w in listed} >= {"efficientnet_v2_b0", "convnext_tiny", "mobilenet_v3_small"}
    assert len([w for w in listed if w.backbone == "mobilenet"]) == 4


def test_imported_file_loads_offline(keras_home, shared_weights, no_network, monkeypatch):
    path = weights.import_weights(shared_weights, "mobilenet", 0.25).path
    info = weights.weights_info("mobilenet", 0.25)
    assert path == info.path and info.cached and info.size_bytes == shared_weights.stat().st_size
    assert _no_leftovers(keras_home)
    expected = _conv1_kernel(shared_weights)

    from desktop_app.core.model.backbones import create_base
    from desktop_app.core.model.builder import build_classifier
    from desktop_app.core.session import ModelSettings

    base = create_base("mobilenet", 224, weights.resolve_weights("imagenet", "mobilenet", 0.25, 224), 0.25)
    np.testing.assert_array_equal(base.get_layer("conv1").kernel.numpy(), expected)
    model = build_classifier(ModelSettings("mobilenet", 0.25, 224, "imagenet"), 3)
    np.testing.assert_array_equal(model.get_layer("base_model").get_layer("conv1").kernel.numpy(), expected)

    # Keras itself finds it there too (its KERAS_HOME was fixed when it was imported).
    import keras
    from keras.src.backend import config

    monkeypatch.setattr(config, "_KERAS_DIR", str(keras_home))
    direct = keras.applications.MobileNet(alpha=0.25, include_top=False, weights="imagenet", input_shape=(224, 224, 3))
    np.testing.assert_array_equal(direct.get_layer("conv1").kernel.numpy(), expected)


def test_file_for_another_width_is_refused_in_words(keras_home, shared_weights):
    with pytest.raises(UserError, match=r"^mobilenet_2_5_224_tf_no_top.h5 holds the weights of MobileNet with "
                                        r"width 0.25, not of MobileNet with width 0.5; import it for MobileNet "
                                        r"with width 0.25 instead.$"):
        weights.import_weights(shared_weights, "mobilenet", 0.5)
    assert not weights.weights_info("mobilenet", 0.5).cached and not weights.weights_info("mobilenet", 0.25).cached


def test_file_for_another_network_is_refused(keras_home, shared_weights):
    with pytest.raises(UserError, match="not of MobileNetV2 with width 0.35"):
        weights.import_weights(shared_weights, "mobilenet_v2", 0.35)


def test_the_file_says_which_base_and_width_it_is(keras_home, shared_weights, tmp_path):
    info = weights.identify_weights_file(shared_weights)
    assert (info.backbone, info.alpha, info.described) == ("mobilenet", 0.25, "MobileNet with width 0.25")
    # Renamed, it is known by its layers (the name only decides what is tried first).
    renamed = tmp_path / "from the usb stick.h5"
    renamed.write_bytes(shared_weights.read_bytes())
    assert weights.identify_weights_file(renamed).described == "MobileNet with width 0.25"
    assert weights.import_weights(renamed).path == keras_home / "models" / MOBILENET_FILE


def test_one_import_serves_every_image_size(keras_home, shared_weights, no_network):
    """No-top weights have the same shapes at every size: 128 px must not ask for another file."""
    path = weights.import_weights(shared_weights).path
    for size in (96, 128, 160, 192, 224):
        info = weights.weights_info("mobilenet", 0.25, size)
        assert info.cached and info.local == path and info.size_bytes == path.stat().st_size, size
        assert weights.resolve_weights("imagenet", "mobilenet", 0.25, size) == str(path)
    assert weights.weights_info("mobilenet", 0.25, 128).file_name == "mobilenet_2_5_128_tf_no_top.h5"
    assert not weights.weights_info("mobilenet", 0.5, 128).cached  # another width is another file

    from desktop_app.core.model.builder import build_classifier
    from desktop_app.core.session import ModelSettings

    model = build_classifier(ModelSettings("mobilenet", 0.25, 128, "imagenet"), 3)
    np.testing.assert_array_equal(model.get_layer("base_model").get_layer("conv1").kernel.numpy(),
                                  _conv1_kernel(shared_weights))


def test_random_files_are_refused(keras_home, tmp_path):
    random_h5 = tmp_path / "random.h5"
    with h5py.File(random_h5, "w") as f:
        f["data"] = np.random.default_rng(0).random((4, 4))
    with pytest.raises(UserError, match="holds no Keras layer weights"):
        weights.import_weights(random_h5, "mobilenet", 0.25)

    layered = tmp_path / "layered.h5"
    with h5py.File(layered, "w") as f:
        f.attrs["layer_names"] = [b"dense"]
        group = f.create_group("dense")
        group.attrs["weight_names"] = [b"dense/kernel:0"]
        group["dense/kernel:0"] = np.zeros((3, 3))
    with pytest.raises(UserError, match="does not hold the weights of MobileNet with width 0.25: its layers are "
                                        "those of another network. Choose the file named mobilenet_2_5_224"):
        weights.import_weights(layered, "mobilenet", 0.25)

    text = tmp_path / "notes.h5"
    text.write_text("not weights")
    with pytest.raises(UserError, match="not a Keras weights file"):
        weights.import_weights(text, "mobilenet", 0.25)
    assert not any((keras_home / "models").glob("*")) if (keras_home / "models").exists() else True


def test_download_fails_fast_without_network(keras_home, no_network):
    start = time.monotonic()
    with pytest.raises(UserError, match="network is not reachable.*Import file"):
        weights.download("mobilenet", 0.25, timeout=5)
    assert time.monotonic() - start < 3
    assert not weights.weights_info("mobilenet", 0.25).cached and _no_leftovers(keras_home)


def test_download_fails_fast_on_a_closed_port_and_an_unroutable_address(keras_home):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    start = time.monotonic()
    with pytest.raises(UserError, match="network is not reachable"):
        weights.download("mobilenet", 0.25, timeout=2, url=f"http://127.0.0.1:{closed}/{MOBILENET_FILE}")
    with pytest.raises(UserError, match="network is not reachable"):
        weights.download("mobilenet", 0.25, timeout=1, url=f"http://10.255.255.1/{MOBILENET_FILE}")
    assert time.monotonic() - start < 5


def test_a_hanging_name_lookup_does_not_hang_the_download(keras_home, monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: time.sleep(30))
    start = time.monotonic()
    with pytest.raises(UserError, match="no answer within 0.5 seconds"):
        weights.download("efficientnet_v2_b0", timeout=0.5)
    assert time.monotonic() - start < 2


@pytest.fixture
def file_server(tmp_path):
    """A local HTTP server over tmp_path/www, standing in for Keras' storage."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_download_reports_progress_and_lands_where_keras_looks(keras_home, shared_weights, file_server):
    root, url = file_server
    (root / MOBILENET_FILE).write_bytes(shared_weights.read_bytes())
    events = []
    path = weights.download("mobilenet", 0.25, report=events.append, url=url + MOBILENET_FILE)
    assert path == keras_home / "models" / MOBILENET_FILE
    assert path.read_bytes() == shared_weights.read_bytes()
    assert events[0].done_bytes == 0 and events[-1].fraction == 1.0
    assert len(events) > 2 and _no_leftovers(keras_home)
    assert weights.ensure_cached("mobilenet", 0.25, 224) == path  # cached: no network needed


def test_download_with_a_wrong_hash_keeps_nothing(keras_home, file_server):
    root, url = file_server
    (root / "fake.h5").write_bytes(os.urandom(300_000))
    with pytest.raises(UserError, match="damaged"):
        weights.download("efficientnet_v2_b0", url=url + "fake.h5")
    assert not weights.weights_info("efficientnet_v2_b0").cached and _no_leftovers(keras_home)


def test_download_can_be_cancelled(keras_home, shared_weights, file_server):
    root, url = file_server
    (root / MOBILENET_FILE).write_bytes(shared_weights.read_bytes())
    seen = []
    with pytest.raises(weights.DownloadCancelled):
        weights.download("mobilenet", 0.25, report=seen.append, should_stop=lambda: len(seen) >= 2,
                         url=url + MOBILENET_FILE)
    assert not weights.weights_info("mobilenet", 0.25).cached and _no_leftovers(keras_home)


def test_hash_check_uses_keras_convention(tmp_path):
    import hashlib

    path = tmp_path / "x.bin"
    path.write_bytes(b"abc")
    assert weights.file_matches_hash(path, hashlib.md5(b"abc").hexdigest())
    assert weights.file_matches_hash(path, hashlib.sha256(b"abc").hexdigest())
    assert not weights.file_matches_hash(path, hashlib.md5(b"abd").hexdigest())
