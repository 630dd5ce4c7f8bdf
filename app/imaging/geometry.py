"""Geometry: resizing to a resolution and cropping to an exact aspect ratio around a focal point."""

from __future__ import annotations

import math
from fractions import Fraction

from PIL import Image

RESOLUTIONS = {"1K": 1024, "2K": 2048, "4K": 4096}


def resize(image: Image.Image, *, resolution: str | int) -> Image.Image:
    """Scale so the long side is 1K/2K/4K (1024/2048/4096) or a given pixel count."""
    long_side = _resolution_pixels(resolution)
    width, height = image.size
    if max(width, height) == long_side:
        return image
    factor = long_side / max(width, height)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0 if factor < 1 else None)


def _resolution_pixels(resolution: str | int) -> int:
    if isinstance(resolution, int) and 16 <= resolution <= 8192:
        return resolution
    key = str(resolution).strip().upper()
    if key in RESOLUTIONS:
        return RESOLUTIONS[key]
    raise ValueError(f"Invalid resolution {resolution!r}; use 1K, 2K or 4K.")


def parse_aspect_ratio(text: str) -> tuple[int, int]:
    """Parse 'W:H' (e.g. '16:9', '1.91:1') into a reduced integer pair; ValueError if invalid."""
    message = f"Invalid aspect ratio {text!r}; use width:height such as 16:9, 4:3 or 1:1."
    parts = str(text).strip().split(":")
    if len(parts) != 2:
        raise ValueError(message)
    try:
        ratio = Fraction(parts[0].strip()) / Fraction(parts[1].strip())
    except (ValueError, ZeroDivisionError):
        raise ValueError(message) from None
    if not (Fraction(1, 10) <= ratio <= 10):
        raise ValueError(message)
    ratio = ratio.limit_denominator(100)
    return ratio.numerator, ratio.denominator


def crop_to_aspect(
    image: Image.Image, *, aspect_ratio: str, focal_point: tuple[float, float] | None = None
) -> Image.Image:
    """Largest crop with exactly this aspect ratio, centred on the focal point (x, y in 0..1)."""
    ratio_w, ratio_h = parse_aspect_ratio(aspect_ratio)
    width, height = image.size
    # Whole multiples of the reduced ratio make the result's ratio exact, not approximate.
    units = min(width // ratio_w, height // ratio_h)
    if units < 1:
        raise ValueError(f"The image is too small to crop to {aspect_ratio}.")
    crop_w, crop_h = units * ratio_w, units * ratio_h
    fx, fy = _focal(focal_point)
    left = _clamp(round(fx * width - crop_w / 2), 0, width - crop_w)
    top = _clamp(round(fy * height - crop_h / 2), 0, height - crop_h)
    if (crop_w, crop_h) == (width, height):
        return image
    return image.crop((left, top, left + crop_w, top + crop_h))


def _focal(focal_point) -> tuple[float, float]:
    if focal_point is None:
        return 0.5, 0.5
    fx, fy = (float(value) for value in focal_point)
    if not (0.0 <= fx <= 1.0 and 0.0 <= fy <= 1.0):
        raise ValueError("Focal point coordinates must be between 0 and 1.")
    return fx, fy


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def nearest_ratio(aspect_ratio: str, offered) -> str:
    """Of the ratios a model offers ('auto' aside), the one closest in shape to aspect_ratio (itself if offered)."""
    ratio_w, ratio_h = parse_aspect_ratio(aspect_ratio)
    wanted = ratio_w / ratio_h
    choices = [choice for choice in offered if choice != "auto"]
    for choice in choices:
        if parse_aspect_ratio(choice) == (ratio_w, ratio_h):
            return choice
    # Compared on a log scale, so 2:1 is as far from 1:1 as 1:2 is.
    return min(choices, key=lambda choice: abs(math.log(_value(choice) / wanted)))


def _value(aspect_ratio: str) -> float:
    ratio_w, ratio_h = parse_aspect_ratio(aspect_ratio)
    return ratio_w / ratio_h


def frame_long_side(width: int, height: int, frame_ratio: str | None) -> int:
    """The long side a frame of frame_ratio needs so that a width×height crop of it needs no enlarging."""
    if not frame_ratio:
        return max(width, height)
    ratio = _value(frame_ratio)
    if ratio >= 1:
        return math.ceil(max(width, height * ratio))
    return math.ceil(max(height, width / ratio))


def tier_for(long_side: int, tiers) -> str:
    """The smallest resolution tier (of those offered) whose long side reaches long_side, else the largest."""
    offered = sorted((tier for tier in tiers if tier in RESOLUTIONS), key=RESOLUTIONS.get)
    return next((tier for tier in offered if RESOLUTIONS[tier] >= long_side), offered[-1])


def fit_to_size(
    image: Image.Image, width: int, height: int, focal_point: tuple[float, float] | None = None
) -> Image.Image:
    """Exactly width×height: the largest crop of that shape around the focal point, resized to fit."""
    if image.size == (width, height):
        return image
    wanted = width / height
    if image.width / image.height > wanted:
        crop_w, crop_h = max(1, round(image.height * wanted)), image.height
    else:
        crop_w, crop_h = image.width, max(1, round(image.width / wanted))
    fx, fy = _focal(focal_point)
    left = _clamp(round(fx * image.width - crop_w / 2), 0, image.width - crop_w)
    top = _clamp(round(fy * image.height - crop_h / 2), 0, image.height - crop_h)
    cropped = image.crop((left, top, left + crop_w, top + crop_h))
    if cropped.size == (width, height):
        return cropped
    return cropped.resize((width, height), Image.Resampling.LANCZOS)


def crop_to_exact_ratio(
    image: Image.Image, aspect_ratio: str, focal_point: tuple[float, float] | None = None
) -> Image.Image:
    """Largest crop whose width:height is exactly the ratio written (1001:999 too, not its nearest simple ratio);
    the nearest simple ratio when the image is too small to hold even one whole unit of it."""
    parse_aspect_ratio(aspect_ratio)  # the same rules for what is well-formed
    left_part, right_part = str(aspect_ratio).strip().split(":")
    exact = Fraction(left_part.strip()) / Fraction(right_part.strip())
    ratio_w, ratio_h = exact.numerator, exact.denominator
    if ratio_w > image.width or ratio_h > image.height:
        return crop_to_aspect(image, aspect_ratio=aspect_ratio, focal_point=focal_point)
    units = min(image.width // ratio_w, image.height // ratio_h)
    return fit_to_size(image, units * ratio_w, units * ratio_h, focal_point) if (
        (units * ratio_w, units * ratio_h) != image.size) else image
