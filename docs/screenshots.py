"""Regenerate the screenshots in docs/screenshots/: every page, light and dark, and presentation mode.

    .venv/bin/python docs/screenshots.py            (about two minutes on a laptop)

Everything happens in a temporary folder (demo dataset, a tiny real training run,
settings), so the user's own data and settings are untouched. The run is real: MobileNet
(width 0.25) at 64 px, 4 epochs of training the head then 2 of fine-tuning, so the Train,
Evaluate and Export pages have something to show. It uses the ImageNet weights in
../shared/weights when that folder exists (the curves then show real learning), and
random weights otherwise. Images are scaled to 1200 px wide
and saved as optimised PNGs.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "screenshots"
WIDTH = 1200
WINDOW = (1200, 780)
PRESENTATION_WINDOW = (1620, 1053)  # a projector's worth of pixels, kept at full size: scaling
# it down to WIDTH would undo the larger fonts the pictures are meant to show

TEMP = Path(tempfile.mkdtemp(prefix="transfer-studio-shots-"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
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
    config = TrainingConfig.of(data=data, out=new_run_dir("mobilenet"), backbone="mobilenet", alpha=0.25,
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
    from PIL import Image
    from PySide6.QtCore import QBuffer, QIODevice

    image = window.grab().toImage()
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    import io

    picture = Image.open(io.BytesIO(bytes(buffer.data()))).convert("RGB")
    if picture.width != WIDTH and not name.startswith("presentation"):
        picture = picture.resize((WIDTH, round(picture.height * WIDTH / picture.width)), Image.Resampling.LANCZOS)
    # 256 well-chosen colours keep UI text crisp and the files small.
    picture = picture.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    path = OUT / f"{name}.png"
    picture.save(path, optimize=True)
    print(f"  {path.relative_to(REPO)} ({path.stat().st_size // 1024} KB)")


def main() -> int:
    from desktop_app.core.data.demo import ensure_demo_dataset

    data = ensure_demo_dataset()
    print("Training a tiny run (MobileNet 0.25, 64 px, 4 + 2 epochs)…")
    run = train_tiny_run(data)

    from desktop_app.app import create_application
    from desktop_app.core.runs import RunFolder
    from desktop_app.ui.shell.main_window import STEPS, MainWindow
    from desktop_app.ui.shell.theme import DARK, LIGHT, theme_manager

    app = create_application()
    theme = theme_manager(app)
    window = MainWindow(data_folder=str(data))
    window.resize(*WINDOW)
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
    wait(app, 2)

    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.png"):
        old.unlink()
    for mode in (LIGHT, DARK):
        theme.set_mode(mode)
        print(f"{mode} theme:")
        for number, step in enumerate(STEPS, start=1):
            window.go_to_step(step)
            wait(app, 1.0)
            save(window, f"{mode}-{number}-{step.lower()}")
    theme.set_mode(LIGHT)
    window.desktop.set_presentation(True)
    window.resize(*PRESENTATION_WINDOW)
    print("presentation mode:")
    for number, step in enumerate(STEPS, start=1):
        window.go_to_step(step)
        wait(app, 1.0)
        save(window, f"presentation-{number}-{step.lower()}")
    window.desktop.set_presentation(False)
    from PySide6.QtWidgets import QMessageBox

    from desktop_app.ui.shell import project_controller

    project_controller.ask_save_changes = lambda *_args: QMessageBox.StandardButton.Discard
    window.close()
    total = sum(p.stat().st_size for p in OUT.glob("*.png"))
    print(f"{len(list(OUT.glob('*.png')))} screenshots, {total / 1e6:.1f} MB in {OUT.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
