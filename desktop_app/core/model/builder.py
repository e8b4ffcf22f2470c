"""Build the classifier (augmentation -> pretrained base -> pooling -> softmax head),
freeze and unfreeze its base, and describe it as a ``ModelSummary`` tree."""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import replace

from desktop_app.core.augment.spec import AugmentationSpec
from desktop_app.core.errors import UserError
from desktop_app.core.model.backbones import BASE_LAYER_NAME
from desktop_app.core.model.summary import ModelSummary, ParamCounts, SummaryNode
from desktop_app.core.session import ModelSettings

POOLING_LAYER_NAME = "pooling"


def build_classifier(model: ModelSettings, n_classes: int, augmentation: AugmentationSpec | None = None,
                     seed: int | None = None):
    """The reference notebook's model, with the base frozen and called with training=False.

    ``model.weights`` is resolved to a file first ("imagenet": Keras' cache, downloaded
    when missing), so the base itself only ever loads a file.
    """
    import keras

    from desktop_app.core.augment.layers import build_augmentation
    from desktop_app.core.model.backbones import create_base, preprocessing_layer
    from desktop_app.core.model.weights import resolve_weights

    weights_file = resolve_weights(model.weights, model.backbone, model.alpha, model.img_size)
    base = create_base(model.backbone, model.img_size, weights_file, model.alpha)
    base.trainable = False

    inputs = keras.Input(shape=(model.img_size, model.img_size, 3), name="image")
    x = inputs
    block = build_augmentation(augmentation or AugmentationSpec(), seed=seed)
    if block is not None:
        x = block(x)
    preprocessing = preprocessing_layer(model.backbone)
    if preprocessing is not None:
        x = preprocessing(x)
    # training=False keeps BatchNorm layers in inference mode even when unfrozen later,
    # so fine-tuning does not wreck the statistics learned on ImageNet.
    x = base(x, training=False)
    pooling = keras.layers.GlobalMaxPooling2D if model.pooling == "max" else keras.layers.GlobalAveragePooling2D
    x = pooling(name=POOLING_LAYER_NAME)(x)
    if model.hidden_units:
        x = keras.layers.Dense(model.hidden_units, activation="relu", name="hidden")(x)
    if model.dropout:
        x = keras.layers.Dropout(model.dropout, seed=seed, name="dropout")(x)
    # Zeros (the Big Transfer recipe): the first guess is uniform, loss ln(K), so a short run
    # learns the classes instead of first undoing a confident random start. float32 whatever the
    # precision of the rest (mixed precision): a float16 softmax and loss lose small probabilities.
    outputs = keras.layers.Dense(n_classes, activation="softmax", kernel_initializer="zeros",
                                 bias_initializer="zeros", dtype="float32", name="predictions")(x)
    return keras.Model(inputs, outputs, name="transfer_classifier")


_summaries: OrderedDict[tuple, ModelSummary] = OrderedDict()
_summaries_lock = threading.Lock()


def cached_summary(model: ModelSettings, n_classes: int, augmentation: AugmentationSpec | None = None,
                   keep: int = 8) -> ModelSummary:
    """The summary of the classifier for these settings, built once (with random weights:
    the counts do not depend on the weights' values, and it stays offline)."""
    key = (replace(model, weights=None), n_classes, augmentation or AugmentationSpec())
    with _summaries_lock:
        if key in _summaries:
            _summaries.move_to_end(key)
            return copy.deepcopy(_summaries[key])
    summary = summarize(build_classifier(*key))
    with _summaries_lock:
        _summaries[key] = summary
        while len(_summaries) > keep:
            _summaries.popitem(last=False)
    return copy.deepcopy(summary)


OPTIMIZERS = {"adam": "Adam", "sgd": "SGD", "rmsprop": "RMSprop"}


def make_optimizer(name: str, learning_rate: float):
    import keras

    try:
        return getattr(keras.optimizers, OPTIMIZERS[name.lower()])(learning_rate=learning_rate)
    except KeyError:
        raise UserError(f"Unknown optimizer {name!r}; choose one of: {', '.join(OPTIMIZERS)}.") from None


def compile_classifier(model, learning_rate: float, optimizer: str | object = "adam", **loss_options) -> None:
    """Compile for training; ``optimizer`` is a name or an optimizer to share (fast mode),
    ``loss_options`` go to Keras' CategoricalCrossentropy."""
    import keras

    if isinstance(optimizer, str):
        optimizer = make_optimizer(optimizer, learning_rate)
    loss = keras.losses.CategoricalCrossentropy(**loss_options)
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])


