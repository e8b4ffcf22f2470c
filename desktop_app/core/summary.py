"""The model-summary tree as plain data (no TensorFlow needed to read or show it)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ParamCounts:
    total: int
    trainable: int

    @property
    def non_trainable(self) -> int:
        return self.total - self.trainable


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
    children: list[SummaryNode] = field(default_factory=list)

    def walk(self) -> Iterator[tuple[int, SummaryNode]]:
        """Every node below this one, depth first, with its depth (children are depth 0)."""
        for child in self.children:
            yield 0, child
            for depth, node in child.walk():
                yield depth + 1, node

    def find(self, name: str) -> SummaryNode:
        for _, node in self.walk():
            if node.name == name:
                return node
        raise KeyError(name)


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
        out += [
            rule,
            f"Total params: {self.counts.total:,}",
            f"Trainable params: {self.counts.trainable:,}",
            f"Non-trainable params: {self.counts.non_trainable:,}",
        ]
        return "\n".join(out) + "\n"


def _trainable_mark(trainable: bool | None) -> str:
    return "-" if trainable is None else ("Y" if trainable else "N")
