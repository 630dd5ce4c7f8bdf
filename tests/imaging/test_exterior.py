"""Sky, lawn and dusk edits change only the regions they are about and keep the frame."""

from __future__ import annotations

import numpy as np
import pytest

from app.imaging import masks
from app.imaging._pixels import sample
from app.imaging.exterior import blue_sky, day_to_dusk, green_lawn
from tests.imaging.measure import mean_luminance, pixels

EXTERIORS = ["exterior_01.jpg", "exterior_02.jpg", "exterior_03.jpg", "exterior_04.jpg",
             "backlit_exterior_01.jpg", "tilted_exterior_01.jpg"]
INTERIORS = ["kitchen_01.jpg", "kitchen_03.jpg", "living_03.jpg", "dining_01.jpg", "dining_02.jpg",
             "bathroom_01.jpg", "living_04.jpg"]


def _blueness(array: np.ndarray) -> float:
    return float((array[..., 2] - array[..., 0]).mean())


def test_washed_out_sky_turns_clearly_blue(photo):
    image = photo("tilted_exterior_01.jpg")
    top = (slice(0, int(image.height * 0.08)), slice(int(image.width * 0.1), int(image.width * 0.9)))
    before, after = pixels(image)[top], pixels(blue_sky(image))[top]
    assert _blueness(before) < 10
    assert _blueness(after) > _blueness(before) + 60


def test_sky_edit_leaves_everything_below_the_sky_untouched(photo):
    image = photo("tilted_exterior_01.jpg")
    lower = slice(int(image.height * 0.6), None)
    assert np.array_equal(pixels(blue_sky(image))[lower], pixels(image)[lower])


@pytest.mark.parametrize("name", INTERIORS)
def test_interiors_have_no_sky_and_come_back_unchanged(photo, name):
    image = photo(name)
    assert not masks.sky_mask(sample(image, 400)).any()
    assert np.array_equal(pixels(blue_sky(image)), pixels(image))


@pytest.mark.parametrize("name", ["exterior_01.jpg", "exterior_02.jpg", "exterior_04.jpg", "tilted_exterior_01.jpg"])
def test_sky_mask_finds_the_sky_at_the_top(photo, name):
    sky = masks.sky_mask(sample(photo(name), 400))
    assert sky[: sky.shape[0] // 10].mean() > 0.3
    assert sky[int(sky.shape[0] * 0.8):].max() == 0


def test_dry_lawn_turns_greener_and_the_sky_does_not(photo):
    image = photo("exterior_02.jpg")
    result = pixels(green_lawn(image))
    before = pixels(image)
    rows, cols = slice(int(image.height * 0.70), int(image.height * 0.78)), slice(int(image.width * 0.76), None)
    lawn = (rows, cols)

    def greenness(array: np.ndarray) -> float:
        return float((array[..., 1] - (array[..., 0] + array[..., 2]) / 2).mean())

    assert greenness(result[lawn]) > greenness(before[lawn]) + 10
    assert np.array_equal(result[: int(image.height * 0.3)], before[: int(image.height * 0.3)])


def test_lawn_edit_leaves_grey_road_and_white_fence_alone(photo):
    image = photo("exterior_03.jpg")
    before, after = pixels(image), pixels(green_lawn(image))
    neutral = (before.max(axis=-1) - before.min(axis=-1)) < 12
    assert np.abs(after - before)[neutral].mean() < 2


def test_day_to_dusk_darkens_the_scene_and_deepens_the_sky(photo):
    image = photo("exterior_02.jpg")
    result = day_to_dusk(image)
    assert mean_luminance(result) < mean_luminance(image) - 0.12
    top = pixels(result)[: int(image.height * 0.06)]
    assert top.mean() < pixels(image)[: int(image.height * 0.06)].mean() - 60
    assert _blueness(top) > 20


def test_day_to_dusk_lights_some_windows_warmly(photo):
    image = photo("exterior_02.jpg")
    before, after = pixels(image), pixels(day_to_dusk(image))
    warm_after = (after[..., 0] - after[..., 2] > 70) & (after[..., 0] > 150)
    warm_before = (before[..., 0] - before[..., 2] > 70) & (before[..., 0] > 150)
    assert np.mean(warm_after & ~warm_before) > 0.002


@pytest.mark.parametrize("name", EXTERIORS)
@pytest.mark.parametrize("edit", [blue_sky, green_lawn, day_to_dusk])
def test_exterior_edits_keep_size_and_aspect_ratio(photo, name, edit):
    image = photo(name)
    result = edit(image)
    assert (result.size, result.mode) == (image.size, "RGB")
