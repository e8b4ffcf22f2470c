"""The summary tree counts exactly what Keras counts; unfreezing follows one rule."""

from __future__ import annotations

import math

import pytest

from desktop_app.core.model.backbones import BACKBONES, BASE_LAYER_NAME
from desktop_app.core.model.builder import (
    base_of, build_classifier, param_counts, preview_unfreeze, summarize, unfreeze_top,
)
from desktop_app.core.session import ModelSettings, fine_tune_learning_rate


def _keras_totals(model) -> list[str]:
    lines: list[str] = []
    model.summary(print_fn=lambda text, **_: lines.append(text))
    return [line.strip() for line in "\n".join(lines).splitlines() if " params: " in line]


def _n(weights) -> int:
    return sum(math.prod(w.shape) for w in weights)


@pytest.mark.parametrize("key", sorted(BACKBONES))
def test_tree_totals_equal_keras_for_every_base(key):
    backbone = BACKBONES[key]
    alpha = backbone.alphas[0] if backbone.alphas else None  # the narrowest: fastest to build
    model = build_classifier(ModelSettings(key, alpha, img_size=32, weights=None), 3)
    summary = summarize(model)
    assert summary.counts.total == model.count_params()
    assert summary.counts.trainable == _n(model.trainable_weights)
    assert summary.counts.non_trainable == _n(model.non_trainable_weights)
    assert summary.counts.totals_lines() == _keras_totals(model)
    assert summary.to_text().splitlines()[-3:] == _keras_totals(model)
    # The tree adds up: top-level rows hold every parameter, the base row its layers'.
    assert sum(node.params for node in summary.root.children) == summary.counts.total
    base = summary.root.find(BASE_LAYER_NAME)
    assert base.children and sum(child.params for child in base.children) == base.params


def test_efficientnet_v2_b0_reference_counts():
    summary = summarize(build_classifier(ModelSettings(img_size=224, weights=None), 10))
    assert (summary.counts.total, summary.counts.trainable, summary.counts.non_trainable) == (
        5_932_122, 12_810, 5_919_312)
    assert len(summary.root.find(BASE_LAYER_NAME).children) == 270


@pytest.fixture(scope="module")
def b0_model():
    return build_classifier(ModelSettings(img_size=64, weights=None), 10)


def test_unfreezing_top_10_adds_exactly_their_non_batchnorm_params(b0_model):
    import keras

    model = b0_model
    unfreeze_top(model, 0)
    before = param_counts(model).trainable
    top = base_of(model).layers[-10:]
    expected = sum(_n(layer.weights) for layer in top if not isinstance(layer, keras.layers.BatchNormalization))
    assert any(isinstance(layer, keras.layers.BatchNormalization) for layer in top)  # the rule is exercised
    unfreeze_top(model, 10)
    try:
        assert param_counts(model).trainable - before == expected > 0
        assert all(not layer.trainable for layer in top if isinstance(layer, keras.layers.BatchNormalization))
    finally:
        unfreeze_top(model, 0)


@pytest.mark.parametrize("n", [0, 1, 10, 57, 1000])
def test_preview_unfreeze_matches_the_real_unfreeze(b0_model, n):
    model = b0_model
    unfreeze_top(model, 0)
    preview = preview_unfreeze(summarize(model), n)
    unfreeze_top(model, n)
    try:
        real = summarize(model)
        assert preview.counts == real.counts
        assert preview.to_text() == real.to_text()
    finally:
        unfreeze_top(model, 0)


def test_summarize_leaves_trainable_flags_alone(b0_model):
    model = b0_model
    unfreeze_top(model, 25)
    try:
        flags = [layer.trainable for layer in base_of(model).layers]
        counts = param_counts(model)
        summarize(model)
        assert [layer.trainable for layer in base_of(model).layers] == flags
        assert param_counts(model) == counts
    finally:
        unfreeze_top(model, 0)


def test_head_options_shape_the_tree():
    settings = ModelSettings("mobilenet", 0.25, 32, None, pooling="max", dropout=0.3, hidden_units=16)
    summary = summarize(build_classifier(settings, 4))
    rows = {node.name: node for node in summary.root.children}
    assert rows["pooling"].type_name == "GlobalMaxPooling2D"
    assert rows["dropout"].type_name == "Dropout"
    assert rows["hidden"].params == 256 * 16 + 16  # MobileNet 0.25 ends with 256 channels
    assert rows["predictions"].params == 16 * 4 + 4 and rows["predictions"].output_shape == "(None, 4)"
    assert summary.counts.trainable == rows["hidden"].params + rows["predictions"].params


def test_augmentation_block_is_an_expandable_node():
    from desktop_app.core.augment.spec import AugmentationSpec

    model = build_classifier(ModelSettings("mobilenet", 0.25, 32, None), 2, AugmentationSpec.preset("light"))
    node = summarize(model).root.find("data_augmentation")
    assert node.type_name == "Sequential" and node.children


def test_fine_tune_learning_rate_is_ten_times_lower():
    assert fine_tune_learning_rate(1e-3) == pytest.approx(1e-4)
