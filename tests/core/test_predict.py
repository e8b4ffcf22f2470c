"""Top-k predictions on files and folders, aligned with files that cannot be read; CSV."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from desktop_app.core.errors import UserError
from desktop_app.core.results.predict import decoded_batches, load_predictor, predict_images


def test_folder_and_files_get_top3_in_order_with_broken_files_kept_in_place(trained_run, tmp_path):
    config = json.loads((trained_run / "config.json").read_text())
    stars = sorted((Path(config["data"]) / "stars").glob("*.jpg"))[:3]
    folder = tmp_path / "mine"
    folder.mkdir()
    for p in stars[:2]:
        shutil.copy(p, folder / p.name)
    (folder / "zz_broken.png").write_bytes(b"\x89PNG broken")
    result = predict_images(trained_run, [stars[2], folder])
    names = [p.path.name for p in result.predictions]
    assert names == [stars[2].name, stars[0].name, stars[1].name, "zz_broken.png"]
    broken = result.predictions[-1]
    assert broken.top == [] and broken.error
    predictor = load_predictor(trained_run)
    images, kept = next(decoded_batches([stars[2]], predictor.img_size))
    expected = predictor.probabilities(images)[0]
    first = result.predictions[0]
    assert len(first.top) == 3
    assert [c for c, _ in first.top][0] == predictor.classes[int(np.argmax(expected))]
    probabilities = [p for _, p in first.top]
    assert probabilities == sorted(probabilities, reverse=True)
    assert probabilities[0] == pytest.approx(float(expected.max()), abs=1e-6)

    rows = list(csv.reader(io.StringIO(result.to_csv())))
    assert rows[0] == ["path", "class_1", "probability_1", "class_2", "probability_2", "class_3",
                       "probability_3", "error"]
    assert len(rows) == 5 and rows[1][1] == first.label
    assert rows[4][0].endswith("zz_broken.png") and rows[4][-1]
    saved = result.save_csv(tmp_path / "out.csv")
    assert saved.read_text() == result.to_csv()


def test_missing_model_or_image_is_a_user_error(trained_run, tmp_path):
    with pytest.raises(UserError, match="no trained model"):
        predict_images(tmp_path, [tmp_path])
    with pytest.raises(UserError, match="does not exist"):
        predict_images(trained_run, [tmp_path / "nope.jpg"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no images"):
        predict_images(trained_run, [tmp_path / "empty"])


def test_a_photo_whose_name_is_not_utf8_is_predicted(trained_run, tmp_path):
    import os

    config = json.loads((trained_run / "config.json").read_text())
    star = sorted((Path(config["data"]) / "stars").glob("*.jpg"))[0]
    odd = Path(os.fsdecode(os.path.join(os.fsencode(tmp_path), b"\xe9toile.jpg")))
    shutil.copy(star, odd)
    result = predict_images(trained_run, [odd, star])
    assert [p.path for p in result.predictions] == [odd, star]
    assert all(p.top and not p.error for p in result.predictions)
    (odd_top, star_top) = (p.top for p in result.predictions)
    assert [c for c, _ in odd_top] == [c for c, _ in star_top]  # the same photo under another name
    assert [p for _, p in odd_top] == pytest.approx([p for _, p in star_top], abs=1e-5)


def test_a_model_another_keras_version_wrote_and_this_one_cannot_read_says_which(trained_run, tmp_path):
    """Runs trained under an older lock keep loading; one that does not says which Keras made it."""
    import zipfile

    import keras

    old = tmp_path / "old"
    old.mkdir()
    shutil.copy(trained_run / "labels.txt", old / "labels.txt")
    with zipfile.ZipFile(trained_run / "model.keras") as source, zipfile.ZipFile(old / "model.keras", "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "metadata.json":
                data = json.dumps({**json.loads(data), "keras_version": "3.3.3"}).encode()
            if item.filename == "config.json":  # a layer this Keras does not know, as across versions
                data = data.replace(b'"class_name": "Dense"', b'"class_name": "DenseV9"')
            target.writestr(item, data)
    with pytest.raises(UserError, match=rf"saved by Keras 3\.3\.3, and this app has Keras {keras.__version__}"):
        load_predictor(old)


def test_exported_onnx_and_tflite_files_predict_with_the_names_inside_them(trained_run, tmp_path):
    from desktop_app.core.export.exporter import export_run

    out = tmp_path / "export"
    export_run(trained_run, out, ["tflite", "onnx"])
    (out / "labels.txt").unlink()  # the names come from inside the files
    photos = sorted(Path(json.loads((trained_run / "config.json").read_text())["data"]).rglob("*.jpg"))[::5]
    expected = [p.top[0][0] for p in predict_images(trained_run, photos).predictions]
    for name in ("model.tflite", "model.onnx"):
        result = predict_images(out / name, photos)
        assert result.classes == ["circles", "squares", "stars", "triangles"]
        assert [p.top[0][0] for p in result.predictions] == expected, name
    (out / "model.tflite").write_bytes(b"not a model")
    with pytest.raises(UserError, match="not a model file the app can run"):
        load_predictor(out / "model.tflite")
