"""The "Virtually staged" label and the no-provider placeholder."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from app.imaging.overlay import PLACEHOLDER_TITLE, render_placeholder, watermark
from tests.imaging.measure import pixels


def _changed(before: Image.Image, after: Image.Image) -> np.ndarray:
    return np.abs(pixels(after) - pixels(before)).max(axis=-1) > 0


def test_label_changes_only_a_small_bottom_right_box(photo):
    image = photo("living_01.jpg")
    changed = _changed(image, watermark(image))
    rows, cols = np.nonzero(changed)
    assert changed.any() and changed.mean() < 0.05
    assert rows.min() > image.height * 0.8 and cols.min() > image.width * 0.5


def test_label_can_go_bottom_left(photo):
    image = photo("living_01.jpg")
    _, cols = np.nonzero(_changed(image, watermark(image, corner="bottom-left")))
    assert cols.max() < image.width * 0.5


@pytest.mark.parametrize("background", [(250, 250, 250), (8, 8, 8)])
def test_label_text_is_legible_on_light_and_dark_photos(background):
    image = Image.new("RGB", (1200, 800), background)
    labelled = pixels(watermark(image))
    box = _changed(image, watermark(image))
    rows, cols = np.nonzero(box)
    region = labelled[rows.min(): rows.max() + 1, cols.min(): cols.max() + 1].mean(axis=-1)
    # White glyphs over a dark box: strong contrast whatever the photo underneath.
    assert region.max() - np.median(region) > 120


def test_label_size_follows_image_width():
    small = _changed(Image.new("RGB", (600, 400), "grey"), watermark(Image.new("RGB", (600, 400), "grey")))
    large = _changed(Image.new("RGB", (2400, 1600), "grey"), watermark(Image.new("RGB", (2400, 1600), "grey")))
    assert np.ptp(np.nonzero(large)[1]) > 3 * np.ptp(np.nonzero(small)[1])


def test_custom_label_text_differs_from_default(photo):
    image = photo("kitchen_01.jpg")
    assert not np.array_equal(pixels(watermark(image)), pixels(watermark(image, text="Concept rendering")))


def test_empty_label_leaves_photo_unchanged(photo):
    image = photo("kitchen_01.jpg")
    assert watermark(image, text="   ") is image


def test_label_keeps_transparency():
    assert watermark(Image.new("RGBA", (400, 300), (0, 0, 0, 0))).mode == "RGBA"


def test_unknown_corner_is_rejected():
    with pytest.raises(ValueError, match="bottom-right"):
        watermark(Image.new("RGB", (100, 100)), corner="top-middle")


def test_placeholder_has_the_requested_size_and_shows_text():
    image = render_placeholder("A sunlit Scandinavian living room with a grey sofa", 1024, 768)
    assert image.size == (1024, 768) and image.mode == "RGB"
    values = pixels(image).mean(axis=-1)
    assert (values < 80).mean() > 0.002, "prompt text should be drawn"


def test_placeholder_is_marked_as_such():
    assert "PLACEHOLDER" in PLACEHOLDER_TITLE and "no AI provider" in PLACEHOLDER_TITLE
    # The title is drawn in a red-brown ink that appears nowhere else in the placeholder.
    array = pixels(render_placeholder("x", 800, 600))
    title_ink = (array[..., 0] > array[..., 1] + 40)
    assert title_ink[: 200].any()


def test_placeholder_wraps_long_prompts_inside_the_frame():
    image = render_placeholder("word " * 400, 640, 480)
    dark = pixels(image).mean(axis=-1) < 80
    rows, cols = np.nonzero(dark)
    assert cols.max() < 640 - 10 and rows.max() < 480 - 10


def test_placeholder_rejects_absurd_sizes():
    with pytest.raises(ValueError, match="between 16 and 8192"):
        render_placeholder("x", 10, 10000)
