"""Classes made in the app (issue 15): the dataset-folder edits behind the Data page's buttons and
``transfer-studio classes``, deletion through an Undo shelf into the (private) system trash."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import make_image_folder, write_image
from desktop_app.cli import main as cli_main
from desktop_app.core.data import edits
from desktop_app.core.data.frames import save_frame
from desktop_app.core.data.scan import scan_folder
from desktop_app.core.data.validate import validate_index
from desktop_app.core.errors import UserError


def tree(root: Path) -> dict[str, list[str]]:
    """{class folder: its file names}, as on disk (hidden files left out)."""
    return {d.name: sorted(f.name for f in d.iterdir()) for d in sorted(root.iterdir())
            if d.is_dir() and not d.name.startswith(".")}


def trashed(trash: Path) -> list[str]:
    return sorted(p.name for p in trash.iterdir()) if trash.is_dir() else []


def test_a_class_is_made_renamed_filled_deleted_and_restored(tmp_path, trash):
    root = edits.new_dataset("My photos", tmp_path)
    assert root == tmp_path / "My photos" and root.is_dir() and not any(root.iterdir())
    assert edits.new_dataset("My photos", tmp_path) == tmp_path / "My photos (2)"  # never an existing folder

    assert edits.create_class(root, "  Class 1 ") == root / "Class 1"  # spaces around are trimmed
    index = scan_folder(root, strict=False)
    assert index.classes == [] and index.empty_classes == ["Class 1"] and index.listed_classes == ["Class 1"]
    assert "No images were found" in index.listing_problem()

    assert edits.rename_class(root, "Class 1", "cup") == "cup"
    assert tree(root) == {"cup": []}
    photos = [write_image(tmp_path / "in" / f"p{i}.png", (200, 10, 10), seed=i) for i in range(3)]
    notes = tmp_path / "in" / "notes.txt"
    notes.write_text("not a photo")
    added = edits.add_photos(root, "cup", [*photos, notes])
    assert [p.name for p in added.added] == ["p0.png", "p1.png", "p2.png"] and added.refused == [notes]
    assert added.refusal() == "Not added: notes.txt, not a photo the app can use (use JPEG, PNG, BMP, GIF or WebP)."
    assert [p.name for p in edits.add_photos(root, "cup", photos[:1]).added] == ["p0 (2).png"]  # a unique name
    assert all(p.exists() for p in photos)  # copied, not moved
    assert tree(root) == {"cup": ["p0 (2).png", "p0.png", "p1.png", "p2.png"]}

    shelf = edits.UndoShelf(tmp_path / "undo")
    edits.delete_class(root, "cup", shelf)
    assert tree(root) == {} and shelf.can_undo and trashed(trash) == []  # kept for Undo, not yet in the trash
    assert shelf.undo() == [root / "cup"]
    assert tree(root) == {"cup": ["p0 (2).png", "p0.png", "p1.png", "p2.png"]} and not shelf.can_undo

    # The next deletion sends the one before to the trash; closing the app (flush) sends the last.
    edits.delete_photos(root, [root / "cup" / "p0 (2).png"], shelf)
    edits.delete_photos(root, [root / "cup" / "p1.png"], shelf)
    assert trashed(trash) == ["p0 (2).png"]  # trashed from where it was: "Restore" puts it back there
    info = (trash.parent / "info" / "p0 (2).png.trashinfo").read_text()
    assert "cup/p0%20%282%29.png" in info
    assert shelf.flush() == []
    assert trashed(trash) == ["p0 (2).png", "p1.png"] and not shelf.can_undo
    assert tree(root) == {"cup": ["p0.png", "p2.png"]} and not any((tmp_path / "undo").iterdir())


def test_undo_puts_a_photo_back_beside_one_that_took_its_name(tmp_path, trash):
    root = make_image_folder(tmp_path / "data", per_class=2)
    shelf = edits.UndoShelf(tmp_path / "undo")
    edits.delete_photos(root, [root / "red" / "red_0.png"], shelf)
    write_image(root / "red" / "red_0.png", (1, 2, 3))
    assert shelf.undo() == [root / "red" / "red_0 (2).png"]
    with pytest.raises(UserError, match="not in the dataset folder"):
        edits.delete_photos(root, [tmp_path / "elsewhere.png"], shelf)


@pytest.mark.parametrize("name, words", [
    ("", "Type a name"), ("   ", "Type a name"), ("a/b", "cannot contain"), ("..", "cannot start with a dot"),
    (".hidden", "cannot start with a dot"), ("cats.", "cannot end with a dot"), ("red", "already a class called red"),
    ("RED", "differ only in capital letters"), ("train", "splits a dataset"), ("con", "Windows keeps"),
    ("x" * 101, "under 100 characters"), ("tab\there", "cannot contain"),
])
def test_unsafe_class_names_are_refused_with_a_sentence(tmp_path, name, words):
    root = make_image_folder(tmp_path / "data", per_class=1)
    before = tree(root)
    with pytest.raises(UserError, match=words):
        edits.create_class(root, name)
    with pytest.raises(UserError, match=words):
        edits.rename_class(root, "green", name) if name != "RED" else edits.rename_class(root, "blue", name)
    assert tree(root) == before


def test_a_rename_may_change_only_capitals_and_unknown_classes_are_named(tmp_path):
    root = make_image_folder(tmp_path / "data", per_class=1)
    assert edits.rename_class(root, "red", "Red") == "Red"
    assert sorted(tree(root)) == ["Red", "blue", "green"]
    with pytest.raises(UserError, match="no class called purple"):
        edits.rename_class(root, "purple", "violet")
    with pytest.raises(UserError, match="no class called purple"):
        edits.add_photos(root, "purple", [])


def test_a_split_dataset_gets_classes_in_every_split_folder(tmp_path, trash):
    root = tmp_path / "data"
    make_image_folder(root / "train", per_class=2)
    make_image_folder(root / "test", per_class=1)
    edits.create_class(root, "yellow")
    assert (root / "train" / "yellow").is_dir() and (root / "test" / "yellow").is_dir()
    photo = write_image(tmp_path / "y.png", (230, 230, 20))
    assert edits.add_photos(root, "yellow", [photo]).added == [root / "train" / "yellow" / "y.png"]
    edits.rename_class(root, "yellow", "lemon")
    assert sorted(tree(root / "test")) == ["blue", "green", "lemon", "red"]
    edits.delete_class(root, "lemon", None)  # the CLI: straight to the trash
    assert trashed(trash) == ["lemon", "lemon 1"]  # train/lemon and test/lemon
    assert "lemon" not in tree(root / "train") and "lemon" not in tree(root / "test")


def test_the_photos_taken_with_the_camera_are_deleted_in_one_go(tmp_path, trash):
    root = make_image_folder(tmp_path / "data", per_class=2)
    frame = np.full((48, 64, 3), 120, np.uint8)
    taken = [save_frame(root / "red", frame), save_frame(root / "blue", frame)]
    assert sorted(edits.captured_photos(root)) == sorted(taken)
    shelf = edits.UndoShelf(tmp_path / "undo")
    assert edits.delete_captured_photos(root, shelf).what == "2 camera photos"
    assert edits.captured_photos(root) == [] and tree(root)["red"] == ["red_0.png", "red_1.png"]
    assert sorted(shelf.undo()) == sorted(taken)
    assert edits.delete_captured_photos(make_image_folder(tmp_path / "other", per_class=1), shelf) is None


def test_an_empty_class_is_listed_but_never_trained_on(tmp_path):
    root = make_image_folder(tmp_path / "data", per_class=3)
    edits.create_class(root, "new")
    index = validate_index(scan_folder(root))
    assert index.classes == ["blue", "green", "red"] and index.empty_classes == ["new"]
    assert index.listed_classes == ["blue", "green", "new", "red"]
    assert any("Left out empty class folder(s): new." in w for w in index.warnings)
    assert index.usability_problem() is None
    one = make_image_folder(tmp_path / "one", per_class=2, classes={"only": (1, 2, 3)})
    edits.create_class(one, "other")
    listing = scan_folder(one, strict=False)
    assert "only one class" in listing.listing_problem() and listing.listed_classes == ["only", "other"]
    with pytest.raises(UserError, match="only one class"):
        scan_folder(one)  # training, evaluation and the CLI still refuse it


def test_the_cli_makes_renames_fills_and_deletes_classes(tmp_path, trash, capsys):
    root = tmp_path / "made on the command line"
    assert cli_main(["classes", "new", str(root), "mug"]) == 0
    photo = write_image(tmp_path / "m.jpg", (9, 9, 9))
    assert cli_main(["classes", "add", str(root), "mug", str(photo)]) == 0
    assert cli_main(["classes", "rename", str(root), "mug", "cup"]) == 0
    assert tree(root) == {"cup": ["m.jpg"]}
    capsys.readouterr()
    assert cli_main(["classes", "add", str(root), "cup", str(tmp_path)]) == 1
    assert "not a photo the app can use" in capsys.readouterr().err
    assert cli_main(["classes", "new", str(root), "../escape"]) == 1
    assert "cannot contain" in capsys.readouterr().err and not (tmp_path / "escape").exists()
    assert cli_main(["classes", "delete", str(root), "cup"]) == 0
    assert tree(root) == {} and trashed(trash) == ["cup"]


def test_a_class_renamed_in_the_app_keeps_an_earlier_run_usable(tmp_path, capsys):
    """Evaluate and Resume of a run made before the rename work without being told the rename;
    a later class that reuses the old name is not mistaken for it."""
    from desktop_app.core.results.evaluation import run_photos
    from desktop_app.core.runs import RunFolder

    data = make_image_folder(tmp_path / "data", per_class=6)
    run = tmp_path / "run"
    tiny = ["--base", "mobilenet", "--alpha", "0.25", "--weights", "none", "--img-size", "32", "--batch-size", "4",
            "--no-augment"]
    assert cli_main(["train", str(data), "--out", str(run), *tiny, "--epochs", "1"]) == 0
    val = len(RunFolder(run).read_split().val)

    edits.rename_class(data, "red", "tomato")
    edits.rename_class(data, "tomato", "cherry")  # renamed twice: followed to the name it has now
    assert json.loads((data / edits.RENAMES_FILE).read_text())["renames"] == [["red", "tomato"],
                                                                                ["tomato", "cherry"]]
    assert not any("renames" in f.path.name for f in scan_folder(data).files)
    photos = run_photos(run)
    assert len(photos.split.val) == val and not photos.gone
    assert {f.path.parent.name for f in photos.split.train} == {"blue", "cherry", "green"}
    capsys.readouterr()
    assert cli_main(["evaluate", str(run), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["images"] == val
    assert cli_main(["train", "--resume", str(run), "--epochs", "2"]) == 0
    assert RunFolder(run).read_labels() == ["blue", "green", "red"]  # the model keeps its own names

    # A new class called red is another class: the run is not fooled into taking it for its red.
    assert edits.renamed_classes(data, ["blue", "green", "red"], ["blue", "cherry", "green", "red"]) == {}
    assert edits.renamed_classes(data, ["blue", "green", "red"], ["blue", "cherry", "green"]) == {"red": "cherry"}
