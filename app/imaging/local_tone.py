"""Local tone mapping: lift dark regions and calm bright ones (HDR look, backlit exteriors).

The gain map is computed on a ~512 px sample with an edge-preserving (guided) filter, so it
follows walls and window frames without halos, then enlarged and applied per pixel.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from app.imaging._pixels import box_mean, luminance, map_rows, on_rgb, plane_rows, sample
from app.imaging.tone import NATURAL_MIDTONE

_BASE_RADIUS = 12  # pixels at the 512 px analysis size
_BASE_EPSILON = 0.01


def guided_smooth(guide: np.ndarray, radius: int, epsilon: float) -> np.ndarray:
    """Edge-preserving smoothing of a 2-D array guided by itself (He et al.'s guided filter)."""
    mean = box_mean(guide, radius)
    variance = box_mean(guide * guide, radius) - mean * mean
    a = variance / (variance + epsilon)
    b = mean - a * mean
    return box_mean(a, radius) * guide + box_mean(b, radius)


def light_gain_map(rgb: np.ndarray, shadows: float, highlights: float) -> np.ndarray:
    """Per-pixel slope for the lift curve: >1 brightens a dark neighbourhood, <1 calms a bright one."""
    base = np.clip(guided_smooth(luminance(rgb), _BASE_RADIUS, _BASE_EPSILON), 0.02, 1.0)
    offset = np.log(base / NATURAL_MIDTONE)
    strength = np.where(offset < 0, shadows, highlights)
    wanted = NATURAL_MIDTONE * np.exp(offset * (1.0 - strength))
    # Slope of the lift curve that takes `base` to `wanted`.
    gain = wanted * (1.0 - base) / (base * (1.0 - wanted) + 1e-6)
    return np.clip(gain, 0.5, 4.0).astype(np.float32)


def balance_light(image: Image.Image, *, shadows: float = 0.5, highlights: float = 0.3) -> Image.Image:
    """Open up shadows and calm highlights locally, as an HDR interior or backlit exterior needs."""
    return on_rgb(image, lambda rgb: _balance_rgb(rgb, shadows, highlights))


def _balance_rgb(image: Image.Image, shadows: float, highlights: float) -> Image.Image:
    gain_small = light_gain_map(sample(image), shadows, highlights)
    if np.abs(gain_small - 1.0).max() < 0.03:
        return image
    gain = Image.fromarray(gain_small, "F").resize(image.size, Image.Resampling.BILINEAR)

    def lift_band(pixels: np.ndarray, box) -> np.ndarray:
        slope = plane_rows(gain, box)[..., None]
        # The lift curve maps 1 to 1 for any slope, so clipped windows stay white, nothing new clips.
        return slope * pixels / (1.0 + (slope - 1.0) * pixels)

    return map_rows(image, lift_band)


def is_high_contrast(rgb: np.ndarray) -> bool:
    """True for backlit scenes: a large dark share and a bright share in the same frame."""
    lum = luminance(rgb)
    return float(np.mean(lum < 0.12)) > 0.2 and float(np.mean(lum > 0.85)) > 0.04
