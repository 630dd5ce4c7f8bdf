"""Any ratio or size a caller asks for: the model's nearest ratio, the tier it must make, and the exact crop."""
import pytest
from PIL import Image

from app.imaging.geometry import (
    crop_to_exact_ratio,
    fit_to_size,
    frame_long_side,
    nearest_ratio,
    tier_for,
)

OFFERED = ("auto", "21:9", "16:9", "3:2", "4:3", "5:4", "1:1", "4:5", "3:4", "2:3", "9:16")


@pytest.mark.parametrize("asked, nearest", [
    ("16:9", "16:9"), ("32:18", "16:9"), ("16:10", "3:2"), ("7:3", "21:9"), ("1001:999", "1:1"), ("10:16", "2:3"),
])
def test_a_ratio_no_model_offers_is_made_at_the_nearest_one_it_does(asked, nearest):
    assert nearest_ratio(asked, OFFERED) == nearest


def test_the_tier_is_the_smallest_whose_frame_still_holds_the_size_asked():
    assert tier_for(frame_long_side(1920, 1080, "16:9"), ("1K", "2K", "4K")) == "2K"
    # 3200×2000 (16:10) from a 3:2 frame: the 4K frame is 4096 wide, 2731 high, enough for 3200×2000.
    assert tier_for(frame_long_side(3200, 2000, "3:2"), ("1K", "2K", "4K")) == "4K"
    assert tier_for(frame_long_side(3200, 2000, "3:2"), ("1K",)) == "1K"  # the largest a model makes


@pytest.mark.parametrize("size", [(1920, 1080), (1001, 999), (1600, 1000), (300, 700)])
def test_a_result_is_fitted_to_exactly_the_size_asked(size):
    frame = Image.new("RGB", (2752, 1536))
    assert fit_to_size(frame, *size).size == size


def test_a_ratio_is_cropped_exactly_as_written():
    assert crop_to_exact_ratio(Image.new("RGB", (1024, 1024)), "1001:999").size == (1001, 999)
    assert crop_to_exact_ratio(Image.new("RGB", (1344, 768)), "16:9").size == (1344, 756)
    assert crop_to_exact_ratio(Image.new("RGB", (1248, 832)), "3:2").size == (1248, 832)
