"""The model-summary tree: layer, what comes out, numbers it learns, trainable; the totals.

Keras' words (layer types, shapes, "Param #") stay visible for those who know them;
each column and row also says in plain words what it means.

Shows plain ``SummaryNode`` data (from ``core.model_builder.summarize``); no TensorFlow here.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP, QAbstractItemModel, QCoreApplication, QEvent, QModelIndex, QPersistentModelIndex,
    QSortFilterProxyModel, Qt, QTimer,
)
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics
from PySide6.QtWidgets import (
    QHeaderView, QLabel, QLineEdit, QStyledItemDelegate, QStyleOptionViewItem, QTreeView, QVBoxLayout, QWidget,
)

from desktop_app.core.model.summary import ModelSummary, SummaryNode, plain_shape

# Sentences are marked here and translated where they are shown, with ``tree_text``.
COLUMNS = (QT_TRANSLATE_NOOP("ModelTreeWidget", "Layer (type)"), QT_TRANSLATE_NOOP("ModelTreeWidget", "What comes out"),
           QT_TRANSLATE_NOOP("ModelTreeWidget", "Numbers it learns"), QT_TRANSLATE_NOOP("ModelTreeWidget", "Trainable"))
COLUMN_TIPS = (
    QT_TRANSLATE_NOOP("ModelTreeWidget", "Each layer's name and, in brackets, its kind as Keras calls it. Hover a "
                                         "row for what that kind does."),
    QT_TRANSLATE_NOOP("ModelTreeWidget", "What the layer hands to the next one: a grid (rows x columns) with a list "
                                         "of numbers at every point, or one list of numbers. Keras writes it as a "
                                         "shape such as (None, 7, 7, 256), None meaning any number of photos at "
                                         "once."),
    QT_TRANSLATE_NOOP("ModelTreeWidget", "How many numbers (weights; Keras' \"Param #\") the layer holds. Training "
                                         "adjusts them, except in frozen layers, which keep what they learned on "
                                         "ImageNet."),
    QT_TRANSLATE_NOOP("ModelTreeWidget", "Whether training changes this layer's numbers now: yes, no (frozen), or "
                                         "a dash for layers that have no numbers to learn."),
)
TREE_POINT_SIZE = 13  # readable from the back of a classroom on a projector
NAME_SHARE = 0.45  # of the tree's width, at most, kept for whole layer names

FROZEN_COLOUR = QColor("#6b7280")
TRAINABLE_BACKGROUND = QColor("#dcfce7")
TRAINABLE_COLOUR = QColor("#14532d")

BATCH_NORM_TIP = QT_TRANSLATE_NOOP(
    "ModelTreeWidget", "BatchNorm (batch normalisation) layers keep the numbers flowing through the network in a "
                       "steady range, using averages measured on millions of ImageNet photos. They stay frozen "
                       "even when fine-tuning: re-learning those averages from a few photos would undo what the "
                       "base knows.")
# What each kind of layer does, in words (Keras' class names; unknown kinds get none).
LAYER_WORDS = {
    "Functional": QT_TRANSLATE_NOOP(
        "ModelTreeWidget", "A whole network used as one layer (here the pretrained base). Expand it to see its "
                           "layers."),
    "Sequential": QT_TRANSLATE_NOOP(
        "ModelTreeWidget", "A block of layers applied one after another (here: the random changes of augmentation, "
                           "used only while training)."),
    "InputLayer": QT_TRANSLATE_NOOP(
        "ModelTreeWidget", "Where the photo comes in: rows x columns of pixels, 3 numbers (red, green, blue) each."),
    "Rescaling": QT_TRANSLATE_NOOP(
        "ModelTreeWidget", "Changes the pixel values from 0-255 to the range the base expects."),
    "Normalization": QT_TRANSLATE_NOOP(
        "ModelTreeWidget", "Shifts and scales the pixel values as the base saw them in training."),
    "Conv2D": QT_TRANSLATE_NOOP(
        "ModelTreeWidget", "Looks for small patterns (edges, textures, parts) at every place in the picture."),
    "DepthwiseConv2D": QT_TRANSLATE_NOOP(
        "ModelTreeWidget", "Looks for patterns at every place, in each channel separately (cheap and fast)."),
    "SeparableConv2D": QT_TRANSLATE_NOOP(
        "ModelTreeWidget", "Looks for patterns at every place, cheaply, in two steps."),
    "BatchNormalization": BATCH_NORM_TIP,
    "ReLU": QT_TRANSLATE_NOOP(
        "ModelTreeWidget", "Keeps positive numbers and turns negative ones into 0 (no numbers to learn)."),
    "Activation": QT_TRANSLATE_NOOP(
        "ModelTreeWidget", "Bends the numbers through a fixed curve so the network can learn more than straight "
                           "lines."),
    "ZeroPadding2D": QT_TRANSLATE_NOOP(
        "ModelTreeWidget", "Adds a border of zeros around the grid so the edges are looked at too."),
    "Add": QT_TRANSLATE_NOOP("ModelTreeWidget", "Adds two paths of the network together (a shortcut)."),
    "Multiply": QT_TRANSLATE_NOOP(
        "ModelTreeWidget", "Multiplies two paths together (lets the network stress some channels)."),
    "GlobalAveragePooling2D": QT_TRANSLATE_NOOP(
        "ModelTreeWidget", "Pooling: turns the grid into one list, the average of each number over the photo."),
    "GlobalMaxPooling2D": QT_TRANSLATE_NOOP(
        "ModelTreeWidget", "Pooling: turns the grid into one list, the strongest value of each number anywhere."),
    "AveragePooling2D": QT_TRANSLATE_NOOP("ModelTreeWidget", "Shrinks the grid by averaging neighbouring points."),
    "MaxPooling2D": QT_TRANSLATE_NOOP(
        "ModelTreeWidget", "Shrinks the grid by keeping the strongest of neighbouring points."),
    "Dropout": QT_TRANSLATE_NOOP(
        "ModelTreeWidget", "While training, ignores a random part of the numbers, so the head cannot lean on a "
                           "few. Does nothing when predicting."),
    "Dense": QT_TRANSLATE_NOOP(
        "ModelTreeWidget", "Connects every number to every output; the head's layer that learns your classes."),
    "LayerNormalization": QT_TRANSLATE_NOOP("ModelTreeWidget", "Keeps each photo's numbers in a steady range."),
    "Reshape": QT_TRANSLATE_NOOP("ModelTreeWidget", "Arranges the same numbers in another shape."),
    "RandomFlip": QT_TRANSLATE_NOOP("ModelTreeWidget", "Augmentation: mirrors the photo at random while training."),
    "RandomRotation": QT_TRANSLATE_NOOP(
        "ModelTreeWidget", "Augmentation: turns the photo a little at random while training."),
    "RandomZoom": QT_TRANSLATE_NOOP(
        "ModelTreeWidget", "Augmentation: zooms in or out a little at random while training."),
    "RandomTranslation": QT_TRANSLATE_NOOP(
        "ModelTreeWidget", "Augmentation: shifts the photo a little at random while training."),
    "RandomContrast": QT_TRANSLATE_NOOP(
        "ModelTreeWidget", "Augmentation: changes the contrast a little at random while training."),
    "RandomBrightness": QT_TRANSLATE_NOOP(
        "ModelTreeWidget", "Augmentation: changes the brightness a little at random while training."),
}
FROZEN_TIP = QT_TRANSLATE_NOOP(
    "ModelTreeWidget", "Frozen: training does not change this layer's numbers; it keeps what it learned on "
                       "ImageNet.")
TRAINABLE_TIP = QT_TRANSLATE_NOOP(
    "ModelTreeWidget", "Trainable: training adjusts this layer's numbers to your classes.")
NO_WEIGHTS_TIP = QT_TRANSLATE_NOOP(
    "ModelTreeWidget", "This layer has no numbers to learn (it only reshapes, pools or activates).")


def tree_text(sentence: str) -> str:
    """One of the sentences above in the user's language."""
    return QCoreApplication.translate("ModelTreeWidget", sentence)

