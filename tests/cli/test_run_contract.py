"""Runs you can trust (issue 12): each everyday action that once corrupted a run folder or
made its numbers lie, as it was seen, and what it does now."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import keras
import numpy as np
import pytest

from conftest import make_image_folder, write_image
from desktop_app.cli import main as cli_main
from desktop_app.core.runs import BEST, LAST, RunFolder

TINY = ["--base", "mobilenet", "--alpha", "0.25", "--weights", "none", "--img-size", "32", "--batch-size", "4",
        "--no-augment"]


def train(data: Path, out: Path, *extra: str) -> int:
    return cli_main(["train", str(data), "--out", str(out), *TINY, *extra])


def resume(run: Path, *extra: str) -> int:
    return cli_main(["train", "--resume", str(run), *extra])


def snapshot(run: Path) -> dict[str, bytes]:
    """Every file of a run folder and its bytes."""
    return {str(p.relative_to(run)): p.read_bytes() for p in sorted(run.rglob("*")) if p.is_file()}


@pytest.fixture
def data(tmp_path) -> Path:
    return make_image_folder(tmp_path / "data", per_class=6)


@pytest.fixture
def run(tmp_path, data) -> Path:
    out = tmp_path / "run"
    assert train(data, out, "--epochs", "2") == 0
    return out


# 1. A class folder renamed or added under a run -------------------------------------------


def test_a_renamed_class_is_refused_by_name_and_nothing_changes(run, data, capsys):
    before = snapshot(run)
    (data / "red").rename(data / "ant")
    capsys.readouterr()
    assert resume(run, "--epochs", "3") != 0
    err = capsys.readouterr().err
    assert "red" in err and "ant" in err and "--class-map" in err and "Traceback" not in err
    assert snapshot(run) == before
    assert RunFolder(run).read_labels() == ["blue", "green", "red"]


def test_a_renamed_class_can_be_mapped_and_keeps_its_place(run, data, capsys):
    (data / "red").rename(data / "ant")
    assert resume(run, "--epochs", "3", "--class-map", "red=ant") == 0
    assert RunFolder(run).read_labels() == ["blue", "green", "red"]  # the model's own order and names
    assert [row["epoch"] for row in RunFolder(run).read_history()] == [1, 2, 3]
    capsys.readouterr()
    evaluated = cli_main(["evaluate", str(run), "--class-map", "red=ant", "--json"])
    assert evaluated == 0 and json.loads(capsys.readouterr().out)["images"] == len(RunFolder(run).read_split().val)


def test_an_added_class_is_refused_by_name(run, data, capsys):
    before = snapshot(run)
    make_image_folder(data, per_class=6, classes={"yellow": (230, 230, 20)})
    capsys.readouterr()
    assert resume(run, "--epochs", "3") != 0
    err = capsys.readouterr().err
    assert "yellow" in err and "Traceback" not in err
    assert snapshot(run) == before


# 2. --out into another run --------------------------------------------------------------------


def test_training_into_a_folder_that_holds_a_run_is_refused(run, tmp_path, capsys):
    other = make_image_folder(tmp_path / "other", per_class=4, classes={"x": (1, 1, 1), "y": (250, 250, 250)})
    before = snapshot(run)
    capsys.readouterr()
    assert train(other, run, "--epochs", "1") == 2
    err = capsys.readouterr().err
    assert "--resume" in err and "another folder" in err
    assert snapshot(run) == before


# 4. Stop during validation ----------------------------------------------------------------


def test_an_epoch_cut_short_by_stop_never_counts(data, tmp_path):
    from desktop_app.core.events import BatchEnd, EpochEnd, Finished
    from desktop_app.core.session import TrainingConfig
    from desktop_app.core.train.job import TrainingJob

    events = []
    # Epoch 2 is the first of fine-tuning: the base is not frozen any more, so each epoch ends
    # with a validation pass of the whole model (while it is frozen, validation takes milliseconds
    # on stored embeddings, and nothing can cut it short).
    config = TrainingConfig.of(data, tmp_path / "run", backbone="mobilenet", alpha=0.25, weights=None,
                               img_size=32, batch_size=4, epochs=1, fine_tune_epochs=3, unfreeze_layers=5,
                               fast=False, augmentation=__import__("desktop_app.core.augment.spec",
                                                                   fromlist=["AugmentationSpec"]).AugmentationSpec())
    job = TrainingJob(config)

    def on_event(event):
        events.append(event)
        # Stop on epoch 2's last training batch: Keras then starts the validation pass, which Stop cuts short.
        if isinstance(event, BatchEnd) and event.epoch == 2 and event.batch == event.batches:
            job.request_stop()

    job.on_event = on_event
    result = job.run()
    run = RunFolder(tmp_path / "run")
    assert [row["epoch"] for row in result.history] == [1] == [row["epoch"] for row in run.read_history()]
    assert [e.epoch for e in events if isinstance(e, EpochEnd)] == [1]
    assert {c.kind: c.epoch for c in run.checkpoints()} == {BEST: 1, LAST: 1}
    finished = next(e for e in events if isinstance(e, Finished))
    assert finished.stopped and finished.metrics["best_epoch"] == 1 == run.read_metrics()["best_epoch"]
    assert finished.metrics["best_val_accuracy"] == result.history[0]["val_accuracy"]
    resumed = TrainingJob.resume(run.path).run()  # epoch 2 runs again, in full
    assert [row["epoch"] for row in resumed.history] == [1, 2, 3, 4]


# 5. Cached features after the weights file changed; a swapped image ---------------------------


def _weights_file(path: Path, seed: int) -> Path:
    from desktop_app.core.model.backbones import create_base

    keras.utils.set_random_seed(seed)
    create_base("mobilenet", 32, None, 0.25).save_weights(path)
    return path


def test_fast_mode_notices_a_changed_weights_file_and_a_swapped_photo(data, tmp_path):
    from desktop_app.core.session import TrainingConfig
    from desktop_app.core.train.embeddings import EmbeddingStore
    from desktop_app.core.train.job import TrainingJob

    weights = _weights_file(tmp_path / "mobilenet.weights.h5", seed=1)
    from desktop_app.core.augment.spec import AugmentationSpec

    def fast_run(name: str):
        config = TrainingConfig.of(data, tmp_path / name, backbone="mobilenet", alpha=0.25, weights=str(weights),
                                   img_size=32, batch_size=4, epochs=1, augmentation=AugmentationSpec())
        TrainingJob(config).run()
        return EmbeddingStore.default().entries()

    first = fast_run("a")
    assert first and fast_run("b") == first  # the same photos, base and weights: all reused
    stat = weights.stat()
    _weights_file(weights, seed=2)  # another file under the same name ...
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # ... even with the old time
    after_weights = fast_run("c")
    assert len(after_weights) == 2 * len(first)  # every photo looked at again
    photo = data / "red" / "red_0.png"
    stat = photo.stat()
    write_image(photo, (10, 10, 10), seed=99)  # a swapped photo that keeps its time
    os.utime(photo, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert len(fast_run("d")) == len(after_weights) + 1


# 6. The data path as typed ---------------------------------------------------------------------


def test_the_data_folder_is_stored_whole(data, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(data.parent)
    assert train(Path(data.name), tmp_path / "run", "--epochs", "1") == 0
    config = json.loads((tmp_path / "run" / RunFolder.CONFIG).read_text())
    assert config["data"] == str(data.resolve())
    monkeypatch.chdir(tmp_path.parent)
    capsys.readouterr()
    assert cli_main(["evaluate", str(tmp_path / "run"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["images"] == len(RunFolder(tmp_path / "run").read_split().val) > 0


# 7. Evaluation and resume use the recorded split -----------------------------------------------


def test_evaluation_uses_the_recorded_validation_photos_after_photos_were_added(run, data, capsys):
    recorded = RunFolder(run).read_split()
    val = {str(data / f.path) for f in recorded.val}
    for name in ("blue", "green", "red"):
        for i in range(10):
            write_image(data / name / f"new_{i}.png", (120, 120, 120), seed=500 + i)
    capsys.readouterr()
    assert cli_main(["evaluate", str(run), "--json"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert "predictions" not in result  # the summary: ask the saved file for every photo
    result = json.loads(RunFolder(run).evaluation_path.read_text())
    assert result["images"] == len(val) > 0
    assert {p["path"] for p in result["predictions"]} == val
    assert "30 photos added since" in captured.err


# 8. A read-only user-data folder ------------------------------------------------------------------


def test_fast_mode_without_a_writable_cache_trains_and_says_so(data, tmp_path, private_data_dir, capsys):
    private_data_dir.parent.mkdir(parents=True, exist_ok=True)
    private_data_dir.write_text("a file where the user-data folder should be")  # nothing can be written there
    assert train(data, tmp_path / "run", "--epochs", "1") == 0
    out = capsys.readouterr().out
    assert "without the embedding cache" in out
    assert RunFolder(tmp_path / "run").has_model()


# 9. A photo that went away during a run ------------------------------------------------------------


def test_a_photo_deleted_during_the_run_is_dropped_with_a_note(data, tmp_path):
    from desktop_app.core.augment.spec import AugmentationSpec
    from desktop_app.core.events import Message
    from desktop_app.core.session import TrainingConfig
    from desktop_app.core.train.job import TrainingJob

    events = []
    config = TrainingConfig.of(data, tmp_path / "run", backbone="mobilenet", alpha=0.25, weights=None,
                               img_size=32, batch_size=4, epochs=1, augmentation=AugmentationSpec())

    def on_event(event):
        events.append(event)
        if isinstance(event, Message) and event.text.startswith("Building"):  # after the photos were checked
            (data / "red" / "red_1.png").unlink()

    result = TrainingJob(config, on_event).run()
    assert result.history and not result.stopped_early
    notes = " ".join(e.text for e in events if isinstance(e, Message))
    assert "red_1.png" in notes and "could not be read" in notes
    assert "Free some disk space" not in notes


# 10. --resume and its options; damaged files -------------------------------------------------------


def test_resume_applies_the_training_options_it_can(run):
    assert resume(run, "--epochs", "4", "--lr", "0.0005") == 0
    history = RunFolder(run).read_history()
    assert [row["epoch"] for row in history] == [1, 2, 3, 4]
    assert [row["learning_rate"] for row in history[2:]] == [0.0005, 0.0005]
    assert RunFolder(run).read_config().training.learning_rate == 0.0005


def test_resume_refuses_what_it_cannot_change(run, tmp_path, capsys):
    before = snapshot(run)
    capsys.readouterr()
    assert resume(run, "--base", "mobilenet_v2") == 2
    assert "--base" in capsys.readouterr().err
    other = make_image_folder(tmp_path / "other", per_class=4, classes={"x": (1, 1, 1), "y": (250, 250, 250)})
    assert cli_main(["train", str(other), "--resume", str(run)]) == 2
    assert "another dataset" in capsys.readouterr().err
    assert snapshot(run) == before


def test_resume_follows_a_moved_dataset(run, data, tmp_path):
    moved = tmp_path / "moved"
    shutil.move(str(data), moved)
    assert resume(run, "--epochs", "3", "--data", str(moved)) == 0
    assert RunFolder(run).read_config().data == moved.resolve()


def test_an_empty_last_checkpoint_falls_back_to_best(run, capsys):
    RunFolder(run).checkpoint_path(LAST).write_bytes(b"")
    capsys.readouterr()
    assert resume(run, "--epochs", "3") == 0
    out = capsys.readouterr().out
    assert "damaged" in out and "best" in out
    keras.saving.load_model(RunFolder(run).checkpoint_path(LAST))


@pytest.mark.parametrize("command", ["evaluate", "predict", "export", "report"])
def test_an_empty_model_is_one_sentence(run, data, tmp_path, command, capsys):
    RunFolder(run).model_path.write_bytes(b"")
    args = {"evaluate": ["evaluate", str(run)], "predict": ["predict", str(run), str(data / "red")],
            "export": ["export", str(run), "--out", str(tmp_path / "x"), "--format", "keras"],
            "report": ["report", str(run)]}[command]
    capsys.readouterr()
    assert cli_main(args) == 1
    err = capsys.readouterr().err.strip()
    last = err.splitlines()[-1]  # progress lines may come first; the error is one sentence
    assert last.startswith("Error: ") and "damaged" in last and "Traceback" not in err and "File not found" not in err


# 11. Temporary files and bounded caches ---------------------------------------------------------------


def test_a_failed_copy_leaves_no_temporary_file(tmp_path, monkeypatch):
    from desktop_app.core import fileio

    source = tmp_path / "a.bin"
    source.write_bytes(b"x" * 1000)

    def broken(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fileio.shutil, "copyfileobj", broken)
    with pytest.raises(OSError):
        fileio.copy_atomic(source, tmp_path / "out" / "b.bin")
    assert list((tmp_path / "out").iterdir()) == []


def test_the_embedding_store_stays_under_its_size(tmp_path):
    from desktop_app.core.train.embeddings import EmbeddingStore

    store = EmbeddingStore(tmp_path / "store", limit_bytes=40_000)
    for i in range(100):
        store.put(f"key-{i}", np.full(1000, i, np.float32))  # 4 kB each
        store.get("key-0")  # used again and again: kept
    assert store.size_bytes() <= 40_000
    assert store.get("key-0") is not None and store.get("key-1") is None and store.get("key-99") is not None


# 12. Runs outside the project ---------------------------------------------------------------------------


def test_a_project_naming_runs_outside_it_is_read_only(run, tmp_path):
    from desktop_app.core.project import PROJECT_FILE, create_project, open_project

    project = create_project(tmp_path / "project")
    data = json.loads(project.file.read_text())
    data["runs"] = [str(run)]
    (project.folder / PROJECT_FILE).write_text(json.dumps(data))
    opened = open_project(project.folder)
    assert opened.read_only and str(run) in opened.warning
    assert opened.writable_run(run) is False
    assert opened.writable_run(project.runs_dir / "x") is True


# An old run folder made by the previous version -----------------------------------------------------


def make_previous_version_run(run: Path, data: Path) -> None:
    """Turn a run folder into what the previous version (config schema 2) wrote: no split.json,
    the data folder as typed, each checkpoint's metadata in a .json file beside it instead of
    inside it, history rows without optimizer steps."""
    import zipfile

    from desktop_app.core.runs import CHECKPOINT_META

    folder = RunFolder(run)
    config = json.loads(folder.config_path.read_text())
    config.update(schema_version=2, data=os.path.relpath(data, run.parent))  # typed from the folder above
    config.pop("data_relative", None)
    folder.config_path.write_text(json.dumps(config))
    folder.split_path.unlink()
    history = [{k: v for k, v in row.items() if k != "optimizer_steps"} for row in folder.read_history()]
    folder.history_path.write_text(json.dumps(history))
    for kind in (BEST, LAST):
        path = folder.checkpoint_path(kind)
        with zipfile.ZipFile(path) as archive:
            meta = json.loads(archive.read(CHECKPOINT_META))
            members = {name: archive.read(name) for name in archive.namelist() if name != CHECKPOINT_META}
        with zipfile.ZipFile(path, "w") as archive:
            for name, content in members.items():
                archive.writestr(name, content)
        meta.pop("history"), meta.pop("optimizer_steps")
        folder.legacy_checkpoint_meta_path(kind).write_text(json.dumps(meta))


def test_a_run_made_by_the_previous_version_opens_evaluates_exports_and_resumes(run, data, tmp_path, capsys,
                                                                               monkeypatch):
    make_previous_version_run(run, data)
    monkeypatch.chdir(tmp_path.parent)  # another working folder than the one it was trained from
    folder = RunFolder(run)
    info = folder.info()
    assert info is not None and info.config.data == data.resolve()
    assert [c.epoch for c in folder.checkpoints()] and folder.read_split() is None
    capsys.readouterr()
    assert cli_main(["evaluate", str(run), "--json"]) == 0
    evaluated = json.loads(folder.evaluation_path.read_text())
    # Its validation photos are chosen again as its training chose them.
    from desktop_app.core.data.scan import scan_folder
    from desktop_app.core.data.split import make_split
    from desktop_app.core.data.validate import validate_index

    split = info.config.split
    val = make_split(validate_index(scan_folder(data)), split.subset_percent, split.val_fraction, split.seed,
                     legacy=True).val
    assert {p["path"] for p in evaluated["predictions"]} == {str(f.path) for f in val}
    assert cli_main(["export", str(run), "--out", str(tmp_path / "exported"), "--format", "keras"]) == 0
    assert (tmp_path / "exported" / "model.keras").is_file()
    assert cli_main(["report", str(run), "--out", str(tmp_path / "report.html")]) == 0
    # Resumed, it is brought up to today's run folder: its photos recorded, its data folder absolute.
    assert resume(run, "--epochs", "3") == 0
    assert [row["epoch"] for row in folder.read_history()] == [1, 2, 3]
    assert folder.read_split() is not None and json.loads(folder.config_path.read_text())["schema_version"] == 3
    assert {c.kind: c.epoch for c in folder.checkpoints()}[LAST] == 3
