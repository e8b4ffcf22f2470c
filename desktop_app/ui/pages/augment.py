"""Step 2, Augment: build the data-augmentation block and watch what it does to real photos.

The preview runs the same Keras block the model trains with (``core.augment.preview``)
in the engine process. Changes are debounced and each newer preview supersedes the one
before, so dragging a slider never piles up work and the window never waits on TensorFlow.
"""

from __future__ import annotations

import random
from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QFrame, QGridLayout, QHBoxLayout, QLabel, QPushButton, QSlider, QSpinBox,
    QVBoxLayout, QWidget,
)

from desktop_app.core.augment.preview import N_VARIANTS, Preview
from desktop_app.core.augment.spec import (
    FILL_WORDS, FLIP_TITLES, FLIP_WORDS, PRESETS, SETTINGS, AugmentationSpec, describe_setting,
)
from desktop_app.core.data.scan import DatasetIndex, ImageFile
from desktop_app.core.engine import PreviewRequest
from desktop_app.core.session import Session
from desktop_app.ui.tasks import Engine, LatestRequest
from desktop_app.ui.widgets.bindings import follow
from desktop_app.ui.widgets.preview_grid import PreviewGrid, qimage_from_array
from desktop_app.ui.widgets.step_page import SettingsDrawer, StepPage, set_role, styled_label

WORDS_INDENT = 26  # strength words start under the switch's text, not its box
DEBOUNCE_MS = 60  # long enough to merge a burst of slider steps, short enough to feel live
# Sentences are marked here and translated where they are shown.
PRESET_TITLES = {"none": QT_TRANSLATE_NOOP("AugmentPanel", "None"),
                 "light": QT_TRANSLATE_NOOP("AugmentPanel", "Light"),
                 "strong": QT_TRANSLATE_NOOP("AugmentPanel", "Strong")}
PRESET_HELP = {
    "none": QT_TRANSLATE_NOOP("AugmentPanel",
                              "Switch every change off: the model sees your photos exactly as they are."),
    "light": QT_TRANSLATE_NOOP("AugmentPanel", "Flip, turn (up to ±10°), zoom and stretch a little. A good start."),
    "strong": QT_TRANSLATE_NOOP("AugmentPanel",
                                "Bigger changes (turns up to ±30°), also shifting, contrast and brightness. Try it "
                                "when the model learns the training photos by heart."),
}
NO_DATASET = QT_TRANSLATE_NOOP("AugmentPanel", "Choose a dataset on the Data page to see its photos here.")


