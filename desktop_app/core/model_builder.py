"""Build the classifier (augmentation -> pretrained base -> pooling -> softmax head),
freeze and unfreeze its base, and describe it as a ``ModelSummary`` tree."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from desktop_app.core.augmentation import AugmentationSpec
from desktop_app.core.backbones import DEFAULT_BACKBONE
from desktop_app.core.summary import ModelSummary, ParamCounts, SummaryNode

BASE_LAYER_NAME = "base_model"
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
    x = pooling(name="pooling")(x)
    if spec.head.hidden_units:
        x = keras.layers.Dense(spec.head.hidden_units, activation="relu", name="hidden")(x)
    if spec.head.dropout:
        x = keras.layers.Dropout(spec.head.dropout, seed=spec.seed, name="dropout")(x)
    outputs = keras.layers.Dense(spec.n_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="transfer_classifier")


def compile_classifier(model, learning_rate: float) -> None:
    import keras

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )


def base_of(model):
    return model.get_layer(BASE_LAYER_NAME)


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
    cut = max(0, len(base.layers) - n_layers)
    for i, layer in enumerate(base.layers):
        layer.trainable = i >= cut and not isinstance(layer, keras.layers.BatchNormalization)


def param_counts(model) -> ParamCounts:
    return ParamCounts(total=_count(model.weights), trainable=_count(model.trainable_weights))


def _count(weights) -> int:
    unique = {id(w): w for w in weights}
    return int(sum(_size(w.shape) for w in unique.values()))


def _size(shape) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


def summarize(model) -> ModelSummary:
    return ModelSummary(model.name, _node(model), param_counts(model))


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
