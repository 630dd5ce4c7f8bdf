"""The quality suite: every local edit on every fixture photo, judged by measures a person would agree with
(tests/imaging/quality.py): nothing changed outside the region meant, no new clipping, natural brightness,
no false straightening, and an honest "changed nothing" whenever an edit declines."""

from __future__ import annotations

from functools import lru_cache

import pytest

from app.imaging import exterior, masks
from app.imaging.pipeline import PipelineResult, run_steps
from app.imaging.tilt import estimate_tilt_degrees
from tests.imaging import quality
from tests.imaging.conftest import PHOTOS, _decoded

ALL = sorted(path.name for path in PHOTOS.glob("*.jpg") if path.name not in ("truncated.jpg",))
TILTED = ["tilted_exterior_01.jpg", "tilted_kitchen_01.jpg"]
STRAIGHT = [name for name in ALL if name not in TILTED and name != "exif_rotated_bedroom_01.jpg"]
DARK = ["dark_bathroom_01.jpg", "dark_bedroom_01.jpg", "dark_living_01.jpg"]
BLUE_SKIES = ["exterior_01.jpg", "exterior_02.jpg", "exterior_04.jpg", "backlit_exterior_01.jpg"]
INTERIORS = ["kitchen_01.jpg", "kitchen_03.jpg", "living_02.jpg", "living_04.jpg", "bathroom_01.jpg", "dining_02.jpg"]
REGION_EDITS = ["blue_sky", "green_lawn", "day_to_dusk", "straighten"]


@lru_cache(maxsize=256)
def edited(name: str, operation: str) -> PipelineResult:
    return run_steps(_decoded(name, 800), [(operation, {})])


def before(name: str):
    return _decoded(name, 800)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("operation", ["enhance", *REGION_EDITS])
def test_no_edit_clips_more_than_one_percent_of_pixels(name, operation):
    measure = quality.clipped_share_added if operation == "straighten" else quality.newly_clipped
    assert measure(before(name), edited(name, operation).image) <= 0.01


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("operation", REGION_EDITS)
def test_an_edit_that_says_it_changed_nothing_changed_no_pixel(name, operation):
    result = edited(name, operation)
    assert result.changed != quality.changed_nothing(before(name), result.image), result.notes
    if not result.changed:
        assert result.notes and result.image is before(name)


@pytest.mark.parametrize("name", ALL)
def test_sky_replacement_changes_nothing_outside_the_sky(name):
    assert quality.changed_outside(before(name), edited(name, "blue_sky").image, quality.sky_region(before(name))) <= 0.01


@pytest.mark.parametrize("name", ALL)
def test_lawn_greening_changes_nothing_outside_the_lawn(name):
    assert quality.changed_outside(before(name), edited(name, "green_lawn").image,
                                   quality.lawn_region(before(name))) <= 0.01


@pytest.mark.parametrize("name", BLUE_SKIES)
def test_a_good_blue_sky_is_kept(name):
    result = edited(name, "blue_sky")
    assert not result.changed and "already a clear blue" in result.notes[0]


@pytest.mark.parametrize("name", INTERIORS + ["exterior_05.jpg"])
@pytest.mark.parametrize("operation", ["blue_sky", "green_lawn", "day_to_dusk"])
def test_exterior_edits_decline_photos_without_open_sky(name, operation):
    # exterior_05's green-painted house must not turn into a lawn; interiors have no sky or lawn.
    assert not edited(name, operation).changed


def test_a_washed_out_sky_is_replaced_and_only_the_sky(photo):
    result = edited("tilted_exterior_01.jpg", "blue_sky")
    image = before("tilted_exterior_01.jpg")
    changed = quality.changed(image, result.image)
    assert result.changed and changed.mean() > 0.15
    assert quality.changed_outside(image, result.image, quality.sky_region(image)) < 0.001


@pytest.mark.parametrize("name", ["exterior_02.jpg", "exterior_03.jpg", "exterior_04.jpg", "tilted_exterior_01.jpg"])
def test_dusk_lights_only_window_shaped_patches_inside_the_facade(name):
    sky, small = exterior.find_sky(before(name))
    windows = exterior.find_windows(small, sky)
    hue, saturation = masks.hue_saturation(small)
    foliage = (hue >= 60) & (hue <= 170) & (saturation > 0.2)
    assert not (windows & quality.grow(sky > 0.5, 3)).any()  # not on the sky or along rooflines
    assert (windows & foliage).mean() < 0.0005  # not on trees and branches
    assert windows.mean() < 0.05


@pytest.mark.parametrize("name", STRAIGHT)
def test_straighten_leaves_every_straight_photo_untouched(name):
    assert not edited(name, "straighten").changed


@pytest.mark.parametrize("name", TILTED)
def test_straighten_brings_every_tilted_photo_within_half_a_degree(name):
    result = edited(name, "straighten")
    assert result.changed and result.notes[0].startswith("Straightened by ")
    assert abs(estimate_tilt_degrees(result.image)) <= 0.5


@pytest.mark.parametrize("name", DARK)
def test_enhance_brings_a_dark_room_into_a_natural_band(name):
    assert 100 <= quality.mean_luma(edited(name, "enhance").image) <= 175


def test_enhance_keeps_the_twilight_mood():
    name = "dusk_exterior_01.jpg"
    assert abs(quality.mean_luma(edited(name, "enhance").image) - quality.mean_luma(before(name))) <= 12


@pytest.mark.parametrize("name", ["kitchen_01.jpg", "living_01.jpg", "bedroom_03.jpg", "living_04.jpg"])
def test_enhance_removes_most_of_a_warm_cast(name):
    assert quality.colour_cast(edited(name, "enhance").image) < 0.7 * quality.colour_cast(before(name))


@pytest.mark.parametrize("name", ALL)
def test_enhance_changes_every_photo(name):
    assert not quality.changed_nothing(before(name), edited(name, "enhance").image)
