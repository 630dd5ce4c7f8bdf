"""Photo-quality measures a person would agree with, shared by the quality suite and the contact sheet.

All take 8-bit RGB PIL images (before, after) of the same size unless said otherwise.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from app.imaging.matte import grow

CHANGE_LEVELS = 6  # a pixel counts as changed when a channel moves by more than this (out of 255)


def _rgb(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.int16)


def clipped(image: Image.Image) -> np.ndarray:
    """Pixels with any channel at 0 or 255: blown highlights, crushed colour or black."""
    array = _rgb(image)
    return ((array == 255) | (array == 0)).any(axis=-1)


def newly_clipped(before: Image.Image, after: Image.Image) -> float:
    """Share of pixels clipped (any channel at 0 or 255) after an edit that were not before."""
    return float(np.mean(clipped(after) & ~clipped(before)))


def clipped_share_added(before: Image.Image, after: Image.Image) -> float:
    """Growth in the share of clipped pixels, for edits that move pixels (straightening), where
    comparing pixel by pixel would compare different parts of the scene."""
    return float(clipped(after).mean() - clipped(before).mean())


def mean_luma(image: Image.Image) -> float:
    """Mean Rec.601 luma in levels (0..255); a natural interior sits around 100-140."""
    return float(np.asarray(image.convert("L"), dtype=np.float32).mean())


def colour_cast(image: Image.Image) -> float:
    """How far the photo's near-neutral surfaces are from grey, in levels (warm or cool tint)."""
    array = _rgb(image).astype(np.float32)
    chroma = array.max(axis=-1) - array.min(axis=-1)
    luma = array.mean(axis=-1)
    neutral = (chroma < 40) & (luma > 50) & (luma < 245)
    if neutral.sum() < 100:
        return 0.0
    red, green, blue = (array[..., c][neutral].mean() for c in range(3))
    return float(np.hypot(red - green, blue - green))


def changed(before: Image.Image, after: Image.Image) -> np.ndarray:
    """Pixels an edit visibly changed."""
    if before.size != after.size:
        return np.ones((after.height, after.width), dtype=bool)
    return (np.abs(_rgb(after) - _rgb(before)) > CHANGE_LEVELS).any(axis=-1)


def changed_nothing(before: Image.Image, after: Image.Image) -> bool:
    """True when no pixel visibly changed (the "did nothing, charge nothing" case)."""
    return not changed(before, after).any()


def changed_outside(before: Image.Image, after: Image.Image, intended: np.ndarray) -> float:
    """Share of all pixels changed outside the intended region (a boolean array at the image's size)."""
    return float(np.mean(changed(before, after) & ~intended))


def _hue_saturation(array: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    high, low = array.max(axis=-1), array.min(axis=-1)
    spread = np.maximum(high - low, 1e-6)
    red, green, blue = array[..., 0], array[..., 1], array[..., 2]
    hue = np.where(high == red, ((green - blue) / spread) % 6,
                   np.where(high == green, (blue - red) / spread + 2, (red - green) / spread + 4)) * 60
    return np.where(high - low > 1e-6, hue, 0.0), (high - low) / np.maximum(high, 1e-6)


def sky_region(image: Image.Image) -> np.ndarray:
    """Where sky could be, judged independently of the engine: sky-coloured (blue, or near-white and not
    warm) in the upper three quarters, plus a few pixels of edge so antialiased rooflines may blend."""
    array = _rgb(image).astype(np.float32) / 255.0
    hue, saturation = _hue_saturation(array)
    luma = array.mean(axis=-1)
    blueish = (hue >= 170) & (hue <= 260) & (luma > 0.3)
    pale = (saturation < 0.2) & (luma > 0.6) & (array[..., 0] <= array[..., 2] + 0.04)
    upper = np.arange(array.shape[0])[:, None] < array.shape[0] * 0.75
    return grow((blueish | pale) & upper, 2)


def lawn_region(image: Image.Image) -> np.ndarray:
    """Where a lawn could be: grass-coloured (dry yellow-green to green) pixels in the lower two thirds,
    plus two pixels of edge."""
    array = _rgb(image).astype(np.float32) / 255.0
    hue, saturation = _hue_saturation(array)
    grassy = (hue >= 30) & (hue <= 160) & (saturation > 0.1)
    lower = np.arange(array.shape[0])[:, None] > array.shape[0] * 0.33
    return grow(grassy & lower, 2)