def base_of(model):
    return model.get_layer(BASE_LAYER_NAME)


def unfreeze_mask(is_batch_norm: Sequence[bool], n_layers: int) -> list[bool]:
    """Which base layers are trainable when the top ``n_layers`` are unfrozen.

    The one rule both ``unfreeze_top`` (on a Keras model) and ``preview_unfreeze`` (on a
    summary, for live counts in the GUI) apply: BatchNormalization layers stay frozen.
    """
    cut = len(is_batch_norm) - max(0, n_layers)
    return [i >= cut and not bn for i, bn in enumerate(is_batch_norm)]


def unfreeze_top(model, n_layers: int) -> None:
    """Make the top ``n_layers`` of the base trainable, except BatchNormalization layers.

    n_layers = 0 freezes the whole base. The caller recompiles (training does it).
    """
    import keras

    base = base_of(model)
    if n_layers <= 0:
        base.trainable = False
        return
    base.trainable = True
    mask = unfreeze_mask([isinstance(layer, keras.layers.BatchNormalization) for layer in base.layers], n_layers)
    for layer, trainable in zip(base.layers, mask):
        layer.trainable = trainable


def preview_unfreeze(summary: ModelSummary, n_layers: int) -> ModelSummary:
    """The summary as it would read after ``unfreeze_top(model, n_layers)``, without TensorFlow.

    Needs a summary from ``summarize`` (which records each base layer's unfreezable
    parameters); tests check it against the real thing.
    """
    result = copy.deepcopy(summary)
    try:
        base = result.root.find(BASE_LAYER_NAME)
    except KeyError:
        return result
    before = base.trainable_params
    mask = unfreeze_mask([child.is_batch_norm for child in base.children], n_layers)
    for child, trainable in zip(base.children, mask):
        child.trainable_params = child.unfreezable_params if trainable else 0
        if child.trainable is not None:
            child.trainable = trainable
    base.trainable_params = sum(child.trainable_params for child in base.children)
    if base.trainable is not None:
        base.trainable = n_layers > 0
    counts = summary.counts
    trainable = counts.trainable - before + base.trainable_params
    bytes_per_param = counts.total_bytes / counts.total if counts.total else 0.0
    result.counts = replace(counts, trainable=trainable, trainable_bytes=trainable * bytes_per_param)
    return result


def param_counts(model) -> ParamCounts:
    return ParamCounts(
        total=_count(model.weights), trainable=_count(model.trainable_weights),
        total_bytes=_bytes(model.weights), trainable_bytes=_bytes(model.trainable_weights),
    )


def _count(weights) -> int:
    unique = {id(w): w for w in weights}
    return int(sum(_size(w.shape) for w in unique.values()))


def _bytes(weights) -> float:
    import numpy as np

    unique = {id(w): w for w in weights}
    return float(sum(_size(w.shape) * np.dtype(w.dtype).itemsize for w in unique.values()))


def _size(shape) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


def summarize(model) -> ModelSummary:
    summary = ModelSummary(model.name, _node(model), param_counts(model))
    _record_unfreezable(model, summary)
    return summary


def _record_unfreezable(model, summary: ModelSummary) -> None:
    """Note what fully unfreezing the base would make trainable, then restore every flag."""
    try:
        base = base_of(model)
        base_node = summary.root.find(BASE_LAYER_NAME)
    except (ValueError, KeyError):
        return
    saved = (base.trainable, [layer.trainable for layer in base.layers])
    try:
        unfreeze_top(model, len(base.layers))
        for layer, node in zip(base.layers, base_node.children):
            node.unfreezable_params = _count(layer.trainable_weights)
        base_node.unfreezable_params = sum(node.unfreezable_params for node in base_node.children)
    finally:
        base.trainable = saved[0]
        for layer, flag in zip(base.layers, saved[1]):
            layer.trainable = flag


def _node(layer) -> SummaryNode:
    import keras

    children = [_node(sub) for sub in layer.layers] if isinstance(layer, keras.Model) else []
    has_weights = bool(layer.weights)
    return SummaryNode(
        name=layer.name,
        type_name=type(layer).__name__,
        output_shape=_output_shape(layer),
        params=_count(layer.weights),
        trainable_params=_count(layer.trainable_weights),
        trainable=bool(layer.trainable) if has_weights else None,
        is_batch_norm=isinstance(layer, keras.layers.BatchNormalization),
        children=children,
    )


def _output_shape(layer) -> str:
    try:
        shape = layer.output.shape
    except (AttributeError, ValueError):
        return "?"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"
