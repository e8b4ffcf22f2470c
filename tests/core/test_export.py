"""Exports run in their own clients like the trained model, never mix runs, and say what they are."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from desktop_app.core.errors import UserError
from desktop_app.core.export.check import QUANTIZED_MIN_AGREEMENT, judge, percent
from desktop_app.core.export.exporter import export_run
from desktop_app.core.export.formats import FORMATS, BY_KEY, has_augmentation, inference_copy
from desktop_app.core.model.tflite_labels import embedded_labels
from desktop_app.core.results.evaluation import evaluation_files
from desktop_app.core.results.predict import load_predictor, predict_probabilities

CLASSES = ["circles", "squares", "stars", "triangles"]


@pytest.fixture(scope="module")
def exported(trained_run, tmp_path_factory):
    """Every format, written once for all the tests here (the slow part)."""
    return export_run(trained_run, tmp_path_factory.mktemp("export") / "out", FORMATS)


def test_every_format_is_written_run_back_and_measured(exported):
    by_format = {c.format: c for c in exported.checks}
    assert list(by_format) == list(FORMATS)
    for fmt, check in by_format.items():
        assert check.ok, check.detail
        assert exported.path(check).exists() and check.size_bytes > 0
        assert check.images >= 8 and check.agreement is not None and check.accuracy is not None
        # The page's words: how many photos agree, never a bare "passed".
        assert f"{percent(check.agreement)} of {check.images} validation photos" in check.detail
        if BY_KEY[fmt].float_limit is not None:
            assert check.max_abs_diff <= BY_KEY[fmt].float_limit and check.agreement == 1.0
    assert by_format["tflite"].runtime == "LiteRT" and by_format["onnx"].runtime == "ONNX Runtime"
    # The photo files themselves through the SavedModel's bytes signature: plain JPEGs decode as in the app.
    assert "(serve_image_bytes), it agrees on 100 % of them" in by_format["savedmodel"].detail
    int8 = by_format["tflite-int8"].tensors
    assert int8["input"]["dtype"] == "uint8" and int8["output"]["dtype"] == "uint8" and int8["input"]["scale"] > 0
    assert by_format["tflite-int8"].size_bytes < by_format["tflite"].size_bytes / 2
    assert any("augmentation" in note for note in exported.notes)
    assert (exported.out_dir / "labels.txt").read_text().split() == CLASSES


def test_the_labels_travel_inside_the_model_files(exported):
    for name in ("model.tflite", "model_quantized.tflite", "model_int8.tflite"):
        assert embedded_labels((exported.out_dir / name).read_bytes()) == CLASSES
    serving = exported.out_dir / "saved_model" / "1"  # TF Serving's numbered version folder
    assert (serving / "saved_model.pb").is_file()
    assert (serving / "assets" / "labels.txt").read_text().split() == CLASSES
    import onnx

    meta = {p.key: p.value for p in onnx.load(str(exported.out_dir / "model.onnx")).metadata_props}
    assert json.loads(meta["labels"]) == CLASSES


def test_model_card_gives_a_developer_what_they_need(exported, trained_run):
    card_text = (exported.out_dir / "model_card.json").read_text()
    text = (exported.out_dir / "model_card.md").read_text()
    for where in (card_text, text):  # no paths of the machine that made it
        assert str(trained_run.parent) not in where and str(exported.out_dir) not in where and "/tmp" not in where
    card = json.loads(card_text)
    assert card["classes"] == CLASSES and card["input"]["shape"] == [1, 64, 64, 3]
    assert card["versions"]["exported_with"]["tensorflow"] and card["versions"]["exported_with"]["keras"]
    assert card["versions"]["trained_with"]["keras"]  # recorded by the run when it trained
    prep = card["preprocessing"]
    assert "bilinear" in prep["resize"] and "64 x 64" in prep["resize"] and "antialias" in prep["resize"]
    assert "squashed" in prep["aspect"] and "cropped" in prep["aspect"]
    assert "EXIF" in prep["decode"] and "white" in prep["decode"] and "RGB" in prep["channel_order"]
    assert "0..255" in prep["value_range"]
    files = {f["format"]: f for f in card["files"]}
    assert files["tflite"]["tensors"]["input"]["name"] and files["onnx"]["tensors"]["output"]["name"]
    assert set(files["savedmodel"]["tensors"]) == {"serving_default", "serve_image_bytes"}
    assert all(f["accuracy"] is not None and f["file"] == Path(f["file"]).name for f in card["files"])
    for words in ("tf.image.resize", "squashed: the whole photo", "serve_image_bytes", "EXIF orientation is not applied",
                  "Validation accuracy of this file", "Trained with", "Exported with Transfer Studio"):
        assert words in text, words


# A client that never imports the app: it decodes each photo as the model card says, runs
# every file in its own runtime and prints the probabilities.
CLIENT = textwrap.dedent("""
    import json, sys
    import numpy as np, tensorflow as tf, keras, onnxruntime
    from ai_edge_litert.interpreter import Interpreter

    out, paths, size = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
    def photo(path):  # as the model card says: RGB, bilinear (tf.image.resize), squashed, 0..255
        return tf.image.resize(tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False),
                               (size, size)).numpy()
    images = np.stack([photo(p) for p in paths]).astype(np.float32)
    got = {}
    got["keras"] = keras.saving.load_model(out + "/model.keras", safe_mode=True).predict(images, verbose=0)
    served = tf.saved_model.load(out + "/saved_model/1")
    got["savedmodel"] = served.signatures["serving_default"](images=tf.constant(images))["probabilities"].numpy()
    raw = tf.constant([open(p, "rb").read() for p in paths])
    got["savedmodel-bytes"] = served.signatures["serve_image_bytes"](image_bytes=raw)["probabilities"].numpy()
    for name in ("tflite", "tflite-quant", "tflite-int8"):
        file = {"tflite": "model.tflite", "tflite-quant": "model_quantized.tflite",
                "tflite-int8": "model_int8.tflite"}[name]
        lite = Interpreter(model_path=out + "/" + file)
        lite.allocate_tensors()
        inp, res = lite.get_input_details()[0], lite.get_output_details()[0]
        rows = []
        for image in images:
            x = image[None]
            if inp["dtype"] == np.uint8:
                scale, zero = inp["quantization"]
                x = np.clip(np.round(x / scale + zero), 0, 255)
            lite.set_tensor(inp["index"], x.astype(inp["dtype"]))
            lite.invoke()
            y = lite.get_tensor(res["index"])[0].astype(np.float32)
            if res["dtype"] == np.uint8:
                scale, zero = res["quantization"]
                y = scale * (y - zero)
            rows.append(y)
        got[name] = np.stack(rows)
    session = onnxruntime.InferenceSession(out + "/model.onnx", providers=["CPUExecutionProvider"])
    got["onnx"] = session.run(None, {session.get_inputs()[0].name: images})[0]
    app = sorted(m for m in sys.modules if m.split(".")[0] == "desktop_app")
    print(json.dumps({"app": app, **{k: np.asarray(v).tolist() for k, v in got.items()}}))