Index = QModelIndex | QPersistentModelIndex
NODE_ROLE = Qt.ItemDataRole.UserRole + 1  # the row's SummaryNode


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
            return tree_text(COLUMNS[section])
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return tree_text(COLUMN_TIPS[section])
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
                return plain_shape(node.output_shape)
            if column == 2:
                return f"{node.params:,}"
            return _trainable_text(node)
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return _tooltip(node, column)
        if role == NODE_ROLE:
            return node
        if role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(TRAINABLE_COLOUR if node.trainable_params else FROZEN_COLOUR)
        if role == Qt.ItemDataRole.BackgroundRole and node.trainable_params:
            return QBrush(TRAINABLE_BACKGROUND)
        if role == Qt.ItemDataRole.FontRole:
            font = QFont()  # bold and italic only: the size is the view's (presentation mode scales it)
            font.setBold(bool(node.trainable_params))
            font.setItalic(node.trainable is False)
            return font
        return None


def _same_shape(item: _Item, node: SummaryNode) -> bool:
    return (item.node.name == node.name and len(item.children) == len(node.children)
            and all(_same_shape(c, n) for c, n in zip(item.children, node.children)))


def _trainable_text(node: SummaryNode) -> str:
    yes = QCoreApplication.translate("ModelTreeWidget", "yes")
    frozen = QCoreApplication.translate("ModelTreeWidget", "no (frozen)")
    if node.children and node.params:
        if node.trainable_params == node.params:
            return yes
        return QCoreApplication.translate("ModelTreeWidget", "partly") if node.trainable_params else frozen
    if node.trainable is None:
        return "–"
    if node.is_batch_norm and not node.trainable:
        return QCoreApplication.translate("ModelTreeWidget", "no (BatchNorm)")
    return yes if node.trainable else frozen


