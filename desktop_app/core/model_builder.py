"""Build the classifier (augmentation -> pretrained base -> pooling -> softmax head),
freeze and unfreeze its base, and describe it as a ``ModelSummary`` tree."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace

from desktop_app.core.augmentation import AugmentationSpec
from desktop_app.core.errors import UserError
from desktop_app.core.backbones import BASE_LAYER_NAME, DEFAULT_BACKBONE
from desktop_app.core.summary import ModelSummary, ParamCounts, SummaryNode

POOLING_LAYER_NAME = "pooling"
AUGMENTATION_LAYER_NAME = "data_augmentation"


@dataclass(frozen=True)
class HeadSpec:
    pooling: str = "avg"  # "avg" or "max"
    dropout: float = 0.0
    hidden_units: int = 0  # 0: no hidden dense layer


@dataclass(frozen=True)
class ModelSpec:
    n_classes: int
    backbone: str = DEFAULT_BACKBONE
    alpha: float | None = None
    img_size: int = 224
    weights: str | None = "imagenet"  # "imagenet", None, or a weights file path
    augmentation: AugmentationSpec = field(default_factory=AugmentationSpec)
    head: HeadSpec = field(default_factory=HeadSpec)
    seed: int | None = None

    def to_dict(self) -> dict:
        data = asdict(self)
        data["augmentation"] = self.augmentation.to_dict()
        return data


def build_classifier(spec: ModelSpec):
    """The reference notebook's model, with the base frozen and called with training=False."""
    import keras

    from desktop_app.core.augmentation import build_augmentation
    from desktop_app.core.backbones import create_base, preprocessing_layer

    base = create_base(spec.backbone, spec.img_size, spec.weights, spec.alpha)
    base.trainable = False

    inputs = keras.Input(shape=(spec.img_size, spec.img_size, 3), name="image")
    x = inputs
    augmentation = build_augmentation(spec.augmentation, seed=spec.seed)
    if augmentation is not None:
        x = augmentation(x)
    preprocessing = preprocessing_layer(spec.backbone)
    if preprocessing is not None:
        x = preprocessing(x)
    # training=False keeps BatchNorm layers in inference mode even when unfrozen later,
    # so fine-tuning does not wreck the statistics learned on ImageNet.
    x = base(x, training=False)
    pooling = keras.layers.GlobalMaxPooling2D if spec.head.pooling == "max" else keras.layers.GlobalAveragePooling2D
    x = pooling(name=POOLING_LAYER_NAME)(x)
    if spec.head.hidden_units:
        x = keras.layers.Dense(spec.head.hidden_units, activation="relu", name="hidden")(x)
    if spec.head.dropout:
        x = keras.layers.Dropout(spec.head.dropout, seed=spec.seed, name="dropout")(x)
    outputs = keras.layers.Dense(spec.n_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="transfer_classifier")


OPTIMIZERS = {"adam": "Adam", "sgd": "SGD", "rmsprop": "RMSprop"}


def make_optimizer(name: str, learning_rate: float):
    import keras

    try:
        return getattr(keras.optimizers, OPTIMIZERS[name.lower()])(learning_rate=learning_rate)
    except KeyError:
        raise UserError(f"Unknown optimizer {name!r}; choose one of: {', '.join(OPTIMIZERS)}.") from None


def compile_classifier(model, learning_rate: float, optimizer: str | object = "adam") -> None:
    """Compile for training; ``optimizer`` is a name or an optimizer to share (fast mode)."""
    if isinstance(optimizer, str):
        optimizer = make_optimizer(optimizer, learning_rate)
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])


def base_of(model):
    return model.get_layer(BASE_LAYER_NAME)


FINE_TUNE_LR_FACTOR = 10


def fine_tune_learning_rate(learning_rate: float) -> float:
    """Fine-tuning continues 10x slower, so the unfrozen pretrained layers change only a little."""
    return learning_rate / FINE_TUNE_LR_FACTOR


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
