"""Geometry: tilt detection and straightening, resizing to a resolution, cropping to an aspect ratio."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from PIL import Image

RESOLUTIONS = {"1K": 1024, "2K": 2048, "4K": 4096}
MAX_TILT_DEGREES = 12.0
MIN_CORRECTION_DEGREES = 0.2
_TILT_LONG_SIDE = 1000
_NEAR_VERTICAL = math.tan(math.radians(20))


def estimate_tilt_degrees(image: Image.Image) -> float:
    """Counter-clockwise rotation of the scene's verticals, in degrees (0.0 when unsure)."""
    gray = image.convert("L")
    gray.thumbnail((_TILT_LONG_SIDE, _TILT_LONG_SIDE), Image.Resampling.BILINEAR, reducing_gap=2.0)
    luma = np.asarray(gray, dtype=np.float32)
    xs, ys, weights = _vertical_edge_pixels(luma)
    if weights.size < 200:
        return 0.0
    middle = luma.shape[1] / 2.0
    halves = [xs < middle, xs >= middle]
    # Converging verticals lean opposite ways on each side; averaging the halves cancels that.
    if all(np.count_nonzero(side) >= 200 for side in halves):
        estimates = [_best_shear_angle(xs[side], ys[side], weights[side]) for side in halves]
        return round(float(np.mean(estimates)), 2)
    return round(_best_shear_angle(xs, ys, weights), 2)


def _vertical_edge_pixels(luma: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coordinates and strengths of strong edges whose direction is within 20° of vertical."""
    gx = np.zeros_like(luma)
    gy = np.zeros_like(luma)
    gx[:, 1:-1] = luma[:, 2:] - luma[:, :-2]
    gy[1:-1, :] = luma[2:, :] - luma[:-2, :]
    strength = np.abs(gx)
    near_vertical = np.abs(gy) < strength * _NEAR_VERTICAL
    threshold = max(12.0, float(np.percentile(strength, 92)))
    ys, xs = np.nonzero(near_vertical & (strength > threshold))
    return xs.astype(np.float32), ys.astype(np.float32), strength[ys, xs]


def _best_shear_angle(xs: np.ndarray, ys: np.ndarray, weights: np.ndarray) -> float:
    """Angle whose sheared column projection is sharpest: straight lines pile into few columns."""
    ys = ys - ys.mean()
    coarse = np.arange(-MAX_TILT_DEGREES, MAX_TILT_DEGREES + 0.01, 0.25)
    best = coarse[np.argmax([_projection_sharpness(xs, ys, weights, a) for a in coarse])]
    fine = np.arange(best - 0.3, best + 0.301, 0.02)
    scores = np.array([_projection_sharpness(xs, ys, weights, a) for a in fine])
    return float(fine[np.argmax(scores)])


def _projection_sharpness(xs: np.ndarray, ys: np.ndarray, weights: np.ndarray, degrees: float) -> float:
    columns = np.rint(xs + ys * math.tan(math.radians(degrees))).astype(np.int64)
    columns -= columns.min()
    profile = np.bincount(columns, weights=weights)
    return float(np.dot(profile, profile))


def straighten(image: Image.Image, *, max_degrees: float = MAX_TILT_DEGREES) -> Image.Image:
    """Rotate so verticals are vertical, zooming just enough that no empty wedge shows."""
    tilt = estimate_tilt_degrees(image)
    if abs(tilt) < MIN_CORRECTION_DEGREES or abs(tilt) > max_degrees:
        return image
    return rotate_and_fill(image, -tilt)


def rotate_and_fill(image: Image.Image, degrees: float) -> Image.Image:
    """Rotate counter-clockwise by `degrees` and crop-zoom back to the same size in one resample."""
    width, height = image.size
    theta = math.radians(degrees)
    cos_t, sin_t = abs(math.cos(theta)), abs(math.sin(theta))
    # Largest same-aspect rectangle inside the rotated frame, as a fraction of the frame.
    scale = min(width / (width * cos_t + height * sin_t), height / (width * sin_t + height * cos_t))
    # Inverse map (output -> input): rotate about the centre by +degrees, shrink by `scale`.
    cos_s, sin_s = math.cos(theta) * scale, math.sin(theta) * scale
    cx, cy = width / 2.0, height / 2.0
    matrix = (cos_s, sin_s, cx - cos_s * cx - sin_s * cy, -sin_s, cos_s, cy + sin_s * cx - cos_s * cy)
    return image.transform(image.size, Image.Transform.AFFINE, matrix, resample=Image.Resampling.BICUBIC)


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
