"""Scanning layouts, subsets and splits: stratified, deterministic, fast."""

from __future__ import annotations

import os
import time

import pytest

from conftest import make_image_folder, write_image
from desktop_app.core.data.scan import scan_folder
from desktop_app.core.data.split import make_split
from desktop_app.core.errors import UserError


def test_class_folders_sorted_with_case_insensitive_extensions(tmp_path):
    root = make_image_folder(tmp_path / "d", per_class=3)
    write_image(root / "red" / "SHOUT.PNG", (200, 0, 0))
    write_image(root / "red" / "photo.JpEg", (200, 0, 0))
    (root / "red" / ".DS_Store").write_bytes(b"x")
    (root / "red" / "Thumbs.db").write_bytes(b"x")
    write_image(root / "red" / "._mac_fork.jpg", (0, 0, 0))
    index = scan_folder(root)
    assert index.classes == ["blue", "green", "red"]
    assert index.counts() == {"pool": {"blue": 3, "green": 3, "red": 5}}
    from desktop_app.core.runs import RunFolder

    run = RunFolder(tmp_path / "run")
    run.create()
    run.write_labels(index.classes)
    assert run.read_labels() == ["blue", "green", "red"]


def test_train_test_layout_gives_the_split_from_folders(tmp_path):
    make_image_folder(tmp_path / "d" / "train", per_class=6)
    make_image_folder(tmp_path / "d" / "test", per_class=2)
    index = scan_folder(tmp_path / "d")
    assert index.has_split_folders and index.layout == "split folders"
    assert index.counts()["test"] == {"blue": 2, "green": 2, "red": 2}
    split = make_split(index, subset_percent=50, seed=1)
    assert split.counts() == {"train": {"blue": 3, "green": 3, "red": 3}, "val": {"blue": 2, "green": 2, "red": 2}}
    assert all(f.split == "test" for f in split.val)


def test_val_folder_is_preferred_over_test(tmp_path):
    make_image_folder(tmp_path / "d" / "train", per_class=4)
    make_image_folder(tmp_path / "d" / "validation", per_class=1)
    make_image_folder(tmp_path / "d" / "test", per_class=2)
    split = make_split(scan_folder(tmp_path / "d"))
    assert {f.split for f in split.val} == {"val"} and len(split.val) == 3


@pytest.mark.parametrize("percent, per_class_train", [(100, 160), (10, 16), (1, 2)])
def test_subsets_are_stratified(tmp_path, percent, per_class_train):
    root = make_image_folder(tmp_path / "d", per_class=200, size=8)
    split = make_split(scan_folder(root), subset_percent=percent, val_fraction=0.2, seed=3)
    train = split.counts()["train"]
    assert set(train.values()) == {per_class_train}
    assert set(split.counts()["val"].values()) == {40}  # a fifth of all the photos, at every share
    assert not set(split.train) & set(split.val)


def test_runs_on_any_share_of_a_folder_are_checked_on_the_same_photos(tmp_path):
    """Validation is chosen first from all the photos; the share applies to training only."""
    index = scan_folder(make_image_folder(tmp_path / "d", per_class=50, size=8))
    splits = {percent: make_split(index, percent, 0.2, seed=5) for percent in (1, 10, 100)}
    assert splits[1].val == splits[10].val == splits[100].val and len(splits[100].val) == 30
    assert set(splits[1].train) < set(splits[10].train) < set(splits[100].train)
    assert "chosen first from all of them" in splits[10].rule and "training photos only" in splits[10].rule
    # Runs made before version 3 took the share first: their validation photos are found again.
    legacy = make_split(index, 10, 0.2, seed=5, legacy=True)
    assert len(legacy.val) == 3 and set(legacy.val) != set(splits[10].val)


def test_same_seed_same_files_other_seed_other_files(tmp_path):
    index = scan_folder(make_image_folder(tmp_path / "d", per_class=30, size=8))
    a, b = make_split(index, 10, 0.2, seed=7), make_split(index, 10, 0.2, seed=7)
    c = make_split(index, 10, 0.2, seed=8)
    assert a == b
    assert [f.path for f in a.train] != [f.path for f in c.train]


def test_single_class_and_empty_folder_give_clear_messages(tmp_path):
    make_image_folder(tmp_path / "one", classes={"only": (1, 2, 3)}, per_class=2)
    with pytest.raises(UserError, match="only one class"):
        scan_folder(tmp_path / "one")
    (tmp_path / "none" / "a").mkdir(parents=True)
    with pytest.raises(UserError, match="No images"):
        scan_folder(tmp_path / "none")


def test_choosing_the_folder_above_the_dataset_suggests_the_right_one(tmp_path):
    make_image_folder(tmp_path / "downloads" / "food" / "train", per_class=1)
    with pytest.raises(UserError, match="Did you mean"):
        scan_folder(tmp_path / "downloads")


def test_symlink_loops_and_nesting_never_hang(tmp_path):
    root = make_image_folder(tmp_path / "d", per_class=2)
    os.symlink(root, root / "loop_class")
    os.symlink("..", root / "red" / "up")
    os.symlink("b", root / "red" / "a.jpg")
    os.symlink("a.jpg", root / "red" / "b")
    write_image(root / "red" / "more" / "x.png", (1, 1, 1))
    index = scan_folder(root)
    assert index.classes == ["blue", "green", "red"]
    assert {b.problem for b in index.bad_files} == {"link_loop"}
    assert "loops back" in " ".join(index.warnings) and "sub-folders" in " ".join(index.warnings)


def test_loose_images_at_the_top_are_mentioned(tmp_path):
    root = make_image_folder(tmp_path / "d", per_class=2)
    write_image(root / "stray.jpg", (1, 1, 1))
    assert "no class folder" in " ".join(scan_folder(root).warnings)


def test_indexing_does_not_decode(tmp_path):
    """5,000 files (empty ones: listing never opens them) index in well under two seconds."""
    root = tmp_path / "big"
    for c in range(5):
        folder = root / f"class_{c}"
        folder.mkdir(parents=True)
        for i in range(1000):
            (folder / f"{i}.jpg").touch()
    start = time.perf_counter()
    index = scan_folder(root)
    assert len(index.files) == 5000
    assert time.perf_counter() - start < 2.0
