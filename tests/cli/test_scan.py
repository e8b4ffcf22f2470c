"""``transfer-studio scan``: classes, counts, bad files with reasons; exit status says usable."""

from __future__ import annotations

import json

from conftest import make_image_folder
from corpus import build_bad_corpus, usable_count
from desktop_app.cli import main


def test_scan_json_lists_classes_counts_and_bad_files(tmp_path, capsys):
    root = tmp_path / "bad corpus"
    expected = build_bad_corpus(root)
    assert main(["scan", str(root), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["usable"] and data["classes"] == ["alpha", "beta"]
    assert sum(data["counts"]["pool"].values()) == data["num_images"] == usable_count(expected)
    problems = {item["path"].rsplit("/", 1)[-1]: item["problem"] for item in data["bad_files"]}
    assert problems["empty.jpg"] == "empty" and problems["bomb.png"] == "too_large"
    assert all(item["reason"] for item in data["bad_files"])


def test_scan_text_output(tmp_path, capsys):
    root = make_image_folder(tmp_path / "data", per_class=3)
    (root / "red" / "broken.jpg").write_text("hello")
    assert main(["scan", str(root)]) == 0
    out = capsys.readouterr().out
    assert "3 classes, 9 usable images" in out
    assert "red/broken.jpg: This is a text file" in out


def test_scan_of_an_unusable_folder_exits_1(tmp_path, capsys):
    root = make_image_folder(tmp_path / "one", per_class=2, classes={"only": (1, 2, 3)})
    assert main(["scan", str(root)]) == 1
    assert "only one class" in capsys.readouterr().err
    assert main(["scan", str(root), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["usable"] is False
