"""Step 3, Model: choose the pretrained base and head, see the layers, decide what to unfreeze.

The page shows ``session.model`` (and the fine-tuning cut, ``session.training.unfreeze_layers``)
and writes the user's edits into it. The model is built and summarised in the engine
process; this page only shows the tree it sends back.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QSignalBlocker, Qt
from PySide6.QtWidgets import (
    QButtonGroup, QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
    QProgressBar, QPushButton, QRadioButton, QScrollArea, QSlider, QSpinBox, QSplitter,
    QVBoxLayout, QWidget,
)

from desktop_app.core.engine import SummaryRequest, WeightsDownloadRequest, WeightsImportRequest
from desktop_app.core.model.backbones import BACKBONES, BASE_LAYER_NAME, choose_base, get_backbone
from desktop_app.core.model.builder import preview_unfreeze
from desktop_app.core.model.summary import ModelSummary
from desktop_app.core.model.weights import DownloadProgress, WeightsInfo, weights_info
from desktop_app.core.session import Session
from desktop_app.ui.tasks import Engine, LatestRequest
from desktop_app.ui.widgets.bindings import bind, follow
from desktop_app.ui.widgets.model_tree import BATCH_NORM_TIP, ModelTreeWidget, tree_text
from desktop_app.ui.widgets.step_page import SettingsDrawer, StepPage, named, set_role, styled_label

NO_WEIGHTS_WARNING = QT_TRANSLATE_NOOP(
    "ModelPanel", "Without pretrained weights the base starts from random numbers and, frozen, only passes on "
                  "noise: the head can hardly learn and results stay near guessing. Try it once to see what "
                  "pretrained weights are worth, or fine-tune many layers for many epochs so the base learns to see.")
SUMMARY_DEBOUNCE_MS = 300


class ModelPanel(StepPage):
    """Shows and edits ``session.model``; the tree comes from the engine."""

    wraps_to_fit = True  # its sentences about fine-tuning are long: on a small screen the page scrolls

    def __init__(self, session: Session, engine: Engine | None = None, parent: QWidget | None = None):
        super().__init__(
            QCoreApplication.translate("ModelPanel", "3. Model: borrow a network that already sees"),
            QCoreApplication.translate(
                "ModelPanel", "Transfer learning starts from a network trained on millions of photos (the base) and "
                              "adds a small new layer (the head) that learns your classes. At first the base is "
                              "frozen: only the head learns."),
            parent,
        )
        self.session = session
        self.n_classes = 2  # until a dataset is checked
        self._summary: ModelSummary | None = None  # as built: base frozen
        self._unfreeze_bindings: list = []
        self._stale = True  # the tree does not show the current settings
        self.builds = LatestRequest(engine, debounce_ms=SUMMARY_DEBOUNCE_MS, parent=self)
        self.builds.succeeded.connect(self._show_summary)
        self.builds.failed.connect(self._build_failed)
        self.builds.finished.connect(lambda: self.busy.setVisible(self.builds.is_running()))
        self.weights_work = LatestRequest(engine, parent=self)
        self.weights_work.progress.connect(self._weights_progress)
        self._message_cause: tuple | None = None  # the settings the weights message is about
        self.weights_work.succeeded.connect(self._weights_ready)
        self.weights_work.failed.connect(lambda text: self._set_weights_message(text, "error"))
        self.weights_work.finished.connect(self._weights_finished)

        splitter = QSplitter(Qt.Orientation.Horizontal, objectName="modelSplitter")
        splitter.addWidget(SettingsDrawer(self._settings_column()))  # folds in presentation mode: the tree gets the width
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        self.busy = QProgressBar(objectName="buildProgress", maximum=0, textVisible=False)
        self.busy.setAccessibleName(self.tr("Building the model"))
        self.busy.setMaximumHeight(8)
        self.busy.hide()
        self.status = styled_label(self.tr("The model is built when you open this page."), "explain", "modelStatus")
        self.tree = ModelTreeWidget()
        right_layout.addWidget(self.busy)
        right_layout.addWidget(self.status)
        right_layout.addWidget(self.tree, 1)
        right_layout.addLayout(self._unfreeze_row())
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([370, 830])
        self.layout_.addWidget(splitter, 1)

        follow(session.events.model, self._model_changed, self)
        follow(session.events.augmentation, self._settings_changed, self)
        follow(session.events.training, self._training_changed, self)
        follow(session.events.index, self._dataset_changed, self)
        self._dataset_changed(session.index)
        self._show_backbone()
        self._settings_changed()

    # -- building the controls -------------------------------------------------------------
    def _settings_column(self) -> QWidget:
        column = QWidget()
        layout = QVBoxLayout(column)
        layout.setContentsMargins(0, 0, 8, 0)

        base_box = QGroupBox(self.tr("Pretrained base"), objectName="baseGroup")
        form = QFormLayout(base_box)
        self.base_combo = named(QComboBox(), "baseCombo", self.tr("Pretrained base"),
                               self.tr("The network that already knows how to see. EfficientNetV2-B0 is a good "
                                       "start."))
        for key, backbone in BACKBONES.items():
            self.base_combo.addItem(backbone.label, key)
            self.base_combo.setItemData(self.base_combo.count() - 1, backbone.description, Qt.ItemDataRole.ToolTipRole)
        self.description = styled_label("", "explain", "baseDescription")
        self.alpha_combo = named(QComboBox(), "alphaCombo", self.tr("Width"),
                                self.tr("MobileNets come in widths: narrower is smaller and faster, wider is more "
                                        "accurate."))
        self.size_spin = named(QSpinBox(minimum=32, maximum=600, singleStep=16, suffix=self.tr(" px")),
                              "imageSizeSpin", self.tr("Image size"),
                              self.tr("Photos are resized to this many pixels square before the network sees them. "
                                      "The base's own size works best; smaller is faster."))
        form.addRow(self.tr("Base:"), self.base_combo)
        form.addRow(self.description)
        form.addRow(self.tr("Width:"), self.alpha_combo)
        form.addRow(self.tr("Image size:"), self.size_spin)
        layout.addWidget(base_box)

        # Short section titles: a title cannot wrap, and a long one is cut off in a narrow column.
        head_box = QGroupBox(self.tr("Head"), objectName="headGroup")
        form = QFormLayout(head_box)
        form.addRow(styled_label(self.tr("The new layers that learn your classes."), "explain", "headExplanation"))
        self.pooling_combo = named(QComboBox(), "poolingCombo", self.tr("Pooling"),
                                  self.tr("Pooling: the base hands over a grid of numbers for each photo (e.g. 7 x 7 "
                                          "points with 1,280 numbers each); pooling turns it into one list, the "
                                          "average over the whole photo or the strongest value anywhere."))
        self.pooling_combo.addItem(self.tr("Average over the photo"), "avg")
        self.pooling_combo.addItem(self.tr("Strongest anywhere"), "max")
        self.dropout_spin = named(QDoubleSpinBox(minimum=0.0, maximum=0.9, singleStep=0.1, decimals=1,
                                                 specialValueText=self.tr("off")), "dropoutSpin",
                                 self.tr("Dropout"),
                                 self.tr("Dropout: while training, randomly ignore this part of the numbers (0.2 = "
                                         "one in five), so the head cannot rely on a few of them and learns more "
                                         "general rules. Off is fine for a first run."))
        self.hidden_spin = named(QSpinBox(minimum=0, maximum=2048, singleStep=32, specialValueText=self.tr("none")),
                                "hiddenUnitsSpin", self.tr("Hidden layer size"),
                                self.tr("Hidden layer: an extra layer of this many numbers between the base and the "
                                        "output (hidden because you never see its result). It can learn "
                                        "combinations of features, but needs more photos; none is usually enough."))
        form.addRow(self.tr("Pooling:"), self.pooling_combo)
        form.addRow(self.tr("Dropout:"), self.dropout_spin)
        form.addRow(self.tr("Hidden layer:"), self.hidden_spin)
        self.output_label = styled_label("", "explain", "outputLabel")
        form.addRow(self.output_label)
        layout.addWidget(head_box)

        layout.addWidget(self._weights_box())
        layout.addStretch(1)

        self.base_combo.currentIndexChanged.connect(self._backbone_chosen)
        bind(self.size_spin, self.session, "model.img_size")
        bind(self.pooling_combo, self.session, "model.pooling")
        bind(self.dropout_spin, self.session, "model.dropout", from_widget=lambda v: round(v, 2))
        bind(self.hidden_spin, self.session, "model.hidden_units")
        self.alpha_combo.currentIndexChanged.connect(self._alpha_chosen)

        for field in (self.base_combo, self.alpha_combo, self.size_spin, self.pooling_combo, self.dropout_spin,
                      self.hidden_spin):
            _explain_label(field)

        scroll = QScrollArea(objectName="modelSettings")
        scroll.setWidget(column)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # texts wrap instead
        scroll.setMinimumWidth(360)
        return scroll

    def _weights_box(self) -> QGroupBox:
        box = QGroupBox(self.tr("Pretrained weights"), objectName="weightsGroup")
        layout = QVBoxLayout(box)
        self.imagenet_radio = named(QRadioButton(self.tr("ImageNet weights (recommended)")), "imagenetWeightsRadio",
                                   self.tr("Use ImageNet weights"),
                                   self.tr("Start from what the base learned on 1.4 million photos."))
        self.no_weights_radio = named(QRadioButton(self.tr("No pretrained weights")), "noWeightsRadio",
                                     self.tr("No pretrained weights"), self.tr(NO_WEIGHTS_WARNING))
        group = QButtonGroup(box)
        group.addButton(self.imagenet_radio)
        group.addButton(self.no_weights_radio)
        self.weights_status = styled_label("", "explain", "weightsStatus")
        self.weights_warning = styled_label(self.tr(NO_WEIGHTS_WARNING), "warning", "noWeightsWarning")
        self.weights_warning.hide()
        row = QHBoxLayout()
        self.download_button = named(QPushButton(self.tr("Download")), "downloadWeightsButton",
                                    self.tr("Download weights"),
                                    self.tr("Download the ImageNet weights from Keras' server into Keras' cache, so "
                                            "later runs work without internet."))
        self.cancel_button = named(QPushButton(self.tr("Cancel")), "cancelDownloadButton", self.tr("Cancel download"),
                                  self.tr("Stop the download; nothing half-downloaded is kept."))
        self.import_button = named(QPushButton(self.tr("Import file…")), "importWeightsButton",
                                  self.tr("Import weights file"),
                                  self.tr("No internet? Choose a copy of the weights file (e.g. from a USB stick). It "
                                          "is checked against the network before it is used."))
        self.cancel_button.hide()
        for button in (self.download_button, self.cancel_button, self.import_button):
            row.addWidget(button)
        self.weights_progress = QProgressBar(objectName="weightsProgress")
        self.weights_progress.setAccessibleName(self.tr("Download progress"))
        self.weights_progress.hide()
        self.weights_message = styled_label("", "explain", "weightsMessage")
        self.weights_message.hide()
        for widget in (self.imagenet_radio, self.no_weights_radio, self.weights_status):
            layout.addWidget(widget)
        layout.addLayout(row)
        layout.addWidget(self.weights_progress)
        layout.addWidget(self.weights_warning)
        layout.addWidget(self.weights_message)

        bind(self.no_weights_radio, self.session, "model.weights", lambda w: w is None,
             lambda none: None if none else "imagenet")
        bind(self.imagenet_radio, self.session, "model.weights", lambda w: w is not None,
             lambda imagenet: "imagenet" if imagenet else None)
        self.download_button.clicked.connect(self.download)
        self.cancel_button.clicked.connect(self.cancel_download)
        self.import_button.clicked.connect(self.choose_import_file)
        return box

    def _unfreeze_row(self) -> QVBoxLayout:
        tip = self.tr("For fine-tuning, after the head has learned: let the top N layers of the base learn too, "
                      "slowly. The top layers see whole objects and adapt best. {batch_norm}").format(
            batch_norm=tree_text(BATCH_NORM_TIP))
        layout = QVBoxLayout()
        row = QHBoxLayout()
        label = QLabel(self.tr("Unfreeze the top N layers of the base:"))
        label.setToolTip(tip)
        self.unfreeze_slider = named(QSlider(Qt.Orientation.Horizontal), "unfreezeSlider",
                                     self.tr("Layers to unfreeze"), tip)
        self.unfreeze_spin = named(QSpinBox(), "unfreezeSpin", self.tr("Layers to unfreeze"), tip)
        self.unfreeze_spin.setMinimumWidth(80)
        for widget in (self.unfreeze_slider, self.unfreeze_spin):
            self._unfreeze_bindings.append(bind(widget, self.session, "training.unfreeze_layers"))
            widget.valueChanged.connect(lambda _: self.preview_check.setChecked(True))
        self.cut_button = named(QPushButton(self.tr("Unfreeze from selected layer")), "unfreezeFromSelectedButton",
                               self.tr("Unfreeze from selected layer"),
                               self.tr("Select a layer inside base_model in the tree, then press this: that layer "
                                       "and every layer above it (nearer the output) learn during fine-tuning; "
                                       "BatchNorm layers stay frozen."))
        self.cut_button.clicked.connect(self.unfreeze_from_selected)
        row.addWidget(self.unfreeze_slider, 1)
        row.addWidget(self.unfreeze_spin)
        row.addWidget(self.cut_button)
        self.preview_check = named(QCheckBox(self.tr("Show the model as fine-tuning trains it")),
                                   "previewFineTuneCheck", self.tr("Show fine-tuning in the tree"),
                                   self.tr("Ticked: the tree shows which layers fine-tuning unfreezes. Unticked: the "
                                           "model as it starts, with the whole base frozen."))
        self.preview_check.toggled.connect(self._show_tree)
        self.lr_label = styled_label("", "explain", "fineTuneLearningRate")
        self.lr_label.setToolTip(self.tr("Fine-tuning uses a learning rate 10 times lower, so the pretrained layers "
                                         "change only a little and do not forget what they know. Only layers with "
                                         "numbers (weights) can learn. {batch_norm}").format(
            batch_norm=tree_text(BATCH_NORM_TIP)))
        layout.addWidget(label)
        layout.addLayout(row)
        layout.addWidget(self.preview_check)
        layout.addWidget(self.lr_label)
        self._set_unfreeze_range(0)
        return layout

    # -- the session ---------------------------------------------------------------------------
    def _dataset_changed(self, index, _old=None) -> None:
        if index is not None and len(index.classes) != self.n_classes:
            self.n_classes = len(index.classes)
            self._settings_changed()

    def _backbone_chosen(self) -> None:
        choose_base(self.session, self.base_combo.currentData())

    def _alpha_chosen(self) -> None:
        if self.alpha_combo.isEnabled():
            self.session.update("model", alpha=self.alpha_combo.currentData())

    def _model_changed(self, new, old) -> None:
        if (new.backbone, new.alpha) != (old.backbone, old.alpha):
            self._show_backbone()
        self._settings_changed()

    def _show_backbone(self) -> None:
        """The base's description and its widths (the rest is bound to the session)."""
        model = self.session.model
        backbone = get_backbone(model.backbone)
        with QSignalBlocker(self.base_combo), QSignalBlocker(self.alpha_combo):
            self.base_combo.setCurrentIndex(self.base_combo.findData(model.backbone))
            self.alpha_combo.clear()
            for alpha in backbone.alphas:
                self.alpha_combo.addItem(format(alpha, "g"), alpha)  # a number, not words
            self.alpha_combo.setEnabled(bool(backbone.alphas))
            if backbone.alphas:
                self.alpha_combo.setCurrentIndex(self.alpha_combo.findData(backbone.resolve_alpha(model.alpha)))
        with QSignalBlocker(self.size_spin):
            self.size_spin.setMinimum(backbone.min_size)
            self.size_spin.setValue(model.img_size)
        self.description.setText(backbone.description)

    def _training_changed(self, new, old) -> None:
        if (new.learning_rate, new.fine_tune_learning_rate, new.unfreeze_layers) != \
                (old.learning_rate, old.fine_tune_learning_rate, old.unfreeze_layers):
            self._show_unfreeze()

    def _settings_changed(self, *_args) -> None:
        self.output_label.setText(self.tr("Output: {count} numbers, one per class, that add up to 100 % (softmax "
                                          "turns the scores into these chances).").format(count=self.n_classes))
        self.weights_warning.setVisible(self.session.model.weights is None)
        self._update_weights_status()
        self._stale = True
        if self.isVisible():
            self.rebuild()

    # -- building the model in the engine ----------------------------------------------------------
    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self.rebuild()

    def rebuild(self) -> None:
        """Ask the engine for the tree of the current settings; a newer one supersedes it."""
        self._stale = False
        self.busy.show()
        self.status.setText(self.tr("Building the model…") if self.builds.engine.warm else
                            self.tr("Building the model (the first time starts TensorFlow, a few seconds)…"))
        self.builds.submit(SummaryRequest(self.session.model, self.n_classes, self.session.augmentation))

    def _build_failed(self, text: str) -> None:
        self.status.setText(text)
        set_role(self.status, "error")

    def _show_summary(self, summary: ModelSummary) -> None:
        self._summary = summary
        model = self.session.model
        set_role(self.status, "explain")
        text = self.tr("{base} at {size} px, {count} classes. Expand base_model to see its layers.")
        self.status.setText(text.format(base=get_backbone(model.backbone).label, size=model.img_size,
                                        count=self.n_classes))
        base = summary.root.find(BASE_LAYER_NAME)
        self._set_unfreeze_range(len(base.children))
        self._show_unfreeze()

    def _set_unfreeze_range(self, n_layers: int) -> None:
        for widget in (self.unfreeze_slider, self.unfreeze_spin):
            with QSignalBlocker(widget):  # a smaller range must not rewrite the setting
                widget.setRange(min(1, n_layers), n_layers)
            widget.setEnabled(n_layers > 0)
        self.cut_button.setEnabled(n_layers > 0)
        for binding in self._unfreeze_bindings:
            binding.show()

    def _show_unfreeze(self) -> None:
        training = self.session.training
        n = training.unfreeze_layers
        values = {"n": n, "rate": training.fine_tune_lr, "base_rate": training.learning_rate}
        if self._summary is None:
            self.lr_label.setText(self.tr("Fine-tuning unfreezes the top {n} layers of the base at learning rate "
                                          "{rate:g} (10x lower than {base_rate:g}).").format(**values))
        else:
            # The same rule as training (unfreeze_mask): only layers with weights, not BatchNorm, learn.
            learning = preview_unfreeze(self._summary, n).root.find(BASE_LAYER_NAME).layers_that_learn()
            text = (self.tr("Fine-tuning unfreezes the top {n} layers of the base and trains {learning} layer with "
                            "weights, at learning rate {rate:g} (10x lower than {base_rate:g}).") if learning == 1 else
                    self.tr("Fine-tuning unfreezes the top {n} layers of the base and trains {learning} layers with "
                            "weights, at learning rate {rate:g} (10x lower than {base_rate:g}).")
                    ).format(learning=learning, **values)
            rest = n - learning
            if rest:
                text += " " + self.tr("The other {rest} have no numbers to learn, or are BatchNorm layers, which "
                                      "stay frozen.").format(rest=rest)
            self.lr_label.setText(text)
        self._show_tree()

    def _show_tree(self, *_args) -> None:
        if self._summary is None:
            return
        n = self.session.training.unfreeze_layers if self.preview_check.isChecked() else 0
        self.tree.set_summary(preview_unfreeze(self._summary, n))

    def unfreeze_from_selected(self) -> None:
        node, parent = self.tree.selected_node()
        if self._summary is None or node is None or parent is None or parent.name != BASE_LAYER_NAME:
            self.status.setText(self.tr("Select a layer inside base_model first."))
            return
        names = [child.name for child in parent.children]
        self.preview_check.setChecked(True)
        self.session.update("training", unfreeze_layers=len(names) - names.index(node.name))

    # -- pretrained weights ------------------------------------------------------------------
    def _update_weights_status(self) -> None:
        model = self.session.model
        info = weights_info(model.backbone, model.alpha, model.img_size)
        local = info.local
        if local is not None:
            text = self.tr("On this computer: {file} ({size:.1f} MB), for every image size. Hover for the "
                           "folder.").format(file=local.name, size=info.size_bytes / 1e6)
        else:
            text = self.tr("Not on this computer yet ({file}). Download it, or import a copy.").format(
                file=info.file_name)
        self.weights_status.setText(_breakable(text))
        self.weights_status.setToolTip(str(local or info.path))
        if self._message_cause is not None and self._message_cause != self._weights_cause():
            self._set_weights_message("", "explain")  # its cause is gone: other weights chosen, or they arrived
        busy = self.weights_work.is_running()
        wanted = model.weights is not None
        self.download_button.setEnabled(wanted and not info.cached and not busy)
        self.import_button.setEnabled(wanted and not busy)

    def download(self) -> None:
        model = self.session.model
        self._start_weights_work(WeightsDownloadRequest(model.backbone, model.alpha, model.img_size))
        self.cancel_button.show()

    def cancel_download(self) -> None:
        self.weights_work.request_stop()

    def choose_import_file(self) -> None:
        model = self.session.model
        info = weights_info(model.backbone, model.alpha, model.img_size)
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Choose a weights file, e.g. {file}").format(
            file=info.file_name), str(Path.home()), self.tr("Keras weights (*.h5);;All files (*)"))
        if path:
            self.import_file(path)

    def import_file(self, path: str) -> None:
        """Import any base's file: the engine finds out which base and width it is for."""
        self._start_weights_work(WeightsImportRequest(Path(path)))
        self._set_weights_message(self.tr("Checking which network this file is for…"), "explain")

    def _weights_ready(self, result) -> None:
        if isinstance(result, WeightsInfo):  # an import: show the base and width the file is for
            model = self.session.model
            chosen = model.backbone, get_backbone(model.backbone).resolve_alpha(model.alpha)
            if (result.backbone, result.alpha) != chosen:
                choose_base(self.session, result.backbone, result.alpha)
                text = self.tr("This file is {network}; switched to it. Its weights serve every image size.")
            else:
                text = self.tr("Ready: the ImageNet weights of {network} are here, for every image size.")
            text = text.format(network=result.described)
        else:
            text = self.tr("Ready: {file} is on this computer now.").format(file=Path(result).name)
        self._set_weights_message(text, "ok")

    def _start_weights_work(self, request) -> None:
        if self.weights_work.is_running():
            return
        self._set_weights_message("", "explain")
        self.weights_progress.setRange(0, 0)
        self.weights_progress.show()
        self.weights_work.submit(request)
        self._update_weights_status()

    def _set_weights_message(self, text: str, role: str) -> None:
        set_role(self.weights_message, role)
        self.weights_message.setText(_breakable(text))
        self.weights_message.setVisible(bool(text))
        self._message_cause = self._weights_cause() if text else None

    def _weights_cause(self) -> tuple:
        """What a weights message is about: this base and width's weights, and whether they are here."""
        model = self.session.model
        return model.backbone, model.alpha, model.weights, weights_info(model.backbone, model.alpha).cached

    def _weights_progress(self, event) -> None:
        if isinstance(event, DownloadProgress) and event.total_bytes:
            self.weights_progress.setRange(0, event.total_bytes)
            self.weights_progress.setValue(event.done_bytes)
            self.weights_progress.setFormat(self.tr("%p%  ({done:.1f} of {total:.1f} MB)").format(
                done=event.done_bytes / 1e6, total=event.total_bytes / 1e6))

    def _weights_finished(self) -> None:
        self.weights_progress.hide()
        self.cancel_button.hide()
        self._update_weights_status()

    def stop_background_work(self, msecs: int) -> None:
        self.builds.cancel()
        self.weights_work.cancel()


def _breakable(text: str) -> str:
    """``text`` with places to wrap inside long file names (after _ - . /), so a narrow column
    wraps them instead of cutting the sentence off at its edge."""
    return re.sub(r"\S{24,}", lambda m: re.sub(r"(?<=[_\-./])", "\u200b", m.group()), text)


def _explain_label(field: QWidget) -> None:
    """The form's label of ``field`` explains as much as the field's own tooltip."""
    form = field.parentWidget().layout()
    label = form.labelForField(field) if isinstance(form, QFormLayout) else None
    if label is not None:
        label.setToolTip(field.toolTip())
