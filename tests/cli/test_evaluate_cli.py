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


def test_export_one_format_predict_with_it_and_report(trained_run, tmp_path, capsys):
    out = tmp_path / "export"
    assert main(["export", str(trained_run), "--format", "tflite", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "OK     model.tflite: It agrees with the trained model on" in text
    assert sorted(p.name for p in out.iterdir()) == ["labels.txt", "model.tflite", "model_card.json", "model_card.md"]
    # The exported file answers `predict` itself (in LiteRT), with the class names stored inside it.
    (out / "labels.txt").unlink()
    config = json.loads((trained_run / "config.json").read_text())
    images = [str(sorted((Path(config["data"]) / name).glob("*.jpg"))[-1]) for name in ("circles", "stars")]
    assert main(["predict", str(out / "model.tflite"), *images, "--json"]) == 0
    lite = json.loads(capsys.readouterr().out)
    assert main(["predict", str(trained_run), *images, "--json"]) == 0
    keras = json.loads(capsys.readouterr().out)
    assert [r["top"][0]["class"] for r in lite] == [r["top"][0]["class"] for r in keras]
    assert all(abs(a["top"][0]["probability"] - b["top"][0]["probability"]) < 1e-3 for a, b in zip(lite, keras))
    assert main(["report", str(trained_run), "--out", str(tmp_path / "r.html")]) == 0
    assert (tmp_path / "r.html").read_text().startswith("<!DOCTYPE html>")
    assert "<img" not in (tmp_path / "r.html").read_text()  # photos may show people: only when asked
    assert main(["report", str(trained_run), "--out", str(tmp_path / "photos.html"), "--photos"]) == 0
    assert "<img alt=" in (tmp_path / "photos.html").read_text()


def test_export_is_quiet_and_never_mixes_two_exports(trained_run, tmp_path):
    """Run as a user runs it: TensorFlow's and the converters' messages stay out of the terminal."""
    out = tmp_path / "export"
    quiet = _transfer_studio("export", str(trained_run), "--out", str(out))
    assert quiet.returncode == 0, quiet.stderr
    lines = (quiet.stdout + quiet.stderr).splitlines()
    assert 6 <= len(lines) <= 20, "\n".join(lines)
    # Every format this installation writes; an 8-bit file that changed many answers says "CAREFUL".
    assert sum(line.startswith(("OK ", "CAREFUL ")) for line in lines) == 6, "\n".join(lines)
    first = sorted((p.name, p.stat().st_mtime_ns) for p in out.rglob("*"))
    again = _transfer_studio("export", str(trained_run), "--out", str(out), "--format", "keras")
    assert again.returncode == 1 and "already holds files" in again.stderr
    assert sorted((p.name, p.stat().st_mtime_ns) for p in out.rglob("*")) == first  # only the first export
    verbose = _transfer_studio("export", str(trained_run), "--out", str(tmp_path / "v"), "--format", "tflite",
                               "--verbose")
    assert verbose.returncode == 0 and len((verbose.stdout + verbose.stderr).splitlines()) > 20


def _transfer_studio(*args: str):
    import os
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "desktop_app", *args], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "0"})
