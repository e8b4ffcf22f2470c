"""The model-summary tree: Layer (type), Output shape, Param #, Trainable, plus the totals.

Shows plain ``SummaryNode`` data (from ``core.model_builder.summarize``); no TensorFlow here.
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QHeaderView, QLabel, QLineEdit, QTreeView, QVBoxLayout, QWidget

from desktop_app.core.model.summary import ModelSummary, SummaryNode

COLUMNS = ("Layer (type)", "Output shape", "Param #", "Trainable")
TREE_POINT_SIZE = 13  # readable from the back of a classroom on a projector

FROZEN_COLOUR = QColor("#6b7280")
TRAINABLE_BACKGROUND = QColor("#dcfce7")
TRAINABLE_COLOUR = QColor("#14532d")

BATCH_NORM_TIP = (
    "BatchNormalization layers stay frozen even when fine-tuning: they hold averages measured on "
    "millions of ImageNet photos, and re-learning them from a few photos would undo what the base knows."
)
FROZEN_TIP = "Frozen: training does not change this layer's numbers; it keeps what it learned on ImageNet."
TRAINABLE_TIP = "Trainable: training adjusts this layer's numbers to your classes."
NO_WEIGHTS_TIP = "This layer has no numbers to learn (it only reshapes, pools or activates)."

Index = QModelIndex | QPersistentModelIndex


class _Item:
    """A node with its parent and row, so the model can answer parent() quickly."""

    __slots__ = ("node", "parent", "row", "children")

    def __init__(self, node: SummaryNode, parent: _Item | None, row: int):
        self.node, self.parent, self.row = node, parent, row
        self.children = [_Item(child, self, i) for i, child in enumerate(node.children)]


class SummaryTreeModel(QAbstractItemModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.summary: ModelSummary | None = None
        self._root: _Item | None = None

    # -- content -------------------------------------------------------------------------
    def set_summary(self, summary: ModelSummary | None) -> None:
        """Show ``summary``; with the same layers as before only the values change, so
        expanded rows and the selection survive live unfreeze updates."""
        if summary is not None and self._root is not None and _same_shape(self._root, summary.root):
            self.summary = summary
            self._refresh(self._root, summary.root)
            return
        self.beginResetModel()
        self.summary = summary
        self._root = _Item(summary.root, None, 0) if summary else None
        self.endResetModel()

    def _refresh(self, item: _Item, node: SummaryNode) -> None:
        item.node = node
        for child, child_node in zip(item.children, node.children):
            self._refresh(child, child_node)
        if item.children:
            parent = self._index_of(item)
            self.dataChanged.emit(self.index(0, 0, parent), self.index(len(item.children) - 1, len(COLUMNS) - 1, parent))

    def _index_of(self, item: _Item) -> QModelIndex:
        return QModelIndex() if item.parent is None else self.createIndex(item.row, 0, item)

    def node(self, index: Index) -> SummaryNode | None:
        return index.internalPointer().node if index.isValid() else None

    # -- QAbstractItemModel --------------------------------------------------------------
    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:
        owner = parent.internalPointer() if parent.isValid() else self._root
        if owner is None or not (0 <= row < len(owner.children)) or not (0 <= column < len(COLUMNS)):
            return QModelIndex()
        return self.createIndex(row, column, owner.children[row])

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]
        if not index.isValid():
            return QModelIndex()
        parent = index.internalPointer().parent
        if parent is None or parent is self._root:
            return QModelIndex()
        return self.createIndex(parent.row, 0, parent)

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        if parent.isValid():
            return len(parent.internalPointer().children) if parent.column() == 0 else 0
        return len(self._root.children) if self._root else 0

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        node: SummaryNode = index.internalPointer().node
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return f"{node.name} ({node.type_name})"
            if column == 1:
                return node.output_shape
            if column == 2:
                return f"{node.params:,}"
            return _trainable_text(node)
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return _tooltip(node)
        if role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(TRAINABLE_COLOUR if node.trainable_params else FROZEN_COLOUR)
        if role == Qt.ItemDataRole.BackgroundRole and node.trainable_params:
            return QBrush(TRAINABLE_BACKGROUND)
        if role == Qt.ItemDataRole.FontRole:
            font = QFont()
            font.setPointSize(TREE_POINT_SIZE)
            font.setBold(bool(node.trainable_params))
            font.setItalic(node.trainable is False)
            return font
        return None


def _same_shape(item: _Item, node: SummaryNode) -> bool:
    return (item.node.name == node.name and len(item.children) == len(node.children)
            and all(_same_shape(c, n) for c, n in zip(item.children, node.children)))


def _trainable_text(node: SummaryNode) -> str:
    if node.children and node.params:
        if node.trainable_params == node.params:
            return "yes"
        return "partly" if node.trainable_params else "no (frozen)"
    if node.trainable is None:
        return "–"
    if node.is_batch_norm and not node.trainable:
        return "no (BatchNorm)"
    return "yes" if node.trainable else "no (frozen)"


def _tooltip(node: SummaryNode) -> str:
    if node.is_batch_norm:
        return BATCH_NORM_TIP
    if not node.params:
        return NO_WEIGHTS_TIP
    if node.children:
        return (f"{node.name}: a model used as a layer, {len(node.children)} layers inside; "
                f"{node.trainable_params:,} of its {node.params:,} numbers are trainable. Expand it to see them.")
    return TRAINABLE_TIP if node.trainable_params else FROZEN_TIP


class _FilterProxy(QSortFilterProxyModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setRecursiveFilteringEnabled(True)  # keep the parents of matching layers
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterKeyColumn(0)


class ModelTreeWidget(QWidget):
    """Filter box, the tree, and the totals line."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = SummaryTreeModel(self)
        self.proxy = _FilterProxy(self)
        self.proxy.setSourceModel(self.model)

        self.filter_edit = QLineEdit(objectName="layerFilter", placeholderText="Find a layer, e.g. block6 or conv")
        self.filter_edit.setAccessibleName("Find a layer")
        self.filter_edit.setToolTip("Type part of a layer's name or type to show only matching layers.")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self.set_filter)

        self.view = QTreeView(objectName="modelTree")
        self.view.setAccessibleName("Model layers")
        self.view.setToolTip("The model, layer by layer. Grey italic rows are frozen, green bold rows are trainable. "
                             "Expand base_model to see the pretrained network's own layers.")
        self.view.setModel(self.proxy)
        self.view.setUniformRowHeights(True)
        self.view.setAlternatingRowColors(False)
        font = self.view.font()
        font.setPointSize(TREE_POINT_SIZE)
        self.view.setFont(font)
        self.view.header().setFont(font)
        header = self.view.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)

        self.totals = QLabel(objectName="modelTotals")
        self.totals.setAccessibleName("Parameter totals")
        self.totals.setToolTip("Counted exactly as Keras' model.summary() counts them. Trainable numbers change "
                               "during training; non-trainable ones (frozen layers) stay as they are.")
        self.totals.setStyleSheet(f"font-size: {TREE_POINT_SIZE + 1}pt; font-weight: 600;")
        self.totals.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.filter_edit)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.totals)

    def set_summary(self, summary: ModelSummary | None) -> None:
        self.model.set_summary(summary)
        if summary is None:
            self.totals.setText("")
            return
        c = summary.counts
        self.totals.setText(f"Total: {c.total:,}   ·   Trainable: {c.trainable:,}   ·   Non-trainable: {c.non_trainable:,}")
        if self.filter_edit.text():
            self.view.expandAll()

    def set_filter(self, text: str) -> None:
        self.proxy.setFilterFixedString(text.strip())
        if text.strip():
            self.view.expandAll()  # matches hide inside the base; show them

    def index_of(self, name: str) -> QModelIndex:
        """The view's index of the layer called ``name`` (first match), or an invalid index."""
        matches = self.proxy.match(self.proxy.index(0, 0), Qt.ItemDataRole.DisplayRole, f"{name} (",
                                   1, Qt.MatchFlag.MatchStartsWith | Qt.MatchFlag.MatchRecursive)
        return matches[0] if matches else QModelIndex()

    def expand(self, name: str) -> None:
        index = self.index_of(name)
        if index.isValid():
            self.view.expand(index)

    def selected_node(self) -> tuple[SummaryNode | None, SummaryNode | None]:
        """The selected layer and its parent's node (None at the top level)."""
        index = self.view.currentIndex()
        if not index.isValid():
            return None, None
        source = self.proxy.mapToSource(index)
        return self.model.node(source), self.model.node(source.parent())

    def visible_rows(self, parent: QModelIndex = QModelIndex()) -> list[str]:
        """Display texts of the rows the filter lets through (for tests and screen readers)."""
        rows = []
        for row in range(self.proxy.rowCount(parent)):
            index = self.proxy.index(row, 0, parent)
            rows.append(index.data())
            rows.extend(self.visible_rows(index))
        return rows
