"""Live prediction: answers per second and latency (frame in -> bars updated) of the real
live path, and the time from "Train" to the first live prediction.

(a) For MobileNetV2, MobileNetV3-Small and EfficientNetV2-B0 at 224 px (random weights:
the same compute as ImageNet ones), a real ``LiveView`` offscreen with the app's engine
process, fed 640 x 480 generated frames at 30 frames a second for ``--seconds``: answers
a second (the bars' refresh rate) and the median time from a frame's arrival to its bars.
(b) 3 classes x 30 new photos (640 px JPEGs, as the camera saves them), the Quick
experiment settings on MobileNetV2 at 224 px (fast mode, embedding store) in a warm
training process, then the first live answer in the warm engine: seconds from "Train".

    python bench/live.py [--seconds 10]

Targets (issue 15): at least 10 answers a second and under 150 ms latency for
MobileNetV2; under 15 s from Train to the first live prediction.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BASES = (("mobilenet_v2", 1.0, "MobileNetV2"), ("mobilenet_v3_small", 1.0, "MobileNetV3-Small"),
         ("efficientnet_v2_b0", None, "EfficientNetV2-B0"))
COLOURS = {"red": (220, 40, 40), "green": (40, 200, 60), "blue": (40, 60, 220)}
FPS_TARGET, LATENCY_TARGET_MS, TRAIN_TO_LIVE_TARGET_S = 10, 150, 15


def wait(app, seconds: float, until=lambda: False) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if until():
            return True
        app.processEvents()
        time.sleep(0.002)
    return until()


def write_photos(root: Path, per_class: int, size: int = 640) -> Path:
    import numpy as np

    from desktop_app.core.data.frames import save_frame

    rng = np.random.default_rng(0)
    for name, colour in COLOURS.items():
        for _ in range(per_class):
            frame = np.clip(np.array(colour, np.float32) + rng.normal(0, 25, (size * 3 // 4, size, 3)), 0, 255)
            save_frame(root / name, frame.astype(np.uint8))
    return root


def tiny_run(root: Path, backbone: str, alpha: float | None) -> Path:
    """A run of ``backbone`` at 224 px with a model (1 fast epoch on a few photos)."""
    from desktop_app.core.session import TrainingConfig
    from desktop_app.core.train.job import TrainingJob

    data = write_photos(root / f"data-{backbone}", 6, size=240)
    config = TrainingConfig.of(data=data, out=root / f"run-{backbone}", backbone=backbone, alpha=alpha,
                               weights=None, img_size=224, epochs=1, batch_size=16)
    TrainingJob(config).run()
    return Path(config.out)


def frame_maker():
    import numpy as np
    from PySide6.QtGui import QImage

    rng = np.random.default_rng(1)
    noise = [np.clip(np.array(COLOURS["green"], np.float32) + rng.normal(0, 25, (480, 640, 3)), 0, 255)
             .astype(np.uint8).tobytes() for _ in range(8)]
    return lambda n: QImage(noise[n % 8], 640, 480, 3 * 640, QImage.Format.Format_RGB888).copy()


def measure_live(app, engine, run: Path, seconds: float) -> tuple[float, float, int, int]:
    """(answers a second, median latency in ms, frames, requests) for ``run`` on the live path."""
    from desktop_app.core.results.live import live_input_size
    from desktop_app.ui.widgets.frame_sources import TimedSource
    from desktop_app.ui.widgets.live_view import LiveView

    source = TimedSource(frame_maker(), fps=30)
    view = LiveView(source, run, list(COLOURS), live_input_size(run), True, engine=engine)
    view.resize(900, 520)
    view.show()
    view.start()
    if not wait(app, 300, lambda: len(view.answer_times) >= 5):  # the model loaded and traced
        raise RuntimeError(f"no live answers for {run.name}: {view.status.text()}")
    view.latencies.clear()
    answers, latencies = [], []
    view.predictionShown.connect(lambda _p: (answers.append(time.perf_counter()),
                                             latencies.append(view.latencies[-1])))
    offered, sent = view.predictor.offered, view.predictor.sent
    start = time.perf_counter()
    wait(app, seconds)
    elapsed = time.perf_counter() - start
    frames, requests = view.predictor.offered - offered, view.predictor.sent - sent
    view.stop()
    view.close()
    return len(answers) / elapsed, 1000 * statistics.median(latencies), frames, requests


def train_to_live(app, engine, root: Path) -> tuple[float, float]:
    """(seconds from Train to the trained model, seconds from Train to the first live answer)."""
    from desktop_app.core.engine import LivePredictRequest, Succeeded, TrainRequest
    from desktop_app.core.results.live import model_input
    from desktop_app.core.session import TrainingConfig
    from desktop_app.core.train.quick_start import QUICK_IMG_SIZE, QUICK_START_CHANGES
    from desktop_app.ui.tasks import Engine

    import numpy as np

    data = write_photos(root / "captured", 30)
    trainer = Engine("training", restart=False)  # the Train page's own process, warm (TensorFlow loaded)
    trainer.start()
    wait(app, 120, lambda: trainer.warm)
    config = TrainingConfig.of(data=data, out=root / "run-quick", backbone="mobilenet_v2", alpha=1.0, weights=None,
                               img_size=QUICK_IMG_SIZE, **QUICK_START_CHANGES)
    outcome: list = []
    start = time.perf_counter()
    trainer.submit(TrainRequest(config=config), lambda m: not hasattr(m, "event") and outcome.append(m))
    wait(app, 600, lambda: bool(outcome))
    trained = time.perf_counter() - start
    if not isinstance(outcome[0], Succeeded):
        raise RuntimeError(f"training failed: {outcome[0]}")
    frame = model_input(np.full((480, 640, 3), COLOURS["red"], np.uint8), QUICK_IMG_SIZE)
    answer: list = []
    engine.submit(LivePredictRequest(Path(config.out), frame, 1), answer.append)
    wait(app, 120, lambda: bool(answer))
    live = time.perf_counter() - start
    trainer.close()
    if not isinstance(answer[0], Succeeded):
        raise RuntimeError(f"live prediction failed: {answer[0]}")
    return trained, live


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="bench-live-"))
    os.environ["TRANSFER_STUDIO_DATA_DIR"] = str(root / "user-data")
    from PySide6.QtWidgets import QApplication

    from desktop_app.ui.tasks import Engine

    app = QApplication.instance() or QApplication([])
    engine = Engine()
    engine.start()
    print(f"CPU cores: {os.cpu_count()}; frames 640 x 480 at 30 a second; {args.seconds:g} s per base")
    print("(a) live path (frame in -> bars updated)")
    print(f"    {'base':<20} {'answers/s':>10} {'latency ms':>11} {'frames':>7} {'requests':>9}")
    for backbone, alpha, title in BASES:
        run = tiny_run(root, backbone, alpha)
        rate, latency, frames, requests = measure_live(app, engine, run, args.seconds)
        print(f"    {title:<20} {rate:>10.1f} {latency:>11.0f} {frames:>7} {requests:>9}")
        if backbone == "mobilenet_v2":
            v2 = (rate, latency)
    print(f"    MobileNetV2: {v2[0]:.1f} answers/s ({v2[0] / FPS_TARGET:.2f}x the target of {FPS_TARGET}), "
          f"latency {v2[1]:.0f} ms ({v2[1] / LATENCY_TARGET_MS:.2f}x the limit of {LATENCY_TARGET_MS} ms)")
    print("(b) Train -> first live prediction, 3 classes x 30 new photos, Quick experiment, MobileNetV2 224 px")
    trained, live = train_to_live(app, engine, root)
    print(f"    trained in {trained:.1f} s, first live answer at {live:.1f} s "
          f"({live / TRAIN_TO_LIVE_TARGET_S:.2f}x the limit of {TRAIN_TO_LIVE_TARGET_S} s)")
    engine.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
