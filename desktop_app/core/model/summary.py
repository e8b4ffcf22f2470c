"""The model-summary tree as plain data (no TensorFlow needed to read or show it)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ParamCounts:
    total: int
    trainable: int
    # Memory of the weights, as Keras' summary reports it next to each count.
    total_bytes: float = 0.0
    trainable_bytes: float = 0.0

    @property
    def non_trainable(self) -> int:
        return self.total - self.trainable

    @property
    def non_trainable_bytes(self) -> float:
        return self.total_bytes - self.trainable_bytes

    def totals_lines(self) -> list[str]:
        """The three totals lines worded and formatted as Keras' ``model.summary()`` prints them."""
        return [
            f"{title} params: {count:,} ({readable_memory_size(size)})"
            for title, count, size in (
                ("Total", self.total, self.total_bytes),
                ("Trainable", self.trainable, self.trainable_bytes),
                ("Non-trainable", self.non_trainable, self.non_trainable_bytes),
            )
        ]


def readable_memory_size(size: float) -> str:
    """Keras' ``summary_utils.readable_memory_size``: 1024-based, two decimals."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} PB"


@dataclass
class SummaryNode:
    name: str
    type_name: str
    output_shape: str
    params: int
    trainable_params: int
    # None for layers without weights (nothing to freeze), else the layer's own flag.
    trainable: bool | None
    is_batch_norm: bool = False
    # Parameters that become trainable when fine-tuning unfreezes this layer (0 for
    # BatchNormalization, which stays frozen, and for fixed statistics).
    unfreezable_params: int = 0
    children: list[SummaryNode] = field(default_factory=list)

    def walk(self) -> Iterator[tuple[int, SummaryNode]]:
        """Every node below this one, depth first, with its depth (children are depth 0)."""
        for child in self.children:
            yield 0, child
            for depth, node in child.walk():
                yield depth + 1, node

    def layers_that_learn(self) -> int:
        """How many layers directly inside this one training changes (those with trainable numbers)."""
        return sum(1 for child in self.children if child.trainable_params)

    def find(self, name: str) -> SummaryNode:
        for _, node in self.walk():
            if node.name == name:
                return node
        raise KeyError(name)


def plain_shape(output_shape: str) -> str:
    """Keras' "(None, 7, 7, 256)" in words: "7 x 7 grid of 256 numbers" (None is the batch:
    any number of photos at once, so it is left out)."""
    dims = [d.strip() for d in output_shape.strip("()").split(",") if d.strip()]
    if not dims or not all(d.isdigit() or d == "None" for d in dims):
        return output_shape
    if dims[0] == "None":
        dims = dims[1:]
    dims = [f"{int(d):,}" if d.isdigit() else d for d in dims]
    if len(dims) == 1:
        return f"{dims[0]} numbers" if dims[0] != "1" else "1 number"
    if len(dims) == 3:
        return f"{dims[0]} x {dims[1]} grid of {dims[2]} numbers"
    return " x ".join(dims) + " numbers"


@dataclass
class ModelSummary:
    model_name: str
    root: SummaryNode
    counts: ParamCounts

    def to_text(self) -> str:
        """A table in the spirit of Keras' ``model.summary(expand_nested=True, show_trainable=True)``."""
        header = ("Layer (type)", "Output Shape", "Param #", "Trainable")
        rows = [
            ("  " * depth + f"{node.name} ({node.type_name})", node.output_shape, f"{node.params:,}",
             _trainable_mark(node.trainable))
            for depth, node in self.root.walk()
        ]
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
        line = "  ".join("{:<%d}" % w for w in widths[:2]) + "  {:>%d}  {:^%d}" % (widths[2], widths[3])
        rule = "-" * (sum(widths) + 6)
        out = [f'Model: "{self.model_name}"', rule, line.format(*header), rule]
        out += [line.format(*r) for r in rows]
        out += [rule, *self.counts.totals_lines()]
        return "\n".join(out) + "\n"


def _trainable_mark(trainable: bool | None) -> str:
    return "-" if trainable is None else ("Y" if trainable else "N")