def _tooltip(node: SummaryNode, column: int = 0) -> str:
    """The row's full name (the column may cut it), what its kind does, and its state."""
    if column == 1:
        return QCoreApplication.translate("ModelTreeWidget", "{shape}. Keras writes it as {keras_shape}.").format(
            shape=plain_shape(node.output_shape), keras_shape=node.output_shape)
    lines = [f"{node.name} ({node.type_name})"]
    if node.type_name in LAYER_WORDS and not node.is_batch_norm:
        lines.append(tree_text(LAYER_WORDS[node.type_name]))
    if node.is_batch_norm:
        lines.append(tree_text(BATCH_NORM_TIP))
    elif not node.params:
        lines.append(tree_text(NO_WEIGHTS_TIP))
    elif node.children:
        lines.append(QCoreApplication.translate(
            "ModelTreeWidget", "{layers} layers inside; {trainable:,} of its {params:,} numbers are trainable.").format(
            layers=len(node.children), trainable=node.trainable_params, params=node.params))
    else:
        lines.append(tree_text(TRAINABLE_TIP if node.trainable_params else FROZEN_TIP))
    return "\n".join(lines)


def fitted_name(name: str, type_name: str, metrics: QFontMetrics, width: int) -> str:
    """"name (type)" in ``width`` pixels: the type is shortened first, then the name loses its
    middle, never its end (conv_dw_13_bn stays told apart from conv_dw_12_bn)."""
    full = f"{name} ({type_name})"
    if metrics.horizontalAdvance(full) <= width:
        return full
    room = width - metrics.horizontalAdvance(f"{name} ()")
    if room >= metrics.horizontalAdvance("Conv…"):
        return f"{name} ({metrics.elidedText(type_name, Qt.TextElideMode.ElideRight, room)})"
    return metrics.elidedText(name, Qt.TextElideMode.ElideMiddle, width)


