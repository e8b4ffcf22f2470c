"""Evaluation metrics by hand, and on a real (tiny) run's validation split."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from desktop_app.core.errors import UserError
from desktop_app.core.results.evaluation import (
    Evaluation, class_scores, confusion_matrix, evaluate_run, load_evaluation,
)
from desktop_app.core.runs import RunFolder
from desktop_app.core.session import TrainingConfig

# Three classes, nine images; the predictions (argmax of each row) are 0 0 1 | 1 2 | 2 2 0 0.
Y_TRUE = [0, 0, 0, 1, 1, 2, 2, 2, 2]
PROBS = [
    [0.9, 0.05, 0.05], [0.6, 0.3, 0.1], [0.2, 0.7, 0.1],
    [0.1, 0.8, 0.1], [0.1, 0.35, 0.55],
    [0.0, 0.1, 0.9], [0.2, 0.2, 0.6], [0.95, 0.0, 0.05], [0.5, 0.1, 0.4],
]


def tiny() -> Evaluation:
    return Evaluation(["a", "b", "c"], [Path(f"img{i}.png") for i in range(9)], Y_TRUE, PROBS)


def test_metrics_equal_hand_computed_values():
    ev = tiny()
    assert ev.y_pred.tolist() == [0, 0, 1, 1, 2, 2, 2, 0, 0]
    assert ev.confusion.tolist() == [[2, 1, 0], [0, 1, 1], [2, 0, 2]]
    assert ev.accuracy == pytest.approx(5 / 9)
    a, b, c = ev.per_class
    # precision: column; recall: row
    assert (a.precision, a.recall, a.f1, a.support) == pytest.approx((2 / 4, 2 / 3, 4 / 7, 3))
    assert (b.precision, b.recall, b.f1, b.support) == pytest.approx((1 / 2, 1 / 2, 1 / 2, 2))
    assert (c.precision, c.recall, c.f1, c.support) == pytest.approx((2 / 3, 2 / 4, 4 / 7, 4))
    assert ev.macro_average()["f1"] == pytest.approx((4 / 7 + 1 / 2 + 4 / 7) / 3)


def test_a_class_never_predicted_and_never_present_scores_zero_not_nan():
    matrix = confusion_matrix([0, 1], [0, 1], 3)
    scores = class_scores(matrix, ["a", "b", "c"])
    assert (scores[2].precision, scores[2].recall, scores[2].f1, scores[2].support) == (0.0, 0.0, 0.0, 0)


def test_cells_and_most_wrong():
    ev = tiny()
    assert ev.cell(2, 0) == [Path("img7.png"), Path("img8.png")]
    assert ev.cell(0, 0) == [Path("img0.png"), Path("img1.png")]
    assert ev.cell(1, 0) == []
    wrong = ev.most_wrong()
    # Wrong answers, most confident first: img7 (0.95), img2 (0.7), img4 (0.55), img8 (0.5).
    assert [w.path.name for w in wrong] == ["img7.png", "img2.png", "img4.png", "img8.png"]
    assert [(w.true_label, w.predicted_label) for w in wrong] == [(2, 0), (0, 1), (1, 2), (2, 0)]
    assert wrong[0].probability == pytest.approx(0.95)
    assert len(ev.most_wrong(2)) == 2


def test_round_trip_through_json(tmp_path):
    ev = tiny()
    ev.save(tmp_path / "e.json")
    back = Evaluation.load(tmp_path / "e.json")
    assert back.classes == ev.classes and back.paths == ev.paths
    assert back.confusion.tolist() == ev.confusion.tolist()
    assert np.allclose(back.probabilities, ev.probabilities)
    summary = json.loads((tmp_path / "e.json").read_text())
    assert summary["accuracy"] == pytest.approx(5 / 9)
    assert summary["per_class"][0] == {"class": "a", "precision": 0.5, "recall": pytest.approx(2 / 3),
                                       "f1": pytest.approx(4 / 7), "support": 3}


def test_run_evaluation_matches_training_validation_accuracy(trained_run):
    from desktop_app.core.data.scan import scan_folder
    from desktop_app.core.data.split import make_split

    ev = evaluate_run(trained_run)
    run = RunFolder(trained_run)
    config, metrics = run.read_config(), run.read_metrics()
    split = make_split(scan_folder(config.data), config.split.subset_percent, config.split.val_fraction,
                       config.split.seed)
    assert ev.classes == split.classes
    assert ev.paths == [f.path for f in split.val]
    assert ev.y_true.tolist() == [f.label for f in split.val]
    assert ev.probabilities.shape == (len(split.val), 4)
    # model.keras is the best checkpoint: the same images give the accuracy Keras reported.
    assert ev.accuracy == pytest.approx(metrics["best_val_accuracy"], abs=1e-6)
    assert load_evaluation(trained_run).accuracy == pytest.approx(ev.accuracy)
    assert run.evaluation_path.exists()


def test_evaluating_on_another_folder_maps_classes_by_name(trained_run, tmp_path):
    config = json.loads((trained_run / RunFolder.CONFIG).read_text())
    other = tmp_path / "other"
    for name in ("triangles", "stars"):  # a different class order than the model's
        shutil.copytree(Path(config["data"]) / name, other / name)
    (other / "stars" / "broken.jpg").write_bytes(b"not a picture")
    ev = evaluate_run(trained_run, other, save=False)
    assert set(ev.y_true.tolist()) == {ev.classes.index("stars"), ev.classes.index("triangles")}
    assert ev.y_true.tolist() == [ev.classes.index("stars")] * 12 + [ev.classes.index("triangles")] * 12
    assert ev.count == 24  # the broken file was left out when the folder was checked
    for name in ("stars", "hexagons"):
        shutil.copytree(Path(config["data"]) / "stars", tmp_path / "odd" / name)
    with pytest.raises(UserError, match="hexagons"):
        evaluate_run(trained_run, tmp_path / "odd", save=False)


def test_a_folder_without_a_run_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="not a training run"):
        evaluate_run(tmp_path)


def test_a_run_made_before_runs_recorded_their_photos_gets_the_split_training_made(tmp_path):
    """Such a run's photos are chosen again exactly as its training chose them: the bad files
    left out first, then the seeded split."""
    from conftest import make_image_folder
    from desktop_app.core.data.scan import scan_folder
    from desktop_app.core.data.split import make_split
    from desktop_app.core.data.validate import validate_index
    from desktop_app.core.results.evaluation import run_photos

    data = make_image_folder(tmp_path / "data", per_class=10)
    for i in range(3):
        (data / "red" / f"a_broken_{i}.png").write_bytes(b"\x89PNG broken")
    run = RunFolder(tmp_path / "run")
    run.create()
    run.write_config(TrainingConfig.of(data, run.path, subset_percent=100.0, val_fraction=0.3, seed=7))
    config = json.loads(run.config_path.read_text())
    run.config_path.write_text(json.dumps({**config, "schema_version": 2}))  # as the previous version wrote it
    run.write_labels(["blue", "green", "red"])
    photos = run_photos(run.path)
    trained = make_split(validate_index(scan_folder(data)), 100.0, 0.3, 7, legacy=True)  # as TrainingJob did
    assert photos.legacy and photos.split.train == trained.train and photos.split.val == trained.val
    assert not any("broken" in f.path.name for f in photos.split.train + photos.split.val)
    naive = make_split(scan_folder(data), 100.0, 0.3, 7, legacy=True)  # without the check: another split
    assert (naive.train, naive.val) != (photos.split.train, photos.split.val)
    shutil.rmtree(data)
    with pytest.raises(UserError, match="gone"):
        run_photos(run.path)


def test_run_labels_use_one_percent_style(tmp_path):
    from desktop_app.core.runs import RunInfo

    config = TrainingConfig.of(tmp_path, tmp_path / "r", subset_percent=10.0)
    run = RunInfo(tmp_path / "r", config, [{"phase": "fine_tuning"}], {"best_val_accuracy": 0.25})
    assert run.label == "r (10 % data, fine-tuned, best 25 %)"
