"""Vertical correction: tilted photos come out level, level photos are left alone, no empty wedges."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from app.imaging.tilt import estimate_tilt_degrees, rotate_and_fill, straighten
from tests.imaging.measure import pixels

# SOURCES.md: tilted_exterior_01 was rotated -4°, tilted_kitchen_01 +5° (counter-clockwise positive).
TILTED = [("tilted_exterior_01.jpg", -4.0), ("tilted_kitchen_01.jpg", 5.0)]
LEVEL = ["kitchen_01.jpg", "kitchen_03.jpg", "dining_01.jpg", "dining_02.jpg", "empty_living_01.jpg",
         "living_03.jpg", "bathroom_01.jpg", "bedroom_03.jpg"]


def _door_frames(size=(900, 600)) -> Image.Image:
    image = Image.new("RGB", size, (225, 220, 210))
    draw = ImageDraw.Draw(image)
    for x in range(80, size[0], 150):
        draw.rectangle((x, 60, x + 50, size[1] - 40), outline=(60, 50, 40), width=6)
    return image


@pytest.mark.parametrize("degrees", [-9.0, -4.0, -1.0, 2.5, 5.0])
def test_known_rotation_of_synthetic_verticals_is_measured(degrees):
    rotated = _door_frames().rotate(degrees, resample=Image.Resampling.BICUBIC, fillcolor=(225, 220, 210))
    assert estimate_tilt_degrees(rotated) == pytest.approx(degrees, abs=0.3)


@pytest.mark.parametrize("name, applied", TILTED)
def test_tilted_fixture_tilt_is_detected(photo, name, applied):
    # Within 0.75°: the source photos themselves are not guaranteed to have been perfectly level.
    assert estimate_tilt_degrees(photo(name)) == pytest.approx(applied, abs=0.75)


@pytest.mark.parametrize("name, applied", TILTED)
def test_tilted_fixture_comes_out_within_half_a_degree_of_vertical(photo, name, applied):
    image = photo(name, None)
    straightened = straighten(image)
    assert straightened.size == image.size
    assert abs(estimate_tilt_degrees(straightened)) < 0.5


@pytest.mark.parametrize("name", LEVEL)
def test_level_photo_is_left_nearly_alone(photo, name):
    # At most a sub-half-degree nudge (bedroom_03 has strong keystone, the hardest case here).
    image = photo(name)
    assert abs(estimate_tilt_degrees(image)) < 0.5
    assert straighten(image).size == image.size


def test_exactly_level_verticals_are_not_resampled():
    image = _door_frames()
    assert straighten(image) is image


def test_straightening_leaves_no_empty_wedge_in_the_corners():
    tilted = Image.new("RGB", (600, 400), (200, 30, 30)).rotate(6, resample=Image.Resampling.BICUBIC,
                                                                fillcolor=(200, 30, 30))
    ImageDraw.Draw(tilted).line((300, 0, 320, 400), fill=(255, 255, 255), width=1)
    corrected = rotate_and_fill(tilted, -6)
    corners = pixels(corrected)[[0, 0, -1, -1], [0, -1, 0, -1]]
    assert (corners[:, 0] > 150).all() and (corners[:, 1:] < 80).all()


def test_rotate_and_fill_keeps_size_and_zooms_only_as_needed():
    image = Image.new("RGB", (800, 500), "grey")
    assert rotate_and_fill(image, 3).size == (800, 500)


def test_photo_without_lines_reports_no_tilt():
    rng = np.random.default_rng(3)
    noise = Image.fromarray(rng.integers(100, 140, (300, 400, 3), dtype=np.uint8))
    assert estimate_tilt_degrees(noise) == 0.0
    assert straighten(noise) is noise