class _SettingRow:
    """A switch, a strength slider and the strength in words, for one numeric setting."""

    def __init__(self, setting, grid: QGridLayout, row: int, on_change):
        self.setting = setting
        steps = round(setting.maximum / setting.step)
        self.check = QCheckBox(setting.title, objectName=f"{setting.name}Check")
        # Not a QObject: the texts use the page's translation context. Titles and help come from core.
        self.check.setAccessibleName(
            QCoreApplication.translate("AugmentPanel", "{setting} on or off").format(setting=setting.title))
        self.check.setToolTip(QCoreApplication.translate("AugmentPanel", "{help} Tick to use it while training.")
                              .format(help=setting.help))
        self.slider = QSlider(Qt.Orientation.Horizontal, objectName=f"{setting.name}Slider")
        self.slider.setRange(1, steps)  # 0 would mean off: that is the switch's job
        self.slider.setValue(self._to_slider(setting.default))
        self.slider.setPageStep(max(1, steps // 10))
        self.slider.setAccessibleName(
            QCoreApplication.translate("AugmentPanel", "{setting} strength").format(setting=setting.title))
        self.slider.setToolTip(QCoreApplication.translate("AugmentPanel", "{help} Drag right for a stronger change.")
                               .format(help=setting.help))
        self.words = QLabel(objectName=f"{setting.name}Words")
        self.words.setProperty("role", "strength")
        self.words.setAccessibleName(
            QCoreApplication.translate("AugmentPanel", "{setting} strength in words").format(setting=setting.title))
        self.words.setWordWrap(True)
        self.words.setIndent(WORDS_INDENT)
        grid.addWidget(self.check, row, 0)
        grid.addWidget(self.slider, row, 1)
        grid.addWidget(self.words, row + 1, 0, 1, 2)
        self.check.toggled.connect(on_change)
        self.slider.valueChanged.connect(self._slid)
        self._on_change = on_change

    def _to_slider(self, value: float) -> int:
        return max(1, min(self.slider.maximum(), round(value / self.setting.step)))

    def _slid(self) -> None:
        # Moving the slider of a switched-off setting means "I want this": switch it on.
        if not self.check.isChecked():
            self.check.setChecked(True)  # emits toggled -> on_change
        else:
            self._on_change()

    def value(self) -> float:
        if not self.check.isChecked():
            return 0.0
        return round(self.slider.value() * self.setting.step, 6)

    def set_value(self, value: float) -> None:
        self.check.setChecked(value > 0)
        if value > 0:
            self.slider.setValue(self._to_slider(value))

    def refresh_words(self) -> None:
        on = self.check.isChecked()
        strength = self.slider.value() * self.setting.step
        self.words.setText(describe_setting(self.setting.name, strength) if on
                           else QCoreApplication.translate("AugmentPanel", "off"))
        self.words.setEnabled(on)


class AugmentPanel(StepPage):
    """Shows and edits ``session.augmentation``; previews it on photos of ``session.index``."""

    previewUpdated = Signal(object)  # Preview, after it is on screen

    def __init__(self, session: Session, engine: Engine | None = None, parent: QWidget | None = None):
        super().__init__(  # not self.tr: the QObject does not exist before this call
            QCoreApplication.translate("AugmentPanel", "2. Augment: more variety from the same photos"),
            QCoreApplication.translate(
                "AugmentPanel",
                "While it learns, the model sees slightly changed copies of your photos: flipped, turned, "
                "zoomed. It then copes better with new photos that are not framed the same way. "
                "Augmentation only happens in training; the finished model sees photos unchanged."),
            parent,
        )
        self.session = session
        self.seed = 0
        self.last_preview: Preview | None = None
        self._files: list[ImageFile] = []
        self._classes: list[str] = []
        self._position = 0
        self._stale = True  # the grid does not show the current settings / photo
        self._applying = False
        self.previews = LatestRequest(engine, debounce_ms=DEBOUNCE_MS, parent=self)
        self.previews.succeeded.connect(self._show_preview)
        self.previews.failed.connect(self._show_error)

        body = QHBoxLayout()
        body.setSpacing(24)
        # Folds in presentation mode: the preview gets the width.
        body.addWidget(SettingsDrawer(self._build_controls()), 0)
        body.addLayout(self._build_preview(), 1)
        self.layout_.addLayout(body, 1)

        self._show_spec(session.augmentation)
        follow(session.events.augmentation, self._show_spec, self)
        follow(session.events.index, self._dataset_changed, self)
        follow(session.events.dataset, self._dataset_chosen, self)
        follow(session.events.model, self._model_changed, self)
        self._dataset_changed(session.index)

    # -- building ---------------------------------------------------------------------

    def _build_controls(self) -> QWidget:
        box = QFrame(objectName="augmentControls")
        box.setFrameShape(QFrame.Shape.StyledPanel)
        box.setFixedWidth(380)
        column = QVBoxLayout(box)
        column.setContentsMargins(16, 12, 16, 12)
        column.setSpacing(8)

        presets = QHBoxLayout()
        presets.addWidget(QLabel(self.tr("Start from:")))
        self.preset_buttons: dict[str, QPushButton] = {}
        for name in PRESETS:
            title = self.tr(PRESET_TITLES[name])
            button = QPushButton(title, objectName=f"preset{name.capitalize()}Button")
            button.setCheckable(True)
            button.setAccessibleName(self.tr("{preset} preset").format(preset=title))
            button.setToolTip(self.tr(PRESET_HELP[name]))
            button.clicked.connect(lambda _=False, n=name: setattr(self.session, "augmentation",
                                                                    AugmentationSpec.preset(n)))
            presets.addWidget(button)
            self.preset_buttons[name] = button
        presets.addStretch(1)
        column.addLayout(presets)

        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(2)
        grid.setColumnStretch(1, 1)
        self.flip_check = QCheckBox(self.tr("Flip"), objectName="flipCheck")
        self.flip_check.setAccessibleName(self.tr("Flip on or off"))
        self.flip_check.setToolTip(self.tr("Mirrors some copies, as if the photo was taken from the other side. "
                                           "Tick to use it while training."))
        self.flip_mode = QComboBox(objectName="flipMode")
        self.flip_mode.setAccessibleName(self.tr("Flip direction"))
        self.flip_mode.setToolTip(self.tr("Left-right suits most photos. Top-bottom only makes sense when "
                                          "upside-down photos can happen (e.g. seen from above)."))
        for mode, title in FLIP_TITLES.items():
            self.flip_mode.addItem(title, mode)
        self.flip_words = QLabel(objectName="flipWords")
        self.flip_words.setProperty("role", "strength")
        self.flip_words.setAccessibleName(self.tr("Flip in words"))
        self.flip_words.setWordWrap(True)
        self.flip_words.setIndent(WORDS_INDENT)
        grid.addWidget(self.flip_check, 0, 0)
        grid.addWidget(self.flip_mode, 0, 1)
        grid.addWidget(self.flip_words, 1, 0, 1, 2)
        self.flip_check.toggled.connect(self._controls_changed)
        self.flip_mode.currentIndexChanged.connect(self._flip_mode_changed)

        self.rows: dict[str, _SettingRow] = {}
        for i, setting in enumerate(SETTINGS, start=1):
            self.rows[setting.name] = _SettingRow(setting, grid, 2 * i, self._controls_changed)
        column.addLayout(grid)
        column.addStretch(1)
        self.spec_summary = styled_label("", "explain", "augmentSpecSummary")
        column.addWidget(self.spec_summary)
        self.fill_note = styled_label(FILL_WORDS, "explain", "augmentFillNote")
        column.addWidget(self.fill_note)
        return box

    def _build_preview(self) -> QVBoxLayout:
        column = QVBoxLayout()
        column.setSpacing(8)
        self.grid = PreviewGrid()
        self.grid.set_placeholder(self.tr(NO_DATASET))
        column.addWidget(self.grid, 1)
        buttons = QHBoxLayout()
        self.new_variants_button = QPushButton(self.tr("New random variants"), objectName="newVariantsButton")
        self.new_variants_button.setToolTip(self.tr("Roll the dice again: new random changes of the same photo."))
        self.another_image_button = QPushButton(self.tr("Another image"), objectName="anotherImageButton")
        self.another_image_button.setToolTip(self.tr("Show a different photo from your dataset, from the next "
                                                     "class."))
        for button in (self.new_variants_button, self.another_image_button):
            button.setAccessibleName(button.text())
            buttons.addWidget(button)
        buttons.addStretch(1)
        seed_label = QLabel(self.tr("Preview seed:"))
        self.seed_box = QSpinBox(objectName="augmentSeed", minimum=0, maximum=999_999)
        self.seed_box.setAccessibleName(self.tr("Preview seed"))
        self.seed_box.setToolTip(self.tr("Picks the random changes this preview shows: the same number gives the "
                                         "same grid every time, so a class can look at the same one (transfer-studio "
                                         "augment-preview --seed gives it too). It is for the preview only: training "
                                         "draws its changes from the shuffle seed on the Data page."))
        seed_label.setBuddy(self.seed_box)
        seed_label.setToolTip(self.seed_box.toolTip())
        buttons.addWidget(seed_label)
        buttons.addWidget(self.seed_box)
        column.addLayout(buttons)
        self.status = styled_label("", "explain", "augmentStatus")
        self.status.setAccessibleName(self.tr("Preview status"))
        column.addWidget(self.status)

        self.new_variants_button.clicked.connect(lambda: self.seed_box.setValue(self.seed_box.value() + 1))
        self.seed_box.valueChanged.connect(self._seed_changed)
        self.another_image_button.clicked.connect(self.next_image)
        self._set_image_buttons()
        return column

    # -- the spec ---------------------------------------------------------------------

    @property
    def img_size(self) -> int:
        return self.session.model.img_size  # previews show what the model will get

    def spec(self) -> AugmentationSpec:
        return self.session.augmentation

    def _show_spec(self, spec: AugmentationSpec, _old=None) -> None:
        """Show ``spec`` in the controls (strengths of switched-off layers are kept)."""
        self._applying = True
        try:
            self.flip_check.setChecked(spec.flip != "none")
            if spec.flip != "none":
                self.flip_mode.setCurrentIndex(self.flip_mode.findData(spec.flip))
            for name, row in self.rows.items():
                row.set_value(getattr(spec, name))
        finally:
            self._applying = False
        self._show_words(spec)
        self.request_preview()

    def _model_changed(self, new, old) -> None:
        if new.img_size != old.img_size:
            # Until the new grid is made (on this page), the old one is not what the model gets.
            self.status.setText(self.tr("The model now takes photos of {size} px: a new preview at that size "
                                        "follows.").format(size=new.img_size))
            self._set_status_role("explain")
            self.request_preview()

    def _read_controls(self) -> AugmentationSpec:
        flip = self.flip_mode.currentData() if self.flip_check.isChecked() else "none"
        return AugmentationSpec(flip=flip, **{name: row.value() for name, row in self.rows.items()})

    def _flip_mode_changed(self) -> None:
        if not self._applying and not self.flip_check.isChecked():
            self.flip_check.setChecked(True)  # picking a direction means "flip"
        self._controls_changed()

    def _controls_changed(self) -> None:
        if self._applying:
            return
        self.session.augmentation = self._read_controls()  # -> _show_spec when it changed
        self._show_words(self._read_controls())

    def _show_words(self, spec: AugmentationSpec) -> None:
        self.flip_words.setText(FLIP_WORDS[spec.flip])
        self.flip_words.setEnabled(spec.flip != "none")
        for row in self.rows.values():
            row.refresh_words()
        preset = spec.preset_name()
        for name, button in self.preset_buttons.items():
            button.setChecked(name == preset)
        active = len(spec.active())
        state = (self.tr("Nothing switched on") if not active
                 else self.tr("{count} change switched on").format(count=active) if active == 1
                 else self.tr("{count} changes switched on").format(count=active))
        if not preset:
            state = self.tr("{state} (your own mix)").format(state=state)
        self.spec_summary.setText(self.tr("{state}. Hover over a control to read what it does.").format(state=state))

    # -- photos -----------------------------------------------------------------------

    def _dataset_changed(self, index: DatasetIndex | None, _old=None) -> None:
        """Take photos from the checked dataset: training ones, classes taking turns."""
        if index is None:
            self._files, self._classes, self._position = [], [], 0
            self._set_image_buttons()
            self.grid.set_placeholder(self._waiting_words())
            return
        train = [f for f in index.files if f.split in ("train", "pool")] or list(index.files)
        by_class: dict[int, list[ImageFile]] = {}
        for f in sorted(train, key=lambda f: str(f.path)):
            by_class.setdefault(f.label, []).append(f)
        rng = random.Random(0)  # the same photo order every time: a teacher can prepare
        for files in by_class.values():
            rng.shuffle(files)
        queues = [by_class[label] for label in sorted(by_class)]
        self._files = [q[i] for i in range(max(map(len, queues), default=0)) for q in queues if i < len(q)]
        self._classes = list(index.classes)
        self._position = 0
        self._set_image_buttons()
        if not self._files:
            self.grid.set_placeholder(self.tr("This dataset has no photos to show."))
            return
        self.request_preview()

    def _dataset_chosen(self, *_args) -> None:
        """Another folder chosen on the Data page: say whose photos the grid waits for."""
        if self.session.index is None:
            self.grid.set_placeholder(self._waiting_words())

    def _waiting_words(self) -> str:
        """What the empty grid says while the chosen dataset has no checked photos yet."""
        choice = self.session.dataset
        if choice.is_demo:
            return self.tr("Loading the demo photos… The preview follows once the Data page has them ready.")
        if Path(choice.folder).is_dir():
            return self.tr("Loading the photos of “{folder}”… The preview follows once the Data page has checked "
                           "them (it says there if something is wrong).").format(folder=Path(choice.folder).name)
        return self.tr(NO_DATASET)

    def current_image(self) -> ImageFile | None:
        return self._files[self._position] if self._files else None

    def next_image(self) -> None:
        if self._files:
            self._position = (self._position + 1) % len(self._files)
            self.request_preview()

    def _set_image_buttons(self) -> None:
        self.new_variants_button.setEnabled(bool(self._files))
        self.another_image_button.setEnabled(len(self._files) > 1)

    def _seed_changed(self, value: int) -> None:
        self.seed = value
        self.request_preview()

    # -- the preview, made in the engine ------------------------------------------------

    def request_preview(self) -> None:
        """Ask for a fresh grid; it is made when the page is on screen."""
        self._stale = True
        if self.current_image() is not None and self.isVisible():
            self._start_preview()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        # TensorFlow work starts only once someone looks at this page.
        if self._stale:
            self.request_preview()

    def _start_preview(self) -> None:
        image = self.current_image()
        if image is None:
            return
        self._stale = False
        self.grid.set_dimmed(True)
        self.status.setText(self.tr("Making new versions…") if self.previews.engine.warm else
                            self.tr("Starting TensorFlow (the first time takes a few seconds)…"))
        if self.grid.original is None:  # nothing to dim yet: say what is coming
            self.grid.set_placeholder(self.tr("Preparing the preview…"))
        self._set_status_role("explain")
        self.previews.submit(PreviewRequest(Path(image.path), self.session.augmentation, self.seed, N_VARIANTS,
                                            self.img_size))

    def _show_preview(self, preview: Preview) -> None:
        self.last_preview = preview
        n = len(preview.variants)
        caption = (self.tr("{count} random training versions") if not preview.spec.is_identity
                   else self.tr("{count} training versions: all unchanged")).format(count=n)
        image = self.current_image()
        photo: list[str] = []
        if image is not None:
            photo = [self._classes[image.label] if image.label < len(self._classes) else "?", Path(image.path).name]
        self.grid.set_images(qimage_from_array(preview.original),
                             [qimage_from_array(v) for v in preview.variants], caption, photo)
        if preview.spec.is_identity:
            self.status.setText(self.tr("Nothing is switched on: the model would see this photo unchanged. "
                                        "Pick a preset or tick a change."))
        else:
            self.status.setText(self.tr("Made in {seconds:.2f} s by the same layers the model trains with "
                                        "(seed {seed}, {size} px, the model's image size).").format(
                seconds=preview.seconds, seed=preview.seed, size=preview.original.shape[0]))
        self._set_status_role("explain")
        self.previewUpdated.emit(preview)

    def _show_error(self, text: str) -> None:
        self.grid.set_dimmed(False)
        self.status.setText(self.tr("{problem} Try “Another image”.").format(problem=text))
        self._set_status_role("error")

    def _set_status_role(self, role: str) -> None:
        set_role(self.status, role)

    def stop_background_work(self, msecs: int) -> None:
        self.previews.cancel()
