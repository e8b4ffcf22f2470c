"""transfer-studio evaluate / predict / export / report."""

from __future__ import annotations

import json
from pathlib import Path

from desktop_app.cli import main


def test_evaluate_json(trained_run, capsys):
    assert main(["evaluate", str(trained_run), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    metrics = json.loads((trained_run / "metrics.json").read_text())
    assert result["classes"] == ["circles", "squares", "stars", "triangles"]
    assert abs(result["accuracy"] - metrics["best_val_accuracy"]) < 1e-6
    assert sum(map(sum, result["confusion_matrix"])) == result["images"] == metrics["num_val_images"]
    assert [row["class"] for row in result["per_class"]] == result["classes"]


def test_evaluate_text_and_errors(trained_run, tmp_path, capsys):
    assert main(["evaluate", str(trained_run)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Accuracy:") and "Confusion matrix" in out and "triangles" in out
    assert main(["evaluate", str(tmp_path)]) == 1
    assert "Error:" in capsys.readouterr().err


def test_predict_json_and_csv(trained_run, tmp_path, capsys):
    config = json.loads((trained_run / "config.json").read_text())
    images = sorted((Path(config["data"]) / "circles").glob("*.jpg"))[:2]
    csv_path = tmp_path / "p.csv"
    assert main(["predict", str(trained_run / "model.keras"), *map(str, images), "--json", "--csv", str(csv_path)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [r["path"] for r in result] == [str(p) for p in images]
    assert all(len(r["top"]) == 3 for r in result)
    assert len(csv_path.read_text().splitlines()) == 3


def test_export_one_format_and_report(trained_run, tmp_path, capsys):
    out = tmp_path / "export"
    assert main(["export", str(trained_run), "--format", "tflite", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "OK" in text and "TensorFlow Lite" in text
    assert sorted(p.name for p in out.iterdir()) == ["labels.txt", "model.tflite", "model_card.json", "model_card.md"]
    assert main(["report", str(trained_run), "--out", str(tmp_path / "r.html")]) == 0
    assert (tmp_path / "r.html").read_text().startswith("<!DOCTYPE html>")
