"""Global tone: white balance, exposure and contrast as per-channel curves.

Each curve builder reads statistics from a small float sample and returns a (3, 256) table;
tables compose, so a chain of tone steps costs one lookup pass over the full image.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from app.imaging._pixels import (
    LUMA_WEIGHTS, apply_curves, channel_max, channel_min, identity_curve, luminance, on_rgb, pixel_sample,
)

NATURAL_MIDTONE = 0.45
Curves = np.ndarray  # shape (3, 256), values 0..1


def smoothstep(edge0: float, edge1: float, x: np.ndarray) -> np.ndarray:
    """Hermite ramp from 0 at edge0 to 1 at edge1."""
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def lift(x: np.ndarray, gain: np.ndarray | float) -> np.ndarray:
    """Rational tone curve: slope `gain` in the shadows and 1 maps to 1, so highlights never clip."""
    return gain * x / (1.0 + (gain - 1.0) * x)


def compose(first: Curves, then: Curves) -> Curves:
    """The curves of applying `first` and then `then`."""
    levels = identity_curve()
    return np.stack([np.interp(first[c], levels, then[c]) for c in range(3)]).astype(np.float32)


def curves_on_sample(rgb: np.ndarray, curves: Curves) -> np.ndarray:
    """Apply curves to a float sample (linear interpolation), so the next step measures the result."""
    position = np.clip(rgb, 0.0, 1.0) * 255.0
    index = np.minimum(position.astype(np.intp), 254)
    fraction = position - index
    channel = np.arange(3)
    low = curves[channel, index]
    return (low + (curves[channel, index + 1] - low) * fraction).astype(np.float32)


def _monotonic(curves: Curves) -> Curves:
    return np.clip(np.maximum.accumulate(curves, axis=-1), 0.0, 1.0)


def estimate_cast(rgb: np.ndarray) -> np.ndarray:
    """Per-channel illuminant estimate (shades-of-grey, p=6) over well-exposed pixels, mean 1."""
    pixels = rgb.reshape(-1, 3)
    usable = (luminance(pixels) > 0.08) & (channel_max(pixels) < 0.97)
    if usable.sum() < 500:
        return np.ones(3, dtype=np.float32)
    cubed = pixels[usable] ** 3
    illuminant = np.mean(cubed * cubed, axis=0) ** (1.0 / 6.0)
    return (illuminant / illuminant.mean()).astype(np.float32)


def white_balance_curves(rgb: np.ndarray, strength: float = 0.8) -> Curves:
    """Curves that neutralise most of a colour cast while keeping near-whites white."""
    levels = identity_curve()
    gains = np.clip((1.0 / estimate_cast(rgb)) ** strength, 0.7, 1.45)
    if np.abs(gains - 1.0).max() < 0.015:
        return np.stack([levels] * 3)
    # Scale so no gain exceeds 1 (nothing clips), then restore brightness with a shoulder curve.
    gains = gains / gains.max()
    brightness = float(gains @ LUMA_WEIGHTS)
    balanced = np.stack([lift(levels * g, 1.0 / brightness) for g in gains])
    protect = smoothstep(0.82, 1.0, levels)
    return _monotonic(balanced * (1.0 - protect) + levels * protect)


def exposure_curves(rgb: np.ndarray, target: float = NATURAL_MIDTONE, strength: float = 1.0) -> Curves:
    """Levels from robust percentiles, then a shadow-lifting curve that moves the median to target."""
    black = float(np.percentile(channel_min(rgb), 0.3))
    black = black if 0.015 < black < 0.12 else 0.0
    # The margin keeps JPEG-quantised levels just under the white point from all clipping together.
    white = float(np.percentile(channel_max(rgb), 99.8)) + 2.0 / 255.0
    white = max(white if white < 0.96 else 1.0, black + 0.15)
    levelled = np.clip((luminance(rgb) - black) / (white - black), 0.0, 1.0)
    median = float(np.clip(np.median(levelled), 0.02, 0.98))
    gain = target * (1.0 - median) / (median * (1.0 - target))
    # Bright, airy interiors are a style, so darken only photos that are clearly overexposed.
    gain = float(np.clip(gain, 1.0 if median < 0.7 else 0.85, 3.5)) ** strength
    curve = lift(np.clip((identity_curve() - black) / (white - black), 0.0, 1.0), gain)
    return np.stack([curve, curve, curve])


def contrast_curves(amount: float = 0.12) -> Curves:
    """A gentle S-curve; smoothstep keeps 0 and 1 fixed with flat ends, so it never clips."""
    levels = identity_curve()
    curve = levels + (smoothstep(0.0, 1.0, levels) - levels) * float(np.clip(amount * 2.0, 0.0, 1.0))
    return np.stack([curve, curve, curve])


def tone_curves(rgb: np.ndarray, *, white_balance: float, exposure: float, contrast: float,
                target: float = NATURAL_MIDTONE) -> Curves:
    """White balance, then exposure measured on the balanced sample, then contrast, as one table."""
    curves = white_balance_curves(rgb, white_balance)
    balanced = curves_on_sample(rgb, curves)
    curves = compose(curves, exposure_curves(balanced, target, exposure))
    return compose(curves, contrast_curves(contrast))


def headroom_curves(room: float = 4.0 / 255.0) -> Curves:
    """Ease the top of the range down by `room`, leaving pure white alone.

    Sharpening and vibrance push bright edges up a few levels; easing highlights first keeps
    them from clipping. Only already-clipped pixels stay at 255.
    """
    levels = identity_curve()
    curve = levels - room * smoothstep(0.8, 1.0 - 1.0 / 255.0, levels)
    curve[-1] = 1.0
    return np.stack([curve, curve, curve])


def footroom_curves(room: float = 8.0 / 255.0) -> Curves:
    """Lift the bottom of the range by up to `room`, leaving pure black alone.

    The counterpart of headroom_curves: sharpening and vibrance pull dark channels down a few
    levels, and a channel already near 0 would land on it. Only already-black levels stay at 0.
    """
    levels = identity_curve()
    curve = levels + room * (1.0 - smoothstep(0.0, 0.12, levels))
    curve[0] = 0.0
    return np.stack([curve, curve, curve])


def white_balance(image: Image.Image, *, strength: float = 0.8) -> Image.Image:
    """Neutralise a tungsten/fluorescent colour cast, keeping near-white highlights white."""
    return on_rgb(image, lambda rgb: apply_curves(rgb, white_balance_curves(pixel_sample(rgb), strength)))


def auto_exposure(image: Image.Image, *, target: float = NATURAL_MIDTONE, strength: float = 1.0) -> Image.Image:
    """Stretch levels and lift mid-tones toward a natural exposure without clipping highlights."""
    return on_rgb(image, lambda rgb: apply_curves(rgb, exposure_curves(pixel_sample(rgb), target, strength)))


def contrast(image: Image.Image, *, amount: float = 0.12) -> Image.Image:
    """Gentle S-curve contrast tuned for interiors."""
    return on_rgb(image, lambda rgb: apply_curves(rgb, contrast_curves(amount)))
