"""`transfer-studio augment-preview`: the page's grid as a file."""

from __future__ import annotations

import numpy as np
from PIL import Image

from conftest import write_image
from desktop_app.cli import main as cli_main
from desktop_app.core.augment.preview import grid_geometry, grid_image, render_preview
from desktop_app.core.augment.spec import AugmentationSpec


def test_writes_the_same_grid_for_the_same_seed(tmp_path, capsys):
    photo = write_image(tmp_path / "photo.jpg", (30, 120, 200), size=48)
    first, again, other = tmp_path / "a.png", tmp_path / "b.png", tmp_path / "c.png"
    for out, seed in ((first, "3"), (again, "3"), (other, "4")):
        assert cli_main(["augment-preview", str(photo), "--out", str(out), "--augment", "strong",
                         "--seed", seed, "--img-size", "48"]) == 0
    printed = capsys.readouterr().out
    assert "Rotate: turn up to ±30°" in printed and f"Wrote {first}" in printed

    grid = np.asarray(Image.open(first))
    g = grid_geometry(48)
    assert grid.shape == (g["height"], g["width"], 3)
    assert np.array_equal(grid, np.asarray(Image.open(again)))
    assert not np.array_equal(grid, np.asarray(Image.open(other)))
    # Exactly what the Augment page computes for that photo, settings and seed.
    page = grid_image(render_preview(photo, AugmentationSpec.preset("strong"), seed=3, size=48))
    assert np.array_equal(grid, np.asarray(page))


def test_settings_from_json_and_clear_errors(tmp_path, capsys):
    photo = write_image(tmp_path / "photo.png", (200, 50, 50), size=32)
    settings = tmp_path / "aug.json"
    settings.write_text(AugmentationSpec(flip="vertical", brightness=0.5).to_json(), encoding="utf-8")
    out = tmp_path / "grid.png"
    assert cli_main(["augment-preview", str(photo), "--out", str(out), "--augment-json", str(settings),
                     "--img-size", "32", "--count", "4"]) == 0
    assert "Flip: turned upside down" in capsys.readouterr().out and out.is_file()

    settings.write_text('{"rotation": 2}', encoding="utf-8")
    assert cli_main(["augment-preview", str(photo), "--out", str(out), "--augment-json", str(settings)]) == 1
    assert "Could not read augmentation settings" in capsys.readouterr().err
    assert cli_main(["augment-preview", str(tmp_path / "nope.jpg"), "--out", str(out)]) == 1
    assert "does not exist" in capsys.readouterr().err
