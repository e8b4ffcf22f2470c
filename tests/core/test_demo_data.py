import hashlib

from desktop_app.core.data.scan import scan_folder
from desktop_app.core.data.demo import DEMO_CLASSES, IMAGES_PER_CLASS, demo_dataset_dir, ensure_demo_dataset


def _digest(folder):
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*.jpg")):
        h.update(path.relative_to(folder).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def test_demo_dataset_is_written_to_the_user_data_folder(private_data_dir):
    folder = ensure_demo_dataset()
    assert folder == demo_dataset_dir()
    assert private_data_dir in folder.parents
    index = scan_folder(folder)
    assert index.classes == sorted(DEMO_CLASSES)
    assert len(DEMO_CLASSES) >= 3
    assert all(n == IMAGES_PER_CLASS for n in index.counts()["pool"].values())


def test_demo_dataset_is_deterministic_and_not_regenerated(tmp_path):
    first = ensure_demo_dataset(tmp_path / "a")
    second = ensure_demo_dataset(tmp_path / "b")
    assert _digest(first) == _digest(second)
    marker = first / "circles" / "circles_000.jpg"
    before = marker.stat().st_mtime_ns
    ensure_demo_dataset(first)
    assert marker.stat().st_mtime_ns == before


def test_incomplete_demo_dataset_is_repaired(tmp_path):
    folder = ensure_demo_dataset(tmp_path / "demo")
    (folder / "stars" / "stars_007.jpg").unlink()
    ensure_demo_dataset(folder)
    assert len(list((folder / "stars").glob("*.jpg"))) == IMAGES_PER_CLASS


def test_demo_classes_look_different():
    """Mean images per class differ: the shapes are not all the same picture."""
    import numpy as np
    from PIL import Image

    folder = ensure_demo_dataset()
    # The object's outline: fraction of pixels far from the corner colour, per class.
    fill = {}
    for name in DEMO_CLASSES:
        fractions = []
        for path in sorted((folder / name).glob("*.jpg"))[:20]:
            a = np.asarray(Image.open(path).convert("L"), np.float32)
            fractions.append(np.mean(np.abs(a - np.median(a)) > 40))
        fill[name] = float(np.mean(fractions))
    assert fill["circles"] > fill["triangles"]
