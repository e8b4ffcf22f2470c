"""Live prediction in the core: frames prepared like photos, a warm model, the engine request."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from conftest import CLASS_COLOURS
from desktop_app.core.engine import EngineProcess, LivePredictRequest, Refused, Succeeded
from desktop_app.core.errors import UserError
from desktop_app.core.results import live
from desktop_app.core.results.live import live_input_size, model_input, predict_frame, resize_like_training


def camera_frame(colour, width=64, height=48, seed=0) -> np.ndarray:
    """A landscape frame of one colour with noise, like a webcam pointed at a coloured card (its
    centre square is like the tiny run's training photos)."""
    rng = np.random.default_rng(seed)
    return np.clip(np.array(colour, np.float32) + rng.normal(0, 12, (height, width, 3)), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("shape, size", [((120, 120, 3), 32), ((50, 50, 3), 224), ((90, 70, 3), 64)])
def test_frames_are_resized_exactly_as_the_training_pipeline_resizes_photos(shape, size):
    import tensorflow as tf

    image = np.random.default_rng(1).integers(0, 256, shape).astype(np.uint8)
    expected = tf.image.resize(image, (size, size)).numpy()
    np.testing.assert_allclose(resize_like_training(image, size), expected, atol=1e-3)


def test_model_input_is_the_centre_square_as_a_small_uint8_array():
    frame = np.zeros((120, 160, 3), np.uint8)
    frame[:, :20] = 255  # the left margin, outside the centre square
    frame[:, 20:140] = (10, 200, 30)
    small = model_input(frame, 32)
    assert small.shape == (32, 32, 3) and small.dtype == np.uint8
    assert np.all(small == (10, 200, 30))
    # The same frame as a photo on disk would be cropped the same way (capture uses centre_square too).
    assert np.array_equal(model_input(Image.fromarray(frame), 32), small)


def test_each_colour_is_named_right_and_the_model_stays_loaded(colour_run, shared_weights):
    assert live_input_size(colour_run) == 64
    first = predict_frame(colour_run, camera_frame(CLASS_COLOURS["red"]), frame_id=7)
    loaded = live._live._predictor
    for name, colour in CLASS_COLOURS.items():
        result = predict_frame(colour_run, model_input(camera_frame(colour, seed=3), 64))
        assert result.label == name
        assert sum(result.probabilities) == pytest.approx(1, abs=1e-4)
        assert result.seconds >= 0
    assert first.frame_id == 7 and first.classes == tuple(sorted(CLASS_COLOURS))
    assert live._live._predictor is loaded  # loaded once, not per frame


def test_a_run_without_a_model_says_so(tmp_path):
    with pytest.raises(UserError, match="no trained model"):
        predict_frame(tmp_path, camera_frame((0, 0, 0)))


def test_the_engine_predicts_frames_in_its_own_lane(colour_run, shared_weights):
    engine = EngineProcess(lambda message: None, warm_up=False)
    try:
        outcome = engine.call(LivePredictRequest(colour_run, model_input(camera_frame(CLASS_COLOURS["blue"]), 64), 3),
                              timeout=180)
        assert isinstance(outcome, Succeeded), outcome
        assert outcome.result.label == "blue" and outcome.result.frame_id == 3
        missing = engine.call(LivePredictRequest(colour_run / "nothing", np.zeros((64, 64, 3), np.uint8)), timeout=60)
        assert isinstance(missing, Refused) and "no trained model" in missing.message
    finally:
        engine.stop()
