"""Exports load back and predict like the trained model, also in a fresh Python and in TFLite."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from desktop_app.core.errors import UserError
from desktop_app.core.export.formats import (
    CARD_JSON, CARD_MD, FORMATS, MAX_ABS_DIFF, export_run, has_augmentation, inference_copy,
)
from desktop_app.core.results.predict import load_predictor


@pytest.fixture(scope="module")
def exported(trained_run, tmp_path_factory):
    """Every format, written once for all the tests here (the slow part)."""
    out = tmp_path_factory.mktemp("export")
    return export_run(trained_run, out, FORMATS)


def raw_image(trained_run, name: str = "stars") -> np.ndarray:
    """A demo photo as a phone app would feed it: RGB 0..255, resized, float32."""
    config = json.loads((trained_run / "config.json").read_text())
    path = sorted((Path(config["data"]) / name).glob("*.jpg"))[0]
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB").resize((config["model"]["img_size"],) * 2), np.float32)


def test_every_format_is_written_and_passes_its_check(exported):
    by_format = {c.format: c for c in exported.checks}
    assert list(by_format) == list(FORMATS)
    for fmt, check in by_format.items():
        assert check.ok, check.detail
        assert check.path.exists() and check.size_bytes > 0
        assert check.images >= 4
        if fmt in MAX_ABS_DIFF:
            assert check.max_abs_diff <= MAX_ABS_DIFF[fmt]
    assert by_format["tflite-quant"].top1_agreement >= 0.75
    assert by_format["tflite-quant"].size_bytes < by_format["tflite"].size_bytes / 2
    # The run augments: the SavedModel is made from the copy without the random block, and says so.
    assert any("SavedModel" in note and "augmentation" in note for note in exported.notes)
    assert (exported.out_dir / "labels.txt").read_text().split() == ["circles", "squares", "stars", "triangles"]


def test_model_card_says_what_the_model_takes_and_how_it_did(exported, trained_run):
    card = json.loads((exported.out_dir / CARD_JSON).read_text())
    assert card["classes"] == ["circles", "squares", "stars", "triangles"]
    assert card["base_model"]["name"] == "mobilenet"
    assert card["input"]["shape"] == [1, 64, 64, 3]
    assert "0..255" in card["input"]["description"] and "preprocessing is inside" in card["input"]["description"]
    assert "best_val_accuracy" in card["metrics"]
    assert card["date"][:4].isdigit()
    assert [f["format"] for f in card["files"]] == list(FORMATS)
    text = (exported.out_dir / CARD_MD).read_text()
    for words in ("circles, squares, stars, triangles", "0..255", "preprocessing is inside", "model.tflite",
                  "Best validation accuracy", "without its data-augmentation block"):
        assert words in text


def test_keras_file_loads_safely_in_a_python_without_the_app(exported, trained_run, tmp_path):
    images = np.stack([raw_image(trained_run, n) for n in ("circles", "stars")])
    np.save(tmp_path / "images.npy", images)
    code = textwrap.dedent(f"""
        import json, sys
        import numpy as np, keras
        model = keras.saving.load_model({str(exported.out_dir / 'model.keras')!r}, safe_mode=True)
        probs = np.asarray(model(np.load({str(tmp_path / 'images.npy')!r}), training=False))
        app = sorted(m for m in sys.modules if m.split(".")[0] == "desktop_app")
        print(json.dumps({{"probs": probs.tolist(), "app": app}}))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["app"] == []
    expected = load_predictor(trained_run).probabilities(images)
    assert np.max(np.abs(np.array(result["probs"]) - expected)) <= 1e-4


def test_tflite_runs_on_a_raw_image_with_the_same_top1(exported, trained_run):
    import tensorflow as tf

    predictor = load_predictor(trained_run)
    for name in ("circles", "squares", "stars", "triangles"):
        image = raw_image(trained_run, name)
        interpreter = tf.lite.Interpreter(model_path=str(exported.out_dir / "model.tflite"))
        interpreter.allocate_tensors()
        inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
        assert inp["dtype"] == np.float32 and list(inp["shape"]) == [1, 64, 64, 3]
        interpreter.set_tensor(inp["index"], image[np.newaxis])
        interpreter.invoke()
        lite = interpreter.get_tensor(out["index"])[0]
        keras_probs = predictor.probabilities(image[np.newaxis])[0]
        assert int(np.argmax(lite)) == int(np.argmax(keras_probs))
        assert np.max(np.abs(lite - keras_probs)) <= 1e-3


def test_saved_model_serves_the_same_answers(exported, trained_run):
    import tensorflow as tf

    images = np.stack([raw_image(trained_run, n) for n in ("squares", "triangles")])
    loaded = tf.saved_model.load(str(exported.out_dir / "saved_model"))
    got = np.asarray(loaded.serve(tf.constant(images)))
    assert np.max(np.abs(got - load_predictor(trained_run).probabilities(images))) <= 1e-4


def test_inference_copy_drops_only_the_augmentation_block(trained_run):
    model = load_predictor(trained_run).model
    assert has_augmentation(model)
    copy = inference_copy(model)
    assert not has_augmentation(copy)
    assert copy.count_params() == model.count_params()
    images = np.stack([raw_image(trained_run, n) for n in ("circles", "stars")])
    assert np.allclose(np.asarray(copy(images, training=False)), np.asarray(model(images, training=False)), atol=1e-6)


def test_bad_requests_are_user_errors(trained_run, tmp_path):
    with pytest.raises(UserError, match="formats"):
        export_run(trained_run, tmp_path / "x", ["onnx"])
    with pytest.raises(UserError, match="other than the run folder"):
        export_run(trained_run, trained_run, ["keras"])


def test_check_details_say_decimal_places_not_scientific_notation(tmp_path):
    from desktop_app.core.export.formats import _compare, decimal_places

    assert [decimal_places(d) for d in (3.2e-7, 1e-4, 5e-5, 2e-4, 0.3)] == [6, 4, 4, 3, 0]
    reference = np.array([[0.25, 0.75]], np.float32)
    ok = _compare("keras", tmp_path / "m.keras", reference, reference + 3.2e-7, "8 validation images")
    assert ok.ok and "match the trained model to 6 decimal places (the check needs at least 4 decimal places)" \
        in ok.detail
    assert "e-0" not in ok.detail
    exact = _compare("keras", tmp_path / "m.keras", reference, reference.copy(), "8 validation images")
    assert "exactly" in exact.detail
    bad = _compare("tflite", tmp_path / "m.tflite", reference, reference + 0.02, "8 validation images")
    assert not bad.ok and "to only 1 decimal place(s) (needed: 3)" in bad.detail


def test_weights_are_worded_once():
    from desktop_app.core.runs import weights_words

    assert weights_words("imagenet") == "ImageNet"
    assert weights_words(None) == "random (no pretraining)"
    assert weights_words("/my/weights.h5") == "/my/weights.h5"
