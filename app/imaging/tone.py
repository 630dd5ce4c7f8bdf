"""Global tone and colour: white balance, exposure, contrast and vibrance as per-channel curves.

Statistics come from a small sample; the result is applied at full resolution through
lookup tables in one C pass, so these operations cost about as much as a copy.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from app.imaging._pixels import apply_curves, identity_curve, luminance, on_rgb, sample

NATURAL_MIDTONE = 0.45


def _smoothstep(edge0: float, edge1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _lift(x: np.ndarray, gain: float) -> np.ndarray:
    """Rational tone curve: slope `gain` in the shadows, 1 maps to 1, so highlights never clip."""
    return gain * x / (1.0 + (gain - 1.0) * x)


def _monotonic(curves: np.ndarray) -> np.ndarray:
    return np.clip(np.maximum.accumulate(curves, axis=-1), 0.0, 1.0)


def white_balance(image: Image.Image, *, strength: float = 0.8) -> Image.Image:
    """Neutralise a tungsten/fluorescent colour cast, keeping near-white highlights white."""
    return on_rgb(image, lambda rgb: _white_balance_rgb(rgb, strength))


def estimate_cast(rgb: np.ndarray) -> np.ndarray:
    """Per-channel illuminant estimate (shades-of-grey, p=6) over well-exposed pixels, mean 1."""
    pixels = rgb.reshape(-1, 3)
    lum = luminance(pixels)
    usable = (lum > 0.08) & (pixels.max(axis=1) < 0.97)
    if usable.sum() < 500:
        return np.ones(3, dtype=np.float32)
    illuminant = np.mean(pixels[usable] ** 6, axis=0) ** (1.0 / 6.0)
    return (illuminant / illuminant.mean()).astype(np.float32)


def _white_balance_rgb(image: Image.Image, strength: float) -> Image.Image:
    cast = estimate_cast(sample(image))
    gains = np.clip((1.0 / cast) ** strength, 0.7, 1.45)
    if np.abs(gains - 1.0).max() < 0.015:
        return image
    # Scale so no gain exceeds 1 (nothing clips), then restore brightness with a shoulder curve.
    gains = gains / gains.max()
    brightness = float(gains @ np.array([0.2126, 0.7152, 0.0722]))
    x = identity_curve()
    balanced = np.stack([_lift(np.minimum(x * g, 1.0), 1.0 / brightness) for g in gains])
    protect = _smoothstep(0.82, 1.0, x)
    return apply_curves(image, _monotonic(balanced * (1.0 - protect) + x * protect))


def auto_exposure(image: Image.Image, *, target: float = NATURAL_MIDTONE, strength: float = 1.0) -> Image.Image:
    """Stretch levels and lift (or gently lower) mid-tones toward a natural exposure."""
    return on_rgb(image, lambda rgb: apply_curves(rgb, exposure_curves(sample(rgb), target, strength)))


def exposure_curves(rgb: np.ndarray, target: float, strength: float) -> np.ndarray:
    """Levels from robust percentiles, then a rational mid-tone curve solved for the target."""
    lum = luminance(rgb).ravel()
    black = float(np.percentile(rgb.min(axis=2), 0.3))
    black = black if 0.015 < black < 0.12 else 0.0
    white = float(np.percentile(rgb.max(axis=2), 99.7))
    white = white if white < 0.96 else 1.0
    white = max(white, black + 0.15)
    levelled = np.clip((lum - black) / (white - black), 0.0, 1.0)
    median = float(np.clip(np.median(levelled), 0.02, 0.98))
    gain = target * (1.0 - median) / (median * (1.0 - target))
    gain = float(np.clip(gain, 0.8, 3.5)) ** strength
    x = identity_curve()
    curve = _lift(np.clip((x - black) / (white - black), 0.0, 1.0), gain)
    return np.stack([curve, curve, curve])


def contrast_vibrance(image: Image.Image, *, contrast: float = 0.12, vibrance: float = 0.25) -> Image.Image:
    """Gentle S-curve contrast and vibrance that favours muted colours (no neon)."""
    return on_rgb(image, lambda rgb: _vibrance(_contrast(rgb, contrast), vibrance))


def _contrast(image: Image.Image, amount: float) -> Image.Image:
    if amount <= 0:
        return image
    x = identity_curve()
    # smoothstep keeps 0 and 1 fixed with flat ends, so contrast never clips.
    curve = x + (_smoothstep(0.0, 1.0, x) - x) * min(amount * 2.0, 1.0)
    return apply_curves(image, np.stack([curve, curve, curve]))


def _vibrance(image: Image.Image, amount: float) -> Image.Image:
    """Boost chroma in YCbCr with a curve that falls to nothing for already saturated colours."""
    if amount <= 0:
        return image
    offset = np.arange(256, dtype=np.float32) - 128.0
    falloff = np.clip(1.0 - np.abs(offset) / 72.0, 0.0, 1.0) ** 2
    chroma = np.clip(np.rint(128.0 + offset * (1.0 + amount * falloff)), 0, 255).astype(np.uint8)
    table = np.concatenate([np.arange(256, dtype=np.uint8), chroma, chroma])
    return image.convert("YCbCr").point(table.tolist()).convert("RGB")
