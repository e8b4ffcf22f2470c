"""Every sub-command on damaged input ends with one sentence and a non-zero exit, never a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import make_image_folder
from desktop_app.cli import main as cli_main
from desktop_app.core.runs import RunFolder


def truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


DAMAGES = {
    "empty": lambda p: p.write_bytes(b""),
    "truncated": truncated,
    "wrong type": lambda p: p.write_text("this is a text file, not what the name says"),
    "missing": lambda p: shutil.rmtree(p) if p.is_dir() else p.unlink(),
}


@pytest.fixture(scope="module")
def good_run(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("damaged")
    data = make_image_folder(root / "data", per_class=5)
    assert cli_main(["train", str(data), "--out", str(root / "run"), "--base", "mobilenet", "--alpha", "0.25",
                     "--weights", "none", "--img-size", "32", "--batch-size", "4", "--epochs", "1",
                     "--no-augment"]) == 0
    return root / "run"


@pytest.fixture
def run(good_run, tmp_path) -> Path:
    copy = tmp_path / "run"
    shutil.copytree(good_run, copy)
    return copy


def one_sentence(capsys, code: int) -> str:
    err = capsys.readouterr().err.strip()
    assert code != 0, err
    assert "Traceback" not in err, err
    last = err.splitlines()[-1]
    assert last.startswith("Error: ") and len(last) < 600, err
    return last


RUN_FILES = [RunFolder.CONFIG, RunFolder.SPLIT, "labels.txt", "model.keras", "checkpoints/last.keras"]
RUN_COMMANDS = {
    "evaluate": lambda run, out: ["evaluate", str(run)],
    "predict": lambda run, out: ["predict", str(run), str(run)],
    "export": lambda run, out: ["export", str(run), "--out", str(out), "--format", "keras"],
    "report": lambda run, out: ["report", str(run), "--out", str(out / "r.html")],
    "resume": lambda run, out: ["train", "--resume", str(run), "--epochs", "2"],
}


@pytest.mark.parametrize("damage", list(DAMAGES))
@pytest.mark.parametrize("name", RUN_FILES)
@pytest.mark.parametrize("command", list(RUN_COMMANDS))
def test_run_commands_on_a_damaged_run(run, tmp_path, capsys, command, name, damage):
    target = run / name
    DAMAGES[damage](target)
    capsys.readouterr()
    code = cli_main(RUN_COMMANDS[command](run, tmp_path / "out"))
    if code == 0:
        # Some damage does not concern the command (predict does not read split.json; resume
        # goes on from the best checkpoint when last is damaged, and says so): fine, if it says so.
        out = capsys.readouterr()
        assert "Traceback" not in out.err
        assert (command, name) in {("predict", RunFolder.SPLIT), ("predict", RunFolder.CONFIG),
                                   ("predict", "checkpoints/last.keras"), ("evaluate", "checkpoints/last.keras"),
                                   ("export", "checkpoints/last.keras"), ("report", "checkpoints/last.keras"),
                                   ("export", RunFolder.SPLIT), ("resume", "checkpoints/last.keras"),
                                   ("resume", "model.keras"), ("export", RunFolder.CONFIG),
                                   ("resume", "labels.txt")}, (command, name, out.out)
        if (command, name) == ("resume", "labels.txt"):  # written again from split.json, and said
            assert "written again" in out.out + out.err
            assert RunFolder(run).read_labels() == ["blue", "green", "red"]
        return
    one_sentence(capsys, code)


@pytest.mark.parametrize("damage", ["empty", "truncated", "wrong type", "missing"])
def test_image_and_weights_commands_on_damaged_files(tmp_path, capsys, damage, good_run):
    photo = next((RunFolder(good_run).read_config().data / "red").glob("*.png"))
    image = tmp_path / "photo.png"
    shutil.copy(photo, image)
    weights = tmp_path / "mobilenet_2_5_224_tf_no_top.h5"
    weights.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    DAMAGES[damage](image)
    if damage != "missing":
        DAMAGES[damage](weights)
    else:
        weights.unlink()
    for args in (["augment-preview", str(image), "--out", str(tmp_path / "grid.png")],
                 ["weights", "import", str(weights), "--base", "mobilenet", "--alpha", "0.25"],
                 ["scan", str(tmp_path / "no-such-folder")],
                 ["train", str(tmp_path / "no-such-folder"), "--out", str(tmp_path / "new-run")]):
        capsys.readouterr()
        one_sentence(capsys, cli_main(args))