class _NameDelegate(QStyledItemDelegate):
    """Draws the name column with ``fitted_name``; the tooltip has the whole name."""

    MARGIN = 10  # the style's padding left and right of an item's text

    def initStyleOption(self, option: QStyleOptionViewItem, index) -> None:
        super().initStyleOption(option, index)
        node = index.model().data(index, NODE_ROLE)
        if node is not None:
            option.text = fitted_name(node.name, node.type_name, option.fontMetrics, option.rect.width() - self.MARGIN)


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

        self.filter_edit = QLineEdit(objectName="layerFilter",
                                     placeholderText=self.tr("Find a layer, e.g. block6 or conv"))
        self.filter_edit.setAccessibleName(self.tr("Find a layer"))
        self.filter_edit.setToolTip(self.tr("Type part of a layer's name or type to show only matching layers."))
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self.set_filter)

        self.view = QTreeView(objectName="modelTree")
        self.view.setAccessibleName(self.tr("Model layers"))
        self.view.setToolTip(self.tr("The model, layer by layer. Grey italic rows are frozen, green bold rows are "
                                     "trainable. Expand base_model to see the pretrained network's own layers."))
        self.view.setModel(self.proxy)
        self.view.setUniformRowHeights(True)
        # Long names (conv_dw_13_bn) keep their start and end (the delegate); a cut shape keeps its
        # start ("4 x 4 grid of…"); every tooltip has the whole text.
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.view.setItemDelegateForColumn(0, _NameDelegate(self.view))
        self.view.setIndentation(14)
        self.view.setAlternatingRowColors(False)
        # In a stylesheet, so presentation mode scales it like every other font.
        self.view.setStyleSheet(f"QTreeView, QHeaderView {{ font-size: {TREE_POINT_SIZE}pt; }}")
        header = self.view.header()
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(40)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
        # Columns fit the rows shown: on a resize, a font change, a new tree, a row opened.
        self._fit_timer = QTimer(self, singleShot=True, interval=0)
        self._fit_timer.timeout.connect(self.fit_columns)
        for signal in (self.view.expanded, self.view.collapsed):
            signal.connect(self._fit_timer.start)

        self.totals = QLabel(objectName="modelTotals")
        self.totals.setAccessibleName(self.tr("Parameter totals"))
        self.totals.setToolTip(self.tr("The numbers (weights) in the whole model, counted as Keras' model.summary() "
                                       "counts its Total, Trainable and Non-trainable params. Those learning now "
                                       "change during training; frozen ones stay as they are."))
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
        self.totals.setText(self.tr("Numbers in the model: {total:,}  ·  learning now: {trainable:,}  ·  "
                                    "frozen: {frozen:,}").format(total=c.total, trainable=c.trainable,
                                                                 frozen=c.non_trainable))
        if self.filter_edit.text():
            self.view.expandAll()
        self._fit_timer.start()

    def fit_columns(self) -> None:
        """The other columns as wide as their contents, but the names keep room for the longest
        name (without its type), up to ``NAME_SHARE`` of the width; the other columns then
        elide (every cell has a tooltip)."""
        available = self.view.viewport().width()
        header = self.view.header()
        # + a little: bold rows (trainable) are wider than the hint measures
        wanted = [max(self.view.sizeHintForColumn(c), header.sectionSizeHint(c)) + 12 for c in (1, 2, 3)]
        room = max(0, available - min(self._names_width(), int(available * NAME_SHARE)))
        shrink = min(1.0, room / sum(wanted)) if sum(wanted) else 1.0
        for column, width in zip((1, 2, 3), wanted):
            header.resizeSection(column, int(width * shrink))

    def _names_width(self) -> int:
        summary = self.model.summary
        if summary is None:
            return 0
        font = QFont(self.view.font())
        font.setBold(True)
        metrics, indent = QFontMetrics(font), self.view.indentation()
        widest = max((metrics.horizontalAdvance(node.name) + depth * indent for depth, node in summary.root.walk()),
                     default=0)
        return widest + indent + _NameDelegate.MARGIN

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_timer.start()

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._fit_timer.start()

    def apply_presentation_scale(self, _scale: float) -> None:
        self._fit_timer.start()

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
