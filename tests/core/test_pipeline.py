"""The input pipeline decodes odd files correctly and survives broken ones."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from corpus import RED, BLUE, rotated_jpeg
from conftest import write_image
from desktop_app.core.data.scan import ImageFile

tf = pytest.importorskip("tensorflow")
from desktop_app.core.data.pipeline import make_dataset  # noqa: E402


def first_image(path, size=16) -> np.ndarray:
    ds = make_dataset([ImageFile(path, 0, "pool")], 2, size, 1)
    return next(iter(ds))[0].numpy()[0]


def test_exif_rotated_photo_comes_out_upright(tmp_path):
    image = first_image(rotated_jpeg(tmp_path / "rotated.jpg"), size=20)
    top, bottom = image[2, 10], image[17, 10]
    assert top[0] > 150 and top[2] < 100, top  # red on top
    assert bottom[2] > 150 and bottom[0] < 100, bottom  # blue at the bottom


def test_cmyk_16bit_palette_rgba_webp_gif_decode_to_the_right_colours(tmp_path):
    Image.new("RGB", (16, 16), RED).convert("CMYK").save(tmp_path / "cmyk.jpg", quality=95)
    Image.fromarray(np.full((16, 16), 40_000, np.uint16)).save(tmp_path / "gray16.png")
    Image.new("RGB", (16, 16), RED).convert("P", palette=Image.Palette.ADAPTIVE).save(tmp_path / "p.png")
    Image.new("RGBA", (16, 16), (*BLUE, 0)).save(tmp_path / "clear.png")
    Image.new("RGB", (16, 16), BLUE).save(tmp_path / "x.webp")
    Image.new("RGB", (16, 16), RED).save(tmp_path / "x.gif")
    write_image(tmp_path / "gray.png", (90, 90, 90), mode="L")
    mean = {p.name: first_image(p).mean(axis=(0, 1)) for p in tmp_path.iterdir()}
    np.testing.assert_allclose(mean["cmyk.jpg"], RED, atol=12)
    np.testing.assert_allclose(mean["gray16.png"], [40_000 / 257] * 3, atol=2)  # scaled, not clipped white
    np.testing.assert_allclose(mean["p.png"], RED, atol=6)
    np.testing.assert_allclose(mean["clear.png"], [255, 255, 255], atol=1)  # transparent: white, not black
    np.testing.assert_allclose(mean["x.webp"], BLUE, atol=8)
    np.testing.assert_allclose(mean["x.gif"], RED, atol=8)
    np.testing.assert_allclose(mean["gray.png"], [90, 90, 90], atol=8)


def test_a_bad_file_never_stops_an_epoch(tmp_path):
    files = [ImageFile(write_image(tmp_path / f"{i}.png", RED), i % 2, "pool") for i in range(6)]
    (tmp_path / "broken.jpg").write_text("not a picture")
    (tmp_path / "cut.png").write_bytes((tmp_path / "0.png").read_bytes()[:60])
    files[2:2] = [ImageFile(tmp_path / "broken.jpg", 0, "pool"), ImageFile(tmp_path / "cut.png", 1, "pool")]
    files.append(ImageFile(tmp_path / "vanished.png", 0, "pool"))
    ds = make_dataset(files, 2, 8, 4, shuffle=True)
    for _ in range(2):  # two epochs
        labels = np.concatenate([y.numpy() for _, y in ds])
        assert len(labels) == 6
    ds = make_dataset(files, 2, 8, 3)
    labels = np.concatenate([y.numpy() for _, y in ds])
    np.testing.assert_array_equal(labels.argmax(1), [0, 1, 0, 1, 0, 1])  # one-hot, in order
    assert labels.shape == (6, 2)


def test_cached_pipeline_gives_the_same_images(tmp_path):
    files = [ImageFile(write_image(tmp_path / f"{i}.jpg", RED, seed=i), 0, "pool") for i in range(4)]
    plain = np.concatenate([x.numpy() for x, _ in make_dataset(files, 1, 8, 2)])
    cached = make_dataset(files, 1, 8, 2, cache=True)
    for _ in range(2):
        np.testing.assert_allclose(np.concatenate([x.numpy() for x, _ in cached]), plain)


@pytest.mark.skipif(os.name == "nt", reason="file names are always Unicode on Windows")
def test_a_file_name_that_is_not_utf8_is_still_used(tmp_path):
    """Folders unzipped from old archives can hold names in another encoding."""
    from desktop_app.core.data.scan import scan_folder
    from desktop_app.core.data.validate import validate_index

    write_image(tmp_path / "data" / "red" / "plain.png", RED)
    odd = os.fsdecode(os.path.join(os.fsencode(tmp_path / "data" / "blue"), b"caf\xe9.png"))
    write_image(Path(odd), BLUE)
    index = validate_index(scan_folder(tmp_path / "data"))
    assert len(index.files) == 2 and not index.bad_files
    images = np.concatenate([x for x, _ in make_dataset(index.files, 2, 16, 4)])
    assert len(images) == 2


def test_image_dataset_keeps_each_image_with_its_index_and_drops_broken_files(tmp_path):
    """The one decode step shared by training, evaluation, prediction and export checks."""
    from desktop_app.core.data.pipeline import image_dataset

    red = write_image(tmp_path / "red.png", RED)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG not really")
    odd = Path(os.fsdecode(os.path.join(os.fsencode(tmp_path), b"caf\xe9.png")))  # not valid UTF-8
    write_image(odd, BLUE)
    pairs = [(x.numpy(), int(i)) for x, i in image_dataset([red, broken, odd], 8)]
    assert [i for _, i in pairs] == [0, 2]
    assert pairs[0][0].shape == (8, 8, 3)
    assert pairs[0][0][..., 0].mean() > pairs[0][0][..., 2].mean()  # red stayed red
    assert pairs[1][0][..., 2].mean() > pairs[1][0][..., 0].mean()  # and blue blue
    assert list(image_dataset([], 8)) == []
