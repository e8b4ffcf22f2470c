"""Regenerate the screenshots in docs/screenshots/: every page, in light and dark at
1,280 x 720 and 1,920 x 1,080, and in presentation mode at 1,280 x 720 (a projector).

    .venv/bin/python docs/screenshots.py                 (a few minutes on a laptop)
    .venv/bin/python docs/screenshots.py presentation    (only some: light, dark, presentation, large)

Everything happens in a temporary folder (demo dataset, a tiny real training run,
settings), so the user's own data and settings are untouched. The run is real: MobileNet
(width 0.25) at 64 px, 4 epochs of training the head then 2 of fine-tuning, so the Train,
Evaluate and Export pages have something to show. It uses the ImageNet weights in
../shared/weights when that folder exists (the curves then show real learning), and
random weights otherwise. The window fills a screen of the picture's size, as it would
full-screen, and the pictures keep their size: scaled down, they would hide what is too
small to read. Saved as optimised PNGs:

    light-N-step.png, dark-N-step.png                1,280 x 720
    light-large-N-step.png, dark-large-N-step.png    1,920 x 1,080
    presentation-N-step.png                          1,280 x 720, presentation mode
    light-capture.png, dark-capture.png, presentation-capture.png
                                                     taking photos with the camera (generated frames)
    light-live.png, dark-live.png, presentation-live.png
                                                     live prediction (generated frames; presentation: full screen)
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "screenshots"
SMALL, LARGE = (1280, 720), (1920, 1080)
# (file-name prefix, theme, presentation mode, window size)
SETS = (("light", "light", False, SMALL), ("dark", "dark", False, SMALL), ("presentation", "light", True, SMALL),
        ("light-large", "light", False, LARGE), ("dark-large", "dark", False, LARGE))

TEMP = Path(tempfile.mkdtemp(prefix="transfer-studio-shots-"))
# An offscreen screen as big as the largest picture (Qt's default is 800 x 800, and the
# window keeps inside its screen).
_SCREEN = TEMP / "screen.json"
_SCREEN.write_text(json.dumps({"screens": [{"name": "shots", "x": 0, "y": 0, "width": LARGE[0], "height": LARGE[1],
                                             "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
os.environ.setdefault("QT_QPA_PLATFORM", f"offscreen:configfile={_SCREEN}")
os.environ["TRANSFER_STUDIO_DATA_DIR"] = str(TEMP / "data")
os.environ["XDG_CONFIG_HOME"] = str(TEMP / "config")  # QSettings: no welcome, no recent, no last project
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(REPO))


def train_tiny_run(data: Path) -> Path:
    from desktop_app.core.augment.spec import AugmentationSpec
    from desktop_app.core.runs import new_run_dir
    from desktop_app.core.train.job import TrainingJob
    from desktop_app.core.session import TrainingConfig

    shared = REPO.parent / "shared" / "weights" / "mobilenet_2_5_224_tf_no_top.h5"
    config = TrainingConfig.of(data=data, out=new_run_dir("mobilenet", data=data), backbone="mobilenet", alpha=0.25,
                            weights=str(shared) if shared.is_file() else None, img_size=64, epochs=4,
                            fine_tune_epochs=2, batch_size=16, learning_rate=3e-3,
                            augmentation=AugmentationSpec.preset("light"))
    TrainingJob(config).run()
    return Path(config.out)


def wait(app, seconds: float, until=lambda: False) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not until():
        app.processEvents()
        time.sleep(0.02)


def save(window, name: str) -> None:
    import io

    from PIL import Image
    from PySide6.QtCore import QBuffer, QIODevice

    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    window.grab().toImage().save(buffer, "PNG")
    picture = Image.open(io.BytesIO(bytes(buffer.data()))).convert("RGB")
    # 256 well-chosen colours keep UI text crisp and the files small.
    picture = picture.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    path = OUT / f"{name}.png"
    picture.save(path, optimize=True)
    print(f"  {path.relative_to(REPO)} ({picture.width} x {picture.height}, {path.stat().st_size // 1024} KB)")


def camera_scene(n: int):
    """A generated webcam frame (640 x 480): a star held up in front of a wall, swaying a little."""
    import math

    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QColor, QImage, QLinearGradient, QPainter, QPolygonF

    frame = QImage(640, 480, QImage.Format.Format_RGB32)
    painter = QPainter(frame)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    wall = QLinearGradient(0, 0, 0, 480)
    wall.setColorAt(0, QColor("#d9cbb4"))
    wall.setColorAt(1, QColor("#a8977c"))
    painter.fillRect(frame.rect(), wall)
    painter.fillRect(0, 360, 640, 120, QColor("#6d5846"))  # a table
    centre = QPointF(320 + 14 * math.sin(n / 6), 220 + 6 * math.cos(n / 5))
    star = QPolygonF([centre + QPointF((95 if i % 2 == 0 else 40) * math.sin(i * math.pi / 5),
                                       -(95 if i % 2 == 0 else 40) * math.cos(i * math.pi / 5)) for i in range(10)])
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(0, 0, 0, 60))
    painter.drawPolygon(star.translated(8, 10))  # its shadow
    painter.setBrush(QColor("#f2b705"))
    painter.drawPolygon(star)
    painter.end()
    return frame


def capture_shots(app, window, theme, sets) -> None:
    """The Data page taking photos with the camera, the camera played by ``camera_scene``:
    light-capture.png, dark-capture.png, presentation-capture.png."""
    import shutil

    from desktop_app.core.data.frames import CAPTURE_PREFIX
    from desktop_app.ui.widgets.frame_sources import TimedSource

    sets = [s for s in sets if s[0] in ("light", "dark", "presentation")]
    if not sets:
        return
    data = window.data_panel
    shown = window.session.dataset  # put back afterwards, for the pictures that follow
    own = (TEMP / "My shapes").resolve()  # photos never go into the demo dataset itself: a copy of it
    if not own.exists():
        shutil.copytree(data.shown.root, own)
    window.go_to_step("Data")
    data.load(own)
    wait(app, 60, lambda: window.session.index is not None and window.session.index.root == own)
    data.tabs.setCurrentWidget(data.photos_page)
    data.class_list.setCurrentRow(data.shown.classes.index("stars"))
    before = window.session.index.class_totals()["stars"]
    data.capture.set_source(TimedSource(camera_scene, fps=15, name="Generated camera"))
    data.camera_button.setChecked(True)
    wait(app, 1.0)
    data.capture.start_recording()  # a few photos, so the thumbnails and counts show them
    wait(app, 1.0)
    data.capture.stop_recording()
    data.capture.wait_for_saving()
    taken = len(list((own / "stars").glob(f"{CAPTURE_PREFIX}*.jpg")))
    wait(app, 60, lambda: window.session.index is not None  # the page has counted them
         and window.session.index.class_totals().get("stars") == before + taken)
    for prefix, mode, presentation, size in sets:
        theme.set_mode(mode)
        window.desktop.set_presentation(presentation)
        window.resize(*size)
        wait(app, 1.5)
        save(window, f"{prefix}-capture")
        window.desktop.set_presentation(False)
    data.camera_button.setChecked(False)
    window.session.dataset = shown
    wait(app, 60, lambda: window.session.index is not None and window.session.index.root != own)


def live_shots(app, window, theme, sets) -> None:
    """Try it live on the Evaluate page, the camera played by ``camera_scene``:
    light-live.png, dark-live.png, presentation-live.png (full-screen, as in class)."""
    from desktop_app.ui.widgets.frame_sources import TimedSource

    panel = window.evaluate_panel
    panel.make_live_source = lambda: TimedSource(camera_scene, fps=15, name="Generated camera")
    window.go_to_step("Evaluate")
    for prefix, mode, presentation, size in [s for s in sets if s[0] in ("light", "dark", "presentation")]:
        theme.set_mode(mode)
        window.desktop.set_presentation(presentation)
        window.resize(*size)
        dialog = panel.open_live()
        if not presentation:
            dialog.resize(*size)
        wait(app, 120, lambda: dialog.view.shown is not None)
        wait(app, 2.0)
        save(dialog, f"{prefix}-live")
        dialog.close()
        window.desktop.set_presentation(False)


def main(wanted: list[str]) -> int:
    sets = [s for s in SETS if not wanted or s[0] in wanted]
    if not sets:
        print(f"Choose among: {', '.join(s[0] for s in SETS)}")
        return 2
    from desktop_app.core.data.demo import ensure_demo_dataset

    data = ensure_demo_dataset()
    print("Training a tiny run (MobileNet 0.25, 64 px, 4 + 2 epochs)…")
    run = train_tiny_run(data)

    from desktop_app.app import create_application
    from desktop_app.core.runs import RunFolder
    from desktop_app.ui.shell.main_window import STEPS, MainWindow
    from desktop_app.ui.shell.theme import theme_manager

    app = create_application()
    theme = theme_manager(app)
    window = MainWindow(data_folder=str(data))
    window.resize(*SMALL)
    window.show()
    wait(app, 60, lambda: window.session.index is not None)

    # Visit each page once so the background work (preview, model summary, evaluation) is done.
    window.go_to_step("Augment")
    wait(app, 60, lambda: window.augment_panel.last_preview is not None)
    window.session.model = RunFolder(run).read_config().model  # the model of the run shown
    window.go_to_step("Model")
    wait(app, 120, lambda: window.model_panel._summary is not None and window.model_panel.busy.isHidden())
    window.session.run = run  # the Train, Evaluate and Export pages show it
    window.go_to_step("Evaluate")
    window.evaluate_panel.evaluate()
    wait(app, 180, lambda: window.evaluate_panel.evaluation is not None and not window.evaluate_panel._busy())
    export = window.export_panel  # every format it can write, so the page shows each file's check
    window.go_to_step("Export")
    for check in export.format_checks.values():
        check.setChecked(check.isEnabled())
    export.out_edit.setText(str(TEMP / "export"))
    export.export()
    wait(app, 600, lambda: export.result is not None and not export._busy())
    wait(app, 2)

    OUT.mkdir(parents=True, exist_ok=True)
    for prefix, mode, presentation, size in sets:
        for old in OUT.glob(f"{prefix}-[0-9]-*.png"):
            old.unlink()
        theme.set_mode(mode)
        window.desktop.set_presentation(presentation)
        window.resize(*size)
        print(f"{prefix} ({mode}{', presentation mode' if presentation else ''}, {size[0]} x {size[1]}):")
        for number, step in enumerate(STEPS, start=1):
            window.go_to_step(step)
            wait(app, 1.0)
            save(window, f"{prefix}-{number}-{step.lower()}")
        window.desktop.set_presentation(False)
    capture_shots(app, window, theme, sets)
    live_shots(app, window, theme, sets)
    from PySide6.QtWidgets import QMessageBox

    from desktop_app.ui.shell import project_controller

    project_controller.ask_save_changes = lambda *_args: QMessageBox.StandardButton.Discard
    window.close()
    total = sum(p.stat().st_size for p in OUT.glob("*.png"))
    print(f"{len(list(OUT.glob('*.png')))} screenshots, {total / 1e6:.1f} MB in {OUT.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
