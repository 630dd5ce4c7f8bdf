"""Fixtures for imaging tests: fixture photos decoded through load_photo and downscaled for speed."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest
from PIL import Image

from app.imaging.io import load_photo

PHOTOS = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "photos"
TEST_LONG_SIDE = 800


@lru_cache(maxsize=64)
def _decoded(name: str, long_side: int | None) -> Image.Image:
    image = load_photo((PHOTOS / name).read_bytes(), max_pixels=40_000_000).image
    if long_side:
        image.thumbnail((long_side, long_side), Image.Resampling.LANCZOS)
    return image


@pytest.fixture
def photo():
    """photo(name, long_side=800) -> a fresh RGB copy of a fixture photo (None keeps full size)."""
    def load(name: str, long_side: int | None = TEST_LONG_SIDE) -> Image.Image:
        return _decoded(name, long_side).copy()

    return load


@pytest.fixture
def photo_bytes():
    """photo_bytes(name) -> the fixture file's raw bytes."""
    return lambda name: (PHOTOS / name).read_bytes()
