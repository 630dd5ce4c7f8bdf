"""Measurements shared by the imaging tests."""

from __future__ import annotations

import numpy as np
from PIL import Image


def mean_luminance(image: Image.Image) -> float:
    """Mean Rec.601 luma, 0..1."""
    return float(np.asarray(image.convert("L"), dtype=np.float32).mean() / 255.0)


def luma_distance(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute luma difference in levels (0..255), b resized to a's size if needed."""
    if b.size != a.size:
        b = b.resize(a.size, Image.Resampling.BILINEAR)
    luma_a = np.asarray(a.convert("L"), dtype=np.float32)
    luma_b = np.asarray(b.convert("L"), dtype=np.float32)
    return float(np.abs(luma_a - luma_b).mean())


def newly_clipped_fraction(before: Image.Image, after: Image.Image) -> float:
    """Share of pixels with a channel at 255 (or all channels at 0) after but not before."""
    old = np.asarray(before.convert("RGB"))
    new = np.asarray(after.convert("RGB"))
    clipped_old = (old == 255).any(axis=-1) | (old == 0).all(axis=-1)
    clipped_new = (new == 255).any(axis=-1) | (new == 0).all(axis=-1)
    return float(np.mean(clipped_new & ~clipped_old))


def pixels(image: Image.Image) -> np.ndarray:
    """Float RGB array, 0..255."""
    return np.asarray(image.convert("RGB"), dtype=np.float32)
