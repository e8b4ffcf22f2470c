"""Projects: save / open round trip, migration from schema 0, a dataset that went missing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from desktop_app.core.augment.spec import AugmentationSpec
from desktop_app.core.data.demo import demo_dataset_dir
from desktop_app.core.errors import UserError
from desktop_app.core.project import PROJECT_FILE, SCHEMA_VERSION, create_project, migrate, open_project
from desktop_app.core.runs import RunFolder
from desktop_app.core.session import (
    DatasetChoice, ModelSettings, Settings, SplitSettings, TrainingConfig, TrainingSettings,
)

# A real project file as the first prototype wrote it (schema 0: no "schema_version",
# flat keys, augmentation as a preset name, runs as paths); ``migrate`` turns it into the
# current schema.
V0_EXAMPLE: dict = {
    "name": "Flowers, lesson 3",
    "data_folder": "/home/teacher/photos/flowers",
    "base": "mobilenet",
    "alpha": 0.5,
    "image_size": 160,
    "augmentation": "strong",
    "subset": 10,
    "validation_split": 0.25,
    "seed": 7,
    "epochs": 8,
    "batch_size": 16,
    "learning_rate": 0.0005,
    "fine_tune_epochs": 3,
    "unfreeze": 20,
    "runs": ["runs/2024-03-01_09-15-00_mobilenet"],
}


def _settings(data: Path) -> Settings:
    # Every field away from its default, so a field that is not saved shows up.
    return Settings(
        dataset=DatasetChoice(data.resolve()),
        split=SplitSettings(subset_percent=12.5, val_fraction=0.3, seed=99),
        augmentation=AugmentationSpec.preset("strong").with_changes(flip="vertical", rotation=0.33),
        model=ModelSettings("mobilenet", 0.25, 96, None, pooling="max", dropout=0.3, hidden_units=64),
        training=TrainingSettings(epochs=3, batch_size=8, learning_rate=0.002, optimizer="sgd", fast=False,
                                  fine_tune=True, fine_tune_epochs=4, unfreeze_layers=12,
                                  fine_tune_learning_rate=0.0001),
    )


def _fake_run(folder: Path, epochs: int = 2) -> Path:
    run = RunFolder(folder)
    run.create()
    run.write_config(TrainingConfig.of(data=Path("/data"), out=folder, backbone="mobilenet", subset_percent=10))
    run.write_history([{"epoch": e, "phase": "feature_extraction", "val_accuracy": 0.5 + e / 10}
                       for e in range(1, epochs + 1)])
    return folder


def test_round_trip_restores_every_setting_and_the_runs(tmp_path, image_folder):
    settings = _settings(image_folder)
    project = create_project(tmp_path / "lesson", settings)
    run = _fake_run(project.runs_dir / "2025-01-01_10-00-00_mobilenet")
    project.add_run(run)
    outside = _fake_run(tmp_path / "elsewhere" / "old-run")
    project.add_run(outside)
    project.save()

    data = json.loads((tmp_path / "lesson" / PROJECT_FILE).read_text())
    assert data["schema_version"] == SCHEMA_VERSION
    assert data["runs"] == ["runs/2025-01-01_10-00-00_mobilenet", str(outside.resolve())]

    reopened = open_project(tmp_path / "lesson")
    assert reopened.settings == settings
    assert reopened.runs == project.runs
    assert [r.name for r in reopened.run_infos()] == ["2025-01-01_10-00-00_mobilenet", "old-run"]
    assert reopened.missing_dataset() is None
    assert reopened.dataset_path() == image_folder.resolve()
    # Opening through the file works as well as through the folder.
    assert open_project(tmp_path / "lesson" / PROJECT_FILE).settings == settings


def test_project_json_layout_is_stable(tmp_path, image_folder):
    """The file has one object per step; every setting is in it once."""
    project = create_project(tmp_path / "p", _settings(image_folder))
    data = json.loads(project.file.read_text())
    assert [k for k in data if k not in ("schema_version", "created", "saved", "runs")] == [
        "dataset", "split", "augmentation", "model", "training"]
    assert data["dataset"] == {"folder": str(image_folder.resolve()), "relative": "../data"}
    assert data["split"] == {"subset_percent": 12.5, "val_fraction": 0.3, "seed": 99}
    assert data["augmentation"] == project.settings.augmentation.to_dict()
    assert data["model"] == {"backbone": "mobilenet", "alpha": 0.25, "img_size": 96, "weights": None,
                             "pooling": "max", "dropout": 0.3, "hidden_units": 64}
    assert data["training"]["unfreeze_layers"] == 12 and data["training"]["fine_tune_learning_rate"] == 0.0001
    assert "unfreeze_layers" not in data["model"]  # one setting, saved once
    assert Settings.from_dict(data) == project.settings
    assert Settings().to_dict()["dataset"] == {"folder": None}


def test_runs_found_in_the_runs_folder_count_even_if_unrecorded(tmp_path):
    project = create_project(tmp_path / "p")
    _fake_run(project.runs_dir / "a")
    (project.runs_dir / "not-a-run").mkdir()
    assert [p.name for p in open_project(project.folder).run_paths()] == ["a"]


def test_demo_dataset_is_stored_as_demo_not_as_a_machine_path(tmp_path):
    project = create_project(tmp_path / "p")
    project.set_dataset(None)
    project.save()
    text = (project.file).read_text()
    assert str(demo_dataset_dir()) not in text
    reopened = open_project(project.folder)
    assert reopened.settings.dataset.is_demo
    assert reopened.dataset_path() == demo_dataset_dir()
    assert reopened.missing_dataset() is None


def test_v0_project_file_migrates(tmp_path):
    folder = tmp_path / "old"
    folder.mkdir()
    (folder / PROJECT_FILE).write_text(json.dumps(V0_EXAMPLE))
    project = open_project(folder)
    s = project.settings
    assert s.dataset == DatasetChoice(Path("/home/teacher/photos/flowers"))
    assert s.split == SplitSettings(10.0, 0.25, 7)
    assert s.augmentation == AugmentationSpec.preset("strong", first_meaning=True)  # what it trained with
    assert (s.model.backbone, s.model.alpha, s.model.img_size, s.model.weights) == ("mobilenet", 0.5, 160, "imagenet")
    assert s.training == TrainingSettings(epochs=8, batch_size=16, learning_rate=0.0005, fine_tune=True,
                                          fine_tune_epochs=3, unfreeze_layers=20)
    assert project.runs == ["runs/2024-03-01_09-15-00_mobilenet"]
    # The teacher's photo folder is not on this machine: reported, not raised.
    assert project.missing_dataset() == "/home/teacher/photos/flowers"
    project.save()  # saving writes the current schema
    assert json.loads((folder / PROJECT_FILE).read_text())["schema_version"] == SCHEMA_VERSION
    assert open_project(folder).settings == s


def test_missing_dataset_is_reported_and_can_be_located(tmp_path, image_folder):
    project = create_project(tmp_path / "p", Settings(dataset=DatasetChoice(image_folder)))
    moved = tmp_path / "moved-photos"
    shutil.move(str(image_folder), moved)
    reopened = open_project(project.folder)  # no exception
    assert reopened.missing_dataset() == str(image_folder.resolve())
    assert reopened.dataset_path() is None
    reopened.set_dataset(moved)
    reopened.save()
    assert open_project(project.folder).dataset_path() == moved.resolve()


def test_project_moved_with_its_photos_finds_them_by_relative_path(tmp_path):
    stick = tmp_path / "stick"
    data = stick / "photos"
    data.mkdir(parents=True)
    create_project(stick / "project", Settings(dataset=DatasetChoice(data)))
    shutil.move(str(stick), tmp_path / "home-stick")
    project = open_project(tmp_path / "home-stick" / "project")
    assert project.missing_dataset() is None
    assert project.dataset_path() == (tmp_path / "home-stick" / "photos").resolve()


def test_save_as_copies_settings_and_runs(tmp_path, image_folder):
    project = create_project(tmp_path / "a", _settings(image_folder))
    project.add_run(_fake_run(project.runs_dir / "r1"))
    project.save()
    copy = project.save_as(tmp_path / "b")
    assert copy.folder == tmp_path / "b"
    reopened = open_project(tmp_path / "b")
    assert reopened.settings == project.settings
    assert reopened.runs == ["runs/r1"]
    assert (tmp_path / "b" / "runs" / "r1" / "history.json").is_file()


@pytest.mark.parametrize("content, words", [
    ("{not json", "cannot be read"),
    ("[1, 2]", "damaged"),
    (json.dumps({"schema_version": SCHEMA_VERSION + 1}), "newer"),
    (json.dumps({"schema_version": 1, "model": {"img_size": "big", "head": {"dropout": 0.1}}, "split": 3}), "damaged"),
    (json.dumps({"schema_version": 2, "model": {"img_size": "big"}}), "damaged"),
    (json.dumps({"schema_version": 2, "training": {"fast": 1}}), "damaged"),
])
def test_bad_project_files_are_user_errors(tmp_path, content, words):
    (tmp_path / PROJECT_FILE).write_text(content)
    with pytest.raises(UserError, match=words):
        open_project(tmp_path)


def test_not_a_project_and_existing_project_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="not a Transfer Studio project"):
        open_project(tmp_path)
    create_project(tmp_path / "p")
    with pytest.raises(UserError, match="already holds a project"):
        create_project(tmp_path / "p")


def test_migrate_leaves_current_schema_alone():
    data = {"schema_version": SCHEMA_VERSION, "split": {"seed": 3}}
    assert migrate(data) == data


V1_EXAMPLE: dict = {
    "schema_version": 1,
    "dataset": {"kind": "folder", "path": "/home/teacher/photos/flowers", "relative": "../flowers"},
    "split": {"subset_percent": 10.0, "val_fraction": 0.2, "seed": 3},
    "augmentation": AugmentationSpec.preset("light").to_dict(),
    "model": {"backbone": "mobilenet", "alpha": 0.25, "img_size": 128, "weights": "imagenet",
              "head": {"pooling": "max", "dropout": 0.2, "hidden_units": 0}, "unfreeze_layers": 4},
    "training": {"epochs": 7, "batch_size": 16, "learning_rate": 0.0005, "optimizer": "adam", "fast": True,
                 "fine_tune": True, "fine_tune_epochs": 2, "unfreeze_layers": 12, "fine_tune_learning_rate": None},
    "runs": ["runs/r1"],
}


def test_v1_project_file_migrates_with_the_unfreeze_count_saved_once(tmp_path):
    folder = tmp_path / "lesson"
    folder.mkdir()
    (folder / PROJECT_FILE).write_text(json.dumps(V1_EXAMPLE))
    project = open_project(folder)
    s = project.settings
    assert s.dataset == DatasetChoice(Path("/home/teacher/photos/flowers"))
    assert project.dataset_relative == "../flowers"
    assert s.model == ModelSettings("mobilenet", 0.25, 128, "imagenet", pooling="max", dropout=0.2)
    assert s.training.unfreeze_layers == 12  # the Train page's setting wins over the Model page's preview
    assert s.training.epochs == 7 and s.training.fine_tune_epochs == 2
    assert project.runs == ["runs/r1"]


def test_demo_project_v1_migrates_to_the_demo(tmp_path):
    (tmp_path / PROJECT_FILE).write_text(json.dumps({**V1_EXAMPLE, "dataset": {"kind": "demo"}}))
    assert open_project(tmp_path).settings.dataset.is_demo
