"""The registry agrees with the installed Keras: file names, addresses and hashes."""

from __future__ import annotations

import pytest

from desktop_app.core.model.backbones import BACKBONES, DEFAULT_BACKBONE, get_backbone
from desktop_app.core.errors import UserError

REQUIRED = {
    "efficientnet_v2_b0", "efficientnet_v2_b1", "efficientnet_v2_b2", "efficientnet_v2_b3", "efficientnet_b0",
    "mobilenet", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "resnet50_v2", "convnext_tiny",
}


class _Asked(Exception):
    pass


def test_registry_has_the_required_bases_with_descriptions():
    assert REQUIRED <= set(BACKBONES)
    assert DEFAULT_BACKBONE == "efficientnet_v2_b0"
    assert get_backbone("mobilenet").alphas == (0.25, 0.5, 0.75, 1.0)
    for backbone in BACKBONES.values():
        assert backbone.description.endswith(".") and "parameters" in backbone.description
        assert backbone.weights_file.endswith(".h5") and backbone.weights_url_dir.startswith("https://")


def test_unknown_base_and_wrong_width_are_user_errors():
    with pytest.raises(UserError, match="Unknown base"):
        get_backbone("vgg16")
    with pytest.raises(UserError, match="widths"):
        get_backbone("mobilenet").check(0.3, 224)


def _cases():
    for backbone in BACKBONES.values():
        for alpha in backbone.alphas or (None,):
            yield backbone.key, alpha, 32
    yield "mobilenet", 0.25, 160  # MobileNets have separate files per input size
    yield "mobilenet_v2", 0.35, 96


@pytest.mark.parametrize("key,alpha,size", list(_cases()))
def test_weights_file_url_and_hash_are_what_keras_asks_for(monkeypatch, key, alpha, size):
    """Build with weights="imagenet" and catch Keras' own get_file call: no network needed."""
    import keras
    from keras.src.utils import file_utils

    asked = {}

    def fake_get_file(fname=None, origin=None, file_hash=None, **kwargs):
        asked.update(fname=fname, origin=origin, file_hash=file_hash, cache_subdir=kwargs.get("cache_subdir"))
        raise _Asked

    monkeypatch.setattr(file_utils, "get_file", fake_get_file)
    backbone = get_backbone(key)
    kwargs = {"alpha": alpha} if alpha is not None else {}
    with pytest.raises(_Asked):
        getattr(keras.applications, backbone.keras_name)(
            include_top=False, weights="imagenet", input_shape=(size, size, 3), **kwargs)
    assert asked["cache_subdir"] == "models"
    assert asked["fname"] == backbone.weights_file_name(alpha, size)
    assert asked["origin"] == backbone.weights_url(alpha, size)
    assert asked["file_hash"] == backbone.weights_hash(alpha)