""")


def test_each_file_gives_the_apps_answers_in_a_client_that_never_imports_the_app(exported, trained_run, tmp_path):
    files = evaluation_files(trained_run)[0]  # every validation photo of the run
    predictor = load_predictor(trained_run)
    app, kept = predict_probabilities(predictor, [f.path for f in files])
    assert len(kept) == len(files) >= 8
    out = subprocess.run(
        [sys.executable, "-c", CLIENT, str(exported.out_dir), json.dumps([str(f.path) for f in files]), "64"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got.pop("app") == []
    top = np.argmax(app, 1)
    checks = {c.format: c for c in exported.checks}
    for name, probabilities in got.items():
        agreement = float(np.mean(np.argmax(np.array(probabilities), 1) == top))
        fmt = name.removesuffix("-bytes")
        if BY_KEY[fmt].float_limit is not None:  # float files: the same top class on every photo
            assert agreement == 1.0, name
            assert np.max(np.abs(np.array(probabilities) - app)) <= BY_KEY[fmt].float_limit, name
        else:  # 8-bit files: what the export recorded, in the client too
            assert agreement == pytest.approx(checks[fmt].agreement), name


def test_a_folder_that_holds_files_is_refused_and_keeps_them(exported, trained_run):
    before = {p.name: p.stat().st_mtime_ns for p in exported.out_dir.iterdir()}
    with pytest.raises(UserError, match="already holds files"):
        export_run(trained_run, exported.out_dir, ["keras"])
    assert {p.name: p.stat().st_mtime_ns for p in exported.out_dir.iterdir()} == before
    assert not list(exported.out_dir.parent.glob(".out.export-*"))  # no staging folder left


def test_replacing_moves_the_old_export_to_the_trash(trained_run, tmp_path, trash):
    out = tmp_path / "export"
    (out / "saved_model").mkdir(parents=True)
    (out / "model.tflite").write_bytes(b"an older run's model")
    (out / ".DS_Store").write_bytes(b"clutter")  # the system's, not the user's
    result = export_run(trained_run, out, ["keras"], replace=True)
    assert result.ok
    assert sorted(p.name for p in out.iterdir()) == ["labels.txt", "model.keras", "model_card.json", "model_card.md"]
    assert (trash / "model.tflite").read_bytes() == b"an older run's model" and (trash / "saved_model").is_dir()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".export")]  # nothing aside, nothing staged


def test_what_is_not_an_old_export_is_never_replaced(trained_run, tmp_path, trash):
    hidden = tmp_path / "hidden"
    (hidden / ".git").mkdir(parents=True)  # hidden files are files too
    with pytest.raises(UserError, match="already holds files"):
        export_run(trained_run, hidden, ["keras"])
    with pytest.raises(UserError, match="holds other folders"):
        export_run(trained_run, hidden, ["keras"], replace=True)
    with pytest.raises(UserError, match="holds other folders"):  # the run's own parent: never to the trash
        export_run(trained_run, trained_run.parent, ["keras"], replace=True)
    assert (hidden / ".git").is_dir() and trained_run.is_dir() and not list(trash.parent.glob("*/*"))
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "real", target_is_directory=True)
    (tmp_path / "real").mkdir()
    assert export_run(trained_run, link, ["keras"]).out_dir == tmp_path / "real"  # where the link points
    assert link.is_symlink() and (link / "model.keras").is_file()


def test_without_its_dataset_only_the_int8_file_fails(trained_run, tmp_path):
    import shutil

    moved = tmp_path / "run"
    shutil.copytree(trained_run, moved)
    config = json.loads((moved / "config.json").read_text())
    config["data"] = str(tmp_path / "gone")
    config.pop("data_relative", None)
    (moved / "config.json").write_text(json.dumps(config))
    result = export_run(moved, tmp_path / "out", ["keras", "tflite-int8"])
    keras_check, int8 = result.checks
    assert keras_check.ok and "random images" in keras_check.detail
    assert not int8.ok and "training photos" in int8.detail
    with pytest.raises(UserError, match="no trained model"):
        export_run(tmp_path / "out" / "model.keras", tmp_path / "again", ["keras"])


def test_a_stopped_export_leaves_nothing(trained_run, tmp_path):
    steps, where = [], tmp_path / "exports"
    result = export_run(trained_run, where / "out", ["keras", "tflite"], report=steps.append,
                        should_stop=lambda: len(steps) >= 3)
    assert result is None
    assert list(where.iterdir()) == []


def test_a_killed_export_leaves_no_folder_and_the_next_one_cleans_up(trained_run, tmp_path):
    import os

    env = {**os.environ, "TRANSFER_STUDIO_KILL_AT": "export-file-written:1"}
    tmp_path = tmp_path / "exports"
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "desktop_app", "export", str(trained_run), "--out", str(out),
                           "--format", "keras", "--format", "tflite"], env=env, capture_output=True, timeout=600)
    assert done.returncode == -9  # SIGKILL, after model.keras was written
    assert not out.exists()
    assert [p.name.startswith(".out.export-") for p in tmp_path.iterdir()] == [True]
    export_run(trained_run, out, ["keras"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_inference_copy_drops_only_the_augmentation_block(trained_run):
    model = load_predictor(trained_run).model
    assert has_augmentation(model)
    copy = inference_copy(model)
    assert not has_augmentation(copy) and copy.count_params() == model.count_params()
    images = np.random.default_rng(0).uniform(0, 255, (2, 64, 64, 3)).astype(np.float32)
    assert np.allclose(np.asarray(copy(images, training=False)), np.asarray(model(images, training=False)), atol=1e-6)


def test_bad_requests_are_sentences(trained_run, tmp_path):
    with pytest.raises(UserError, match="formats"):
        export_run(trained_run, tmp_path / "x", ["pdf"])
    with pytest.raises(UserError, match="other than the run folder"):
        export_run(trained_run, trained_run, ["keras"])
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(UserError, match="is a file, not a folder"):
        export_run(trained_run, tmp_path / "a-file", ["keras"])


def test_checks_say_how_many_photos_agree():
    from desktop_app.core.export.check import CheckPhotos, decimal_places

    assert [decimal_places(d) for d in (3.2e-7, 1e-4, 5e-5, 2e-4, 0.3)] == [6, 4, 4, 3, 0]
    assert [percent(x) for x in (0.97, 1.0, 429 / 430, 1 / 430, 0.0)] == ["97 %", "100 %", "99.7 %", "0.3 %", "0 %"]
    reference = np.tile(np.array([[0.2, 0.8], [0.9, 0.1]], np.float32), (5, 1))
    photos = CheckPhotos(np.zeros((10, 4, 4, 3), np.float32), np.array([1, 0] * 4 + [0, 0]), "10 validation photos")
    exact = judge("keras", "Keras", "model.keras", photos, reference, reference.copy(), 1e-4)
    assert exact.ok and exact.agreement == 1.0 and exact.accuracy == 0.9
    assert "agrees with the trained model on 100 % of 10 validation photos; right on 90 %" in exact.detail
    assert "match exactly" in exact.detail
    drift = judge("tflite", "TFLite", "model.tflite", photos, reference, reference + 0.02, 1e-3)
    assert not drift.ok and "to 1 decimal place (the check needs 3 decimal places)" in drift.detail
    flipped = reference.copy()
    flipped[:2] = flipped[:2, ::-1]  # two of ten answers change
    int8 = judge("tflite-int8", "int8", "model_int8.tflite", photos, reference, flipped, None)
    assert int8.ok and int8.caution and int8.agreement == 0.8 < QUANTIZED_MIN_AGREEMENT
    assert int8.detail.startswith("Careful: it only agrees with the trained model on 80 % of 10 validation photos")
