"""AugmentationSpec, the Keras block built from it, and the preview that runs that block."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import write_image
from desktop_app.core.augment.preview import (
    N_VARIANTS, augment_copies, grid_geometry, grid_image, load_preview_image, render_preview,
)
from desktop_app.core.augment.layers import build_augmentation
from desktop_app.core.augment.spec import (
    FILL_MODE, FLIP_MODES, PRESETS, SETTINGS, AugmentationSpec, describe_setting, turn,
)
from desktop_app.core.errors import UserError


def asymmetric_image(size: int = 32) -> np.ndarray:
    """No mirror or rotation symmetry, no flat colour: every geometric change shows."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    image = np.stack([x * 255 / size, y * 255 / size, np.full_like(x, 60)], axis=-1)
    image[2 : size // 3, 3 : size // 2] = (250, 250, 20)  # an off-centre block, top left
    return image.astype(np.uint8)


# -- the spec ---------------------------------------------------------------------------


@pytest.mark.parametrize("spec", [AugmentationSpec.preset(p) for p in PRESETS] + [
    AugmentationSpec(flip="horizontal_and_vertical", rotation=0.05, translation=0.33, brightness=1),
])
def test_json_round_trip(spec, tmp_path):
    path = tmp_path / "augment.json"
    path.write_text(spec.to_json(), encoding="utf-8")
    again = AugmentationSpec.from_json(path.read_text(encoding="utf-8"))
    assert again == spec
    assert again.to_dict() == json.loads(spec.to_json())
    assert all(isinstance(v, float) for k, v in again.to_dict().items() if k != "flip")


@pytest.mark.parametrize("data, word", [
    ({"rotation": 0.1, "spin": 1}, "spin"),
    ({"rotation": 1.5}, "between 0 and 1"),
    ({"zoom": -0.1}, "between 0 and 1"),
    ({"zoom": "0.2"}, "number"),
    ({"contrast": True}, "number"),
    ({"brightness": float("nan")}, "between 0 and 1"),
    ({"flip": "diagonal"}, "flip must be one of"),
])
def test_bad_settings_are_refused_with_their_name(data, word):
    with pytest.raises(ValueError, match=word):
        AugmentationSpec.from_dict(data)


def test_non_object_json_is_refused():
    with pytest.raises(ValueError, match="JSON object"):
        AugmentationSpec.from_json("[0.1, 0.2]")


def test_presets_and_their_names():
    light = AugmentationSpec.preset("Light")
    # Genuinely light: a small tilt (not the reference notebook's ±72°), a little zoom and stretch.
    assert light == AugmentationSpec(flip="horizontal", rotation=turn(10), zoom=0.1, stretch_height=0.1,
                                     stretch_width=0.1)
    assert light.describe()[1] == "Rotate: turn up to ±10°"
    assert AugmentationSpec.preset("strong").describe()[1] == "Rotate: turn up to ±30°"
    assert [AugmentationSpec.preset(p).preset_name() for p in PRESETS] == list(PRESETS)
    assert light.with_changes(rotation=0.1).preset_name() is None
    assert AugmentationSpec().is_identity and not light.is_identity
    with pytest.raises(ValueError, match="unknown augmentation preset"):
        AugmentationSpec.preset("extreme")


def test_strengths_in_words_a_student_understands():
    assert describe_setting("rotation", 0.1) == "turn up to ±36°"
    assert describe_setting("rotation", 0.2) == "turn up to ±72°"
    assert describe_setting("zoom", 0.2) == "zoom in or out by up to 20 %"
    assert describe_setting("brightness", 0.0) == "off"
    assert "left-right" in describe_setting("flip", "horizontal")
    assert describe_setting("rotation", turn(10)) == "turn up to ±10°"
    lines = AugmentationSpec.preset("strong").describe()
    assert len(lines) == 8 and lines[0].startswith("Flip:") and lines[1] == "Rotate: turn up to ±30°"
    assert AugmentationSpec().describe() == ["No augmentation: the model sees every photo unchanged."]
    for setting in SETTINGS:  # a slider's range stays inside what the spec accepts
        assert 0 < setting.default <= setting.maximum <= 1


@pytest.mark.parametrize("degrees", [1, 10, 30, 72])
def test_the_rotation_words_say_the_angles_keras_turns_by(degrees):
    # RandomRotation takes a fraction of a full turn (0.2 = ±72°): the words must match it.
    from desktop_app.core.augment.layers import build_augmentation

    spec = AugmentationSpec(rotation=turn(degrees))
    assert describe_setting("rotation", spec.rotation) == f"turn up to ±{degrees}°"
    (layer,) = build_augmentation(spec, seed=0).layers
    angles = np.asarray(layer.get_random_transformation(np.zeros((4000, 8, 8, 3), np.float32),
                                                        training=True)["angle"])  # Keras draws them in degrees
    assert np.abs(angles).max() <= degrees + 1e-3 and np.abs(angles).max() > 0.97 * degrees


def test_old_files_that_name_a_preset_keep_what_they_meant():
    """Projects of schema 0 and run configs of version 1 name a preset instead of its values."""
    from desktop_app.core.project import migrate
    from desktop_app.core.session import Settings, migrate_config

    notebook = AugmentationSpec(flip="horizontal", rotation=0.2, zoom=0.2, stretch_height=0.2, stretch_width=0.2)
    assert Settings.from_dict(migrate({"augmentation": "light"})).augmentation == notebook
    assert Settings.from_dict(migrate({})).augmentation == notebook  # schema 0 defaulted to "light"
    assert AugmentationSpec.from_dict(migrate_config({"data": "d"})["augmentation"]) == notebook
    # A saved spec keeps its saved values, whatever the presets say now.
    saved = {"schema_version": 2, "augmentation": notebook.to_dict()}
    assert Settings.from_dict(migrate(saved)).augmentation == notebook


# -- the Keras block: every layer really changes pixels ----------------------------------


def test_uncovered_corners_hold_no_ghost_copies():
    """A white spot near the corner of a black photo, shifted, must stay one spot (Keras'
    default "reflect" fill mirrors a second one into the band the shift uncovers)."""
    from desktop_app.core.augment.layers import build_augmentation

    geometric = build_augmentation(AugmentationSpec.preset("strong")).layers[1:6]  # turn, zoom, stretch, shift
    assert [layer.fill_mode for layer in geometric] == [FILL_MODE] * 5 and FILL_MODE == "nearest"
    image = np.zeros((48, 48, 3), np.uint8)
    image[4:12, 4:12] = 255
    white = (image[..., 0] > 127).sum()
    copies = augment_copies(image, AugmentationSpec(translation=0.4), seed=4, n=24)
    spots = [(c[..., 0] > 127).sum() for c in copies]
    assert max(spots) <= 1.3 * white, spots  # blurred a little by a part-pixel shift, never doubled




def test_nothing_switched_on_builds_nothing_and_previews_the_original():
    assert build_augmentation(AugmentationSpec()) is None
    image = asymmetric_image()
    copies = augment_copies(image, AugmentationSpec(), seed=3, n=4)
    assert all(np.array_equal(c, image) for c in copies)


@pytest.mark.parametrize("mode", FLIP_MODES[1:])
def test_flip_mirrors_some_copies_and_leaves_the_rest(mode):
    image = asymmetric_image()
    copies = augment_copies(image, AugmentationSpec(flip=mode), seed=1, n=16)
    allowed = {
        "horizontal": [image, image[:, ::-1]],
        "vertical": [image, image[::-1]],
        # Each axis on its own: all four outcomes happen.
        "horizontal_and_vertical": [image, image[:, ::-1], image[::-1], image[::-1, ::-1]],
    }[mode]
    kinds = [next(i for i, a in enumerate(allowed) if np.array_equal(c, a)) for c in copies]
    assert set(kinds) == set(range(len(allowed)))  # 16 copies show every outcome


@pytest.mark.parametrize("name", [s.name for s in SETTINGS])
def test_each_layer_changes_the_image_and_strength_zero_removes_it(name):
    image = asymmetric_image()
    spec = AugmentationSpec(**{name: 0.3})
    block = build_augmentation(spec, seed=0)
    assert [layer.name for layer in block.layers] == [name]
    copies = augment_copies(image, spec, seed=2, n=6)
    changes = [np.abs(c.astype(int) - image.astype(int)).mean() for c in copies]
    assert sum(d > 1.0 for d in changes) >= 4, changes  # most copies clearly differ ...
    assert len({c.tobytes() for c in copies}) >= 4  # ... and differently
    assert all(c.shape == image.shape and c.dtype == np.uint8 for c in copies)  # size kept
    names = [layer.name for layer in build_augmentation(AugmentationSpec.preset("strong").with_changes(**{name: 0.0})).layers]
    assert name not in names and len(names) == 7


def test_stretch_changes_one_axis_only():
    # Horizontal stripes survive a width stretch untouched; vertical stripes do not.
    stripes = np.zeros((32, 32, 3), np.uint8)
    stripes[::4] = 255
    width = augment_copies(stripes, AugmentationSpec(stretch_width=0.4), seed=0, n=4)
    assert all(np.array_equal(c, stripes) for c in width)
    height = augment_copies(stripes, AugmentationSpec(stretch_height=0.4), seed=0, n=4)
    assert not all(np.array_equal(c, stripes) for c in height)


def test_block_is_named_and_ordered_like_the_spec():
    block = build_augmentation(AugmentationSpec.preset("strong"), seed=1)
    assert block.name == "data_augmentation"
    assert [layer.name for layer in block.layers] == [
        "flip", "rotation", "zoom", "stretch_height", "stretch_width", "translation", "contrast", "brightness",
    ]


# -- determinism ---------------------------------------------------------------------------


def test_same_seed_same_grid_other_seed_other_grid():
    image = asymmetric_image(48)
    spec = AugmentationSpec.preset("strong")
    first = render_preview(image, spec, seed=7)
    again = render_preview(image, spec, seed=7)
    other = render_preview(image, spec, seed=8)
    assert len(first.variants) == N_VARIANTS
    assert all(np.array_equal(a, b) for a, b in zip(first.variants, again.variants))
    assert np.array_equal(np.asarray(grid_image(first)), np.asarray(grid_image(again)))
    assert not all(np.array_equal(a, b) for a, b in zip(first.variants, other.variants))


def test_cached_block_draws_what_a_freshly_built_block_draws():
    """The preview reuses blocks; it must still show exactly what build_augmentation gives."""
    image = asymmetric_image()
    spec = AugmentationSpec.preset("light")
    augment_copies(image, spec, seed=1, n=4)  # warm the cache and move its random state on
    cached = augment_copies(image, spec, seed=5, n=4)
    fresh_block = build_augmentation(spec, seed=5)
    batch = np.repeat(image[None].astype(np.float32), 4, axis=0)
    fresh = np.clip(np.rint(np.asarray(fresh_block(batch, training=True))), 0, 255).astype(np.uint8)
    assert all(np.array_equal(a, b) for a, b in zip(cached, fresh))


# -- the preview's image and grid ----------------------------------------------------------


def test_preview_loads_a_real_file_at_model_size(tmp_path):
    path = write_image(tmp_path / "photo.png", (200, 30, 30), size=40, mode="RGBA")
    pixels = load_preview_image(path, 64)
    assert pixels.shape == (64, 64, 3) and pixels.dtype == np.uint8
    preview = render_preview(path, AugmentationSpec.preset("light"), seed=0, size=64)
    grid = grid_image(preview)
    g = grid_geometry(64)
    assert grid.size == (g["width"], g["height"])
    # The original sits at the top left, pixel for pixel.
    top = g["margin"] + g["caption"]
    crop = np.asarray(grid)[top : top + 64, g["margin"] : g["margin"] + 64]
    assert np.array_equal(crop, preview.original)


def test_unreadable_image_is_a_user_error(tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not a jpeg")
    with pytest.raises(UserError, match="broken.jpg"):
        load_preview_image(bad)
    with pytest.raises(UserError, match="does not exist"):
        load_preview_image(tmp_path / "missing.png")


# -- the block inside the classifier ---------------------------------------------------------


def test_augmentation_is_inactive_at_inference():
    import keras

    from desktop_app.core.model.builder import build_classifier
    from desktop_app.core.session import ModelSettings

    settings = ModelSettings("mobilenet", 0.25, 32, weights=None)
    with_block = build_classifier(settings, 3, AugmentationSpec.preset("strong"), seed=0)
    without = build_classifier(settings, 3, AugmentationSpec(), seed=0)
    # The same numbers in base and head, so only the augmentation block differs.
    for name in ("base_model", "predictions"):
        without.get_layer(name).set_weights(with_block.get_layer(name).get_weights())
    block = with_block.get_layer("data_augmentation")
    assert isinstance(block, keras.Sequential) and len(block.layers) == 8

    x = np.stack([asymmetric_image(), asymmetric_image()[:, ::-1]]).astype(np.float32)
    expected = np.asarray(without(x, training=False))
    assert np.allclose(np.asarray(with_block(x, training=False)), expected, atol=1e-6)
    # ... while in training the block is really there (it changes the input the base sees).
    seen_in_training = np.asarray(block(x, training=True))
    assert not np.allclose(seen_in_training, x)
