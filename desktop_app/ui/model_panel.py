"""Step 3, Model: choose the pretrained base and head, see the layers, decide what to unfreeze."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QButtonGroup, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
    QProgressBar, QPushButton, QRadioButton, QScrollArea, QSlider, QSpinBox, QSplitter, QVBoxLayout, QWidget,
)

from desktop_app.core.augmentation import AugmentationSpec
from desktop_app.core.backbones import BACKBONES, DEFAULT_BACKBONE, get_backbone
from desktop_app.core.model_builder import (
    BASE_LAYER_NAME, HeadSpec, ModelSpec, fine_tune_learning_rate, preview_unfreeze,
)
from desktop_app.core.summary import ModelSummary
from desktop_app.core.weights import DownloadProgress, weights_info
from desktop_app.ui.page import StepPage, named, set_role, styled_label
from desktop_app.ui.widgets.model_tree import BATCH_NORM_TIP, ModelTreeWidget
from desktop_app.ui.workers import Task

DEFAULT_LEARNING_RATE = 1e-3
NO_WEIGHTS_WARNING = (
    "Without pretrained weights the base starts from random numbers and, frozen, only passes on noise: "
    "the head can hardly learn and results stay near guessing. Try it once to see what pretrained "
    "weights are worth, or fine-tune many layers for many epochs so the base learns to see."
)


# -- worker bodies: TensorFlow is imported here, on the worker thread, never at start-up ----

def build_summary(spec: ModelSpec, report, should_stop) -> ModelSummary:
    report("Building the model (the first time loads TensorFlow, a few seconds)…")
    from desktop_app.core.model_builder import build_classifier, summarize

    # The counts do not depend on the weights' values: random weights keep this offline and fast.
    return summarize(build_classifier(replace(spec, weights=None)))


def download_weights(key: str, alpha: float | None, img_size: int, report, should_stop) -> Path:
    from desktop_app.core.weights import download

    return download(key, alpha, img_size, report=report, should_stop=should_stop)


def import_weights_file(path: str, key: str, alpha: float | None, img_size: int, report, should_stop) -> Path:
    report("Checking the file against the network's layers…")
    from desktop_app.core.weights import import_weights

    return import_weights(path, key, alpha, img_size)


class ModelPanel(StepPage):
    specChanged = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(
            "3. Model: borrow a network that already sees",
            "Transfer learning starts from a network trained on millions of photos (the base) and adds a small "
            "new layer (the head) that learns your classes. At first the base is frozen: only the head learns.",
            parent,
        )
        self.n_classes = 2
        self.augmentation = AugmentationSpec.preset("light")
        self.learning_rate = DEFAULT_LEARNING_RATE
        self._summary: ModelSummary | None = None  # as built: base frozen
        self._build_task: Task | None = None
        self._weights_task: Task | None = None
        self._dirty = True
        self._wanted_unfreeze: int | None = None  # a saved choice waiting for the built model
        self._debounce = QTimer(self, singleShot=True, interval=300)
        self._debounce.timeout.connect(self.rebuild)

        splitter = QSplitter(Qt.Orientation.Horizontal, objectName="modelSplitter")
        splitter.addWidget(self._settings_column())
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        self.busy = QProgressBar(objectName="buildProgress", maximum=0, textVisible=False)
        self.busy.setAccessibleName("Building the model")
        self.busy.setMaximumHeight(8)
        self.busy.hide()
        self.status = styled_label("The model is built when you open this page.", "explain", "modelStatus")
        self.tree = ModelTreeWidget()
        right_layout.addWidget(self.busy)
        right_layout.addWidget(self.status)
        right_layout.addWidget(self.tree, 1)
        right_layout.addLayout(self._unfreeze_row())
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([370, 830])
        self.layout_.addWidget(splitter, 1)

        self._on_backbone_changed()
        self._update_weights_status()

    # -- building the controls -------------------------------------------------------------
    def _settings_column(self) -> QWidget:
        column = QWidget()
        layout = QVBoxLayout(column)
        layout.setContentsMargins(0, 0, 8, 0)

        base_box = QGroupBox("Pretrained base", objectName="baseGroup")
        form = QFormLayout(base_box)
        self.base_combo = named(QComboBox(), "baseCombo", "Pretrained base",
                               "The network that already knows how to see. EfficientNetV2-B0 is a good start.")
        for key, backbone in BACKBONES.items():
            self.base_combo.addItem(backbone.label, key)
            self.base_combo.setItemData(self.base_combo.count() - 1, backbone.description, Qt.ItemDataRole.ToolTipRole)
        self.base_combo.setCurrentIndex(self.base_combo.findData(DEFAULT_BACKBONE))
        self.description = styled_label("", "explain", "baseDescription")
        self.alpha_combo = named(QComboBox(), "alphaCombo", "Width",
                                "MobileNets come in widths: narrower is smaller and faster, wider is more accurate.")
        self.size_spin = named(QSpinBox(minimum=32, maximum=600, singleStep=16, suffix=" px"), "imageSizeSpin",
                              "Image size", "Photos are resized to this many pixels square before the network "
                              "sees them. The base's own size works best; smaller is faster.")
        form.addRow("Base:", self.base_combo)
        form.addRow(self.description)
        form.addRow("Width:", self.alpha_combo)
        form.addRow("Image size:", self.size_spin)
        layout.addWidget(base_box)

        head_box = QGroupBox("Head (the new layers that learn your classes)", objectName="headGroup")
        form = QFormLayout(head_box)
        self.pooling_combo = named(QComboBox(), "poolingCombo", "Pooling",
                                  "How the base's picture of features becomes one list of numbers: the average "
                                  "over the whole photo, or the strongest value anywhere.")
        self.pooling_combo.addItem("Average", "avg")
        self.pooling_combo.addItem("Maximum", "max")
        self.dropout_spin = named(QDoubleSpinBox(minimum=0.0, maximum=0.9, singleStep=0.1, decimals=1), "dropoutSpin",
                                 "Dropout", "While training, randomly ignore this fraction of the numbers, so the "
                                 "head cannot rely on a few of them. 0 switches it off; 0.2 is common.")
        self.hidden_spin = named(QSpinBox(minimum=0, maximum=2048, singleStep=32, specialValueText="none"),
                                "hiddenUnitsSpin", "Hidden layer size",
                                "An extra layer of this many units before the output; none is usually enough.")
        form.addRow("Pooling:", self.pooling_combo)
        form.addRow("Dropout:", self.dropout_spin)
        form.addRow("Hidden layer:", self.hidden_spin)
        self.output_label = styled_label("", "explain", "outputLabel")
        form.addRow(self.output_label)
        layout.addWidget(head_box)

        layout.addWidget(self._weights_box())
        layout.addStretch(1)

        self.base_combo.currentIndexChanged.connect(self._on_backbone_changed)
        for signal in (self.alpha_combo.currentIndexChanged, self.size_spin.valueChanged,
                       self.pooling_combo.currentIndexChanged, self.dropout_spin.valueChanged,
                       self.hidden_spin.valueChanged):
            signal.connect(self._settings_changed)

        scroll = QScrollArea(objectName="modelSettings")
        scroll.setWidget(column)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # texts wrap instead
        scroll.setMinimumWidth(360)
        return scroll

    def _weights_box(self) -> QGroupBox:
        box = QGroupBox("Pretrained weights", objectName="weightsGroup")
        layout = QVBoxLayout(box)
        self.imagenet_radio = named(QRadioButton("ImageNet weights (recommended)"), "imagenetWeightsRadio",
                                   "Use ImageNet weights", "Start from what the base learned on 1.4 million photos.")
        self.no_weights_radio = named(QRadioButton("No pretrained weights"), "noWeightsRadio",
                                     "No pretrained weights", NO_WEIGHTS_WARNING)
        self.imagenet_radio.setChecked(True)
        group = QButtonGroup(box)
        group.addButton(self.imagenet_radio)
        group.addButton(self.no_weights_radio)
        self.weights_status = styled_label("", "explain", "weightsStatus")
        self.weights_warning = styled_label(NO_WEIGHTS_WARNING, "warning", "noWeightsWarning")
        self.weights_warning.hide()
        row = QHBoxLayout()
        self.download_button = named(QPushButton("Download"), "downloadWeightsButton", "Download weights",
                                    "Download the ImageNet weights from Keras' server into Keras' cache, "
                                    "so later runs work without internet.")
        self.cancel_button = named(QPushButton("Cancel"), "cancelDownloadButton", "Cancel download",
                                  "Stop the download; nothing half-downloaded is kept.")
        self.import_button = named(QPushButton("Import file…"), "importWeightsButton", "Import weights file",
                                  "No internet? Choose a copy of the weights file (e.g. from a USB stick). "
                                  "It is checked against the network before it is used.")
        self.cancel_button.hide()
        for button in (self.download_button, self.cancel_button, self.import_button):
            row.addWidget(button)
        self.weights_progress = QProgressBar(objectName="weightsProgress")
        self.weights_progress.setAccessibleName("Download progress")
        self.weights_progress.hide()
        self.weights_message = styled_label("", "warning", "weightsMessage")
        for widget in (self.imagenet_radio, self.no_weights_radio, self.weights_status):
            layout.addWidget(widget)
        layout.addLayout(row)
        layout.addWidget(self.weights_progress)
        layout.addWidget(self.weights_warning)
        layout.addWidget(self.weights_message)

        self.no_weights_radio.toggled.connect(self._on_weights_choice)
        self.download_button.clicked.connect(self.download)
        self.cancel_button.clicked.connect(self.cancel_download)
        self.import_button.clicked.connect(self.choose_import_file)
        return box

    def _unfreeze_row(self) -> QVBoxLayout:
        tip = ("For fine-tuning, after the head has learned: let the top N layers of the base learn too, "
               "slowly. The top layers see whole objects and adapt best. " + BATCH_NORM_TIP)
        layout = QVBoxLayout()
        row = QHBoxLayout()
        label = QLabel("Unfreeze the top N layers of the base:")
        label.setToolTip(tip)
        self.unfreeze_slider = named(QSlider(Qt.Orientation.Horizontal), "unfreezeSlider", "Layers to unfreeze", tip)
        self.unfreeze_spin = named(QSpinBox(), "unfreezeSpin", "Layers to unfreeze", tip)
        self.unfreeze_spin.setMinimumWidth(80)
        self.unfreeze_slider.valueChanged.connect(self.unfreeze_spin.setValue)
        self.unfreeze_spin.valueChanged.connect(self.unfreeze_slider.setValue)
        self.unfreeze_spin.valueChanged.connect(self._show_unfreeze)
        self.cut_button = named(QPushButton("Cut at selected layer"), "unfreezeFromSelectedButton",
                               "Unfreeze from selected layer",
                               "Select a layer inside base_model, then press this: it and every layer above it "
                               "become trainable (BatchNorm layers stay frozen).")
        self.cut_button.clicked.connect(self.unfreeze_from_selected)
        row.addWidget(self.unfreeze_slider, 1)
        row.addWidget(self.unfreeze_spin)
        row.addWidget(self.cut_button)
        self.lr_label = styled_label("", "explain", "fineTuneLearningRate")
        self.lr_label.setToolTip("Fine-tuning uses a learning rate 10 times lower, so the pretrained layers "
                                 "change only a little and do not forget what they know.")
        layout.addWidget(label)
        layout.addLayout(row)
        layout.addWidget(self.lr_label)
        self._set_unfreeze_range(0)
        return layout

    # -- what the Train step reads -------------------------------------------------------------
    @property
    def backbone(self) -> str:
        return self.base_combo.currentData()

    @property
    def alpha(self) -> float | None:
        return self.alpha_combo.currentData() if self.alpha_combo.isEnabled() else None

    @property
    def img_size(self) -> int:
        return self.size_spin.value()

    @property
    def head(self) -> HeadSpec:
        return HeadSpec(pooling=self.pooling_combo.currentData(), dropout=round(self.dropout_spin.value(), 2),
                        hidden_units=self.hidden_spin.value())

    @property
    def weights(self) -> str | None:
        return None if self.no_weights_radio.isChecked() else "imagenet"

    @property
    def unfreeze_layers(self) -> int:
        if self._wanted_unfreeze is not None:
            return self._wanted_unfreeze
        return self.unfreeze_spin.value()

    def set_unfreeze_layers(self, n: int) -> None:
        """Restore a saved choice; kept until the model is built and has that many layers."""
        self._wanted_unfreeze = n
        if self.unfreeze_spin.maximum() > 0:
            self._set_unfreeze_range(self.unfreeze_spin.maximum())

    def model_spec(self) -> ModelSpec:
        return ModelSpec(self.n_classes, backbone=self.backbone, alpha=self.alpha, img_size=self.img_size,
                         weights=self.weights, augmentation=self.augmentation, head=self.head)

    def set_class_count(self, n: int) -> None:
        if n != self.n_classes:
            self.n_classes = n
            self._settings_changed()

    def set_augmentation(self, spec: AugmentationSpec) -> None:
        self.augmentation = spec
        self._settings_changed()

    def set_learning_rate(self, learning_rate: float) -> None:
        self.learning_rate = learning_rate
        self._show_unfreeze()

    # -- building the model in the background ----------------------------------------------------
    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._dirty:
            self._debounce.start(0)

    def _on_backbone_changed(self) -> None:
        backbone = get_backbone(self.backbone)
        self.description.setText(backbone.description)
        for widget in (self.alpha_combo, self.size_spin):
            widget.blockSignals(True)
        self.alpha_combo.clear()
        for alpha in backbone.alphas:
            self.alpha_combo.addItem(f"{alpha:g}", alpha)
        self.alpha_combo.setEnabled(bool(backbone.alphas))
        if backbone.alphas:
            self.alpha_combo.setCurrentIndex(backbone.alphas.index(backbone.default_alpha))
        self.size_spin.setMinimum(backbone.min_size)
        self.size_spin.setValue(backbone.default_size)
        for widget in (self.alpha_combo, self.size_spin):
            widget.blockSignals(False)
        self._settings_changed()

    def _settings_changed(self) -> None:
        self.output_label.setText(f"Output: {self.n_classes} classes, one probability each (softmax).")
        self._update_weights_status()
        self._dirty = True
        self.specChanged.emit()
        if self.isVisible():
            self._debounce.start()

    def rebuild(self) -> None:
        """Build the model for the current settings on a worker; one build at a time."""
        if self._build_task is not None and self._build_task.is_running():
            self._dirty = True  # build again when this one ends
            return
        self._dirty = False
        self.busy.show()
        self.status.setText("Building the model…")
        self._build_task = Task(build_summary, self.model_spec(), parent=self)
        self._build_task.progress.connect(self.status.setText)
        self._build_task.succeeded.connect(self._show_summary)
        self._build_task.failed.connect(self._build_failed)
        self._build_task.finished.connect(self._build_finished)
        self._build_task.start()

    def _build_finished(self) -> None:
        self.busy.hide()
        if self._dirty and self.isVisible():
            self._debounce.start()

    def _build_failed(self, text: str) -> None:
        self.status.setText(text)
        set_role(self.status, "error")

    def _show_summary(self, summary: ModelSummary) -> None:
        self._summary = summary
        spec = self.model_spec()
        set_role(self.status, "explain")
        self.status.setText(f"{get_backbone(spec.backbone).label} at {spec.img_size} px, {spec.n_classes} classes. "
                            "Expand base_model to see its layers.")
        base = summary.root.find(BASE_LAYER_NAME)
        self._set_unfreeze_range(len(base.children))
        self._show_unfreeze()

    def _set_unfreeze_range(self, n_layers: int) -> None:
        for widget in (self.unfreeze_slider, self.unfreeze_spin):
            widget.setRange(0, n_layers)
        self.unfreeze_slider.setEnabled(n_layers > 0)
        self.unfreeze_spin.setEnabled(n_layers > 0)
        self.cut_button.setEnabled(n_layers > 0)
        if n_layers > 0 and getattr(self, "_wanted_unfreeze", None) is not None:
            wanted, self._wanted_unfreeze = self._wanted_unfreeze, None
            self.unfreeze_spin.setValue(min(wanted, n_layers))

    def _show_unfreeze(self) -> None:
        n = self.unfreeze_spin.value()
        lr = fine_tune_learning_rate(self.learning_rate)
        if n:
            self.lr_label.setText(f"Fine-tuning {n} layers: suggested learning rate {lr:g} "
                                  f"(10x lower than {self.learning_rate:g}). BatchNorm layers stay frozen.")
        else:
            self.lr_label.setText(f"Base frozen: only the head learns. When you fine-tune, use a learning rate "
                                  f"of {lr:g} (10x lower than {self.learning_rate:g}).")
        if self._summary is not None:
            self.tree.set_summary(preview_unfreeze(self._summary, n))
        self.specChanged.emit()

    def unfreeze_from_selected(self) -> None:
        node, parent = self.tree.selected_node()
        if self._summary is None or node is None or parent is None or parent.name != BASE_LAYER_NAME:
            self.status.setText("Select a layer inside base_model first.")
            return
        names = [child.name for child in parent.children]
        self.unfreeze_spin.setValue(len(names) - names.index(node.name))

    # -- pretrained weights ------------------------------------------------------------------
    def _on_weights_choice(self) -> None:
        self.weights_warning.setVisible(self.no_weights_radio.isChecked())
        self._update_weights_status()
        self.specChanged.emit()

    def _update_weights_status(self) -> None:
        info = weights_info(self.backbone, self.alpha, self.img_size)
        if info.cached:
            text = f"Downloaded: {info.file_name}, {info.size_bytes / 1e6:.1f} MB, in {info.path.parent}"
        else:
            text = f"Not on this computer yet ({info.file_name}). Download it, or import a copy."
        self.weights_status.setText(text)
        self.weights_status.setToolTip(str(info.path))
        busy = self._weights_task is not None and self._weights_task.is_running()
        wanted = not self.no_weights_radio.isChecked()
        self.download_button.setEnabled(wanted and not info.cached and not busy)
        self.import_button.setEnabled(wanted and not busy)

    def download(self) -> None:
        self._start_weights_task(download_weights, self.backbone, self.alpha, self.img_size)
        self.weights_progress.setRange(0, 0)
        self.weights_progress.show()
        self.cancel_button.show()

    def cancel_download(self) -> None:
        if self._weights_task is not None:
            self._weights_task.request_stop()

    def choose_import_file(self) -> None:
        info = weights_info(self.backbone, self.alpha, self.img_size)
        path, _ = QFileDialog.getOpenFileName(self, f"Choose {info.file_name}", str(Path.home()),
                                              "Keras weights (*.h5);;All files (*)")
        if path:
            self.import_file(path)

    def import_file(self, path: str) -> None:
        self._start_weights_task(import_weights_file, path, self.backbone, self.alpha, self.img_size)
        self.weights_progress.setRange(0, 0)
        self.weights_progress.show()

    def _start_weights_task(self, fn, *args) -> None:
        if self._weights_task is not None and self._weights_task.is_running():
            return
        self.weights_message.setText("")
        self._weights_task = Task(fn, *args, parent=self)
        self._weights_task.progress.connect(self._weights_progress)
        self._weights_task.succeeded.connect(
            lambda path: self.weights_message.setText(f"Ready: {Path(path).name} is in Keras' cache."))
        self._weights_task.failed.connect(self.weights_message.setText)
        self._weights_task.finished.connect(self._weights_finished)
        self._weights_task.start()
        self._update_weights_status()

    def _weights_progress(self, event) -> None:
        if isinstance(event, DownloadProgress):
            if event.total_bytes:
                self.weights_progress.setRange(0, event.total_bytes)
                self.weights_progress.setValue(event.done_bytes)
                self.weights_progress.setFormat(f"%p%  ({event.done_bytes / 1e6:.1f} of {event.total_bytes / 1e6:.1f} MB)")
        else:
            self.weights_message.setText(str(event))

    def _weights_finished(self) -> None:
        self.weights_progress.hide()
        self.cancel_button.hide()
        self._update_weights_status()

    def stop_background_work(self, msecs: int) -> None:
        for task in (self._build_task, self._weights_task):
            if task is not None and task.is_running():
                task.stop_and_wait(msecs)
