"""Resizing to a resolution and cropping to an exact aspect ratio around a focal point."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw

from app.imaging.geometry import crop_to_aspect, parse_aspect_ratio, resize

RATIOS = ["1:1", "4:3", "3:2", "16:9", "9:16", "21:9", "2:3", "3:4", "4:5", "5:4"]


@pytest.mark.parametrize("text, expected", [("16:9", (16, 9)), ("4:3", (4, 3)), (" 21 : 9 ", (7, 3)),
                                            ("1.91:1", (191, 100)), ("2:2", (1, 1))])
def test_aspect_ratio_is_parsed_and_reduced(text, expected):
    assert parse_aspect_ratio(text) == expected


@pytest.mark.parametrize("junk", ["", "16x9", "16:", ":9", "a:b", "16:0", "0:9", "-4:3", "1:20", "16:9:1"])
def test_junk_aspect_ratio_raises_invalid_aspect_ratio(junk):
    with pytest.raises(ValueError, match="Invalid aspect ratio"):
        parse_aspect_ratio(junk)


@pytest.mark.parametrize("ratio", RATIOS)
@pytest.mark.parametrize("size", [(1600, 1067), (853, 1280), (1001, 999)])
def test_crop_has_exactly_the_requested_aspect_ratio(ratio, size):
    width, height = crop_to_aspect(Image.new("RGB", size), aspect_ratio=ratio).size
    ratio_w, ratio_h = (int(part) for part in ratio.split(":"))
    assert width * ratio_h == height * ratio_w
    assert width <= size[0] and height <= size[1]
    assert width > size[0] - ratio_w * 3 or height > size[1] - ratio_h * 3, "the crop should be the largest"


def test_crop_is_centred_without_a_focal_point():
    image = Image.new("L", (1600, 900))
    ImageDraw.Draw(image).rectangle((790, 440, 810, 460), fill=255)
    cropped = crop_to_aspect(image, aspect_ratio="1:1")
    assert cropped.size == (900, 900) and cropped.getpixel((450, 450)) == 255


def test_crop_keeps_the_focal_point_in_frame():
    image = Image.new("L", (1600, 900))
    ImageDraw.Draw(image).rectangle((1000, 440, 1020, 460), fill=255)
    cropped = crop_to_aspect(image, aspect_ratio="1:1", focal_point=(1010 / 1600, 0.5))
    assert cropped.getbbox() is not None
    left, _, right, _ = cropped.getbbox()
    assert 400 <= left and right <= 500, "the focal point should sit near the middle of the crop"


def test_focal_point_near_the_edge_clamps_the_crop_inside_the_image():
    image = Image.new("L", (1600, 900))
    ImageDraw.Draw(image).rectangle((1590, 0, 1599, 899), fill=255)
    cropped = crop_to_aspect(image, aspect_ratio="1:1", focal_point=(1.0, 0.5))
    assert cropped.size == (900, 900) and cropped.getpixel((895, 450)) == 255


def test_focal_point_outside_zero_to_one_is_rejected():
    with pytest.raises(ValueError, match="between 0 and 1"):
        crop_to_aspect(Image.new("RGB", (100, 100)), aspect_ratio="1:1", focal_point=(1.5, 0.5))


@pytest.mark.parametrize("resolution, long_side", [("1K", 1024), ("2K", 2048), ("4k", 4096), (800, 800)])
def test_resize_sets_the_long_side_and_keeps_aspect(resolution, long_side):
    result = resize(Image.new("RGB", (1600, 1067)), resolution=resolution)
    assert max(result.size) == long_side
    assert result.width / result.height == pytest.approx(1600 / 1067, rel=0.002)


def test_resize_of_portrait_uses_height_as_long_side():
    assert resize(Image.new("RGB", (853, 1280)), resolution="1K").size == (682, 1024)


def test_unknown_resolution_is_rejected():
    with pytest.raises(ValueError, match="1K, 2K or 4K"):
        resize(Image.new("RGB", (100, 100)), resolution="8K")
