"""Edge-aware soft masks: a coarse mask refined per pixel at full resolution, so edits stop at edges.

Two refinements, both evaluated on full-resolution pixels so every edge sits exactly where the
photo has it (no blurred band, hence no halo along rooflines):
- colour unmixing: near the region's border a pixel is a blend of the region's local colour S
  and the neighbouring colour F; alpha = (p - F)·(S - F) / |S - F|² recovers the blend, so the
  antialiased edge pixels get exactly their share of the new colour;
- where S and F are too alike to unmix, a fast guided filter (He, Sun and Tang): alpha = a * luma
  + b, with the smooth a, b fitted on a small sample and enlarged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from app.imaging._pixels import Box, box_mean, luminance

_RADIUS = 4  # pixels at the sample's size
_EPSILON = 2e-3


@dataclass(frozen=True)
class Matte:
    """Full-size guided-filter coefficients (float planes) and the zone the matte may touch."""

    a: Image.Image
    b: Image.Image
    inside: Image.Image  # RGB 8-bit: the region's local colour S
    outside: Image.Image  # RGB 8-bit: the neighbouring colour F
    core: Image.Image  # 8-bit: 255 well inside the region, where alpha is 1 whatever the colour (clouds)
    zone: Image.Image  # 8-bit: 255 where the coarse region (slightly grown) is, 0 elsewhere

    def alpha(self, pixels: np.ndarray, box: Box) -> np.ndarray:
        """Soft 0..1 mask for one band of full-resolution float RGB pixels."""
        a = np.asarray(self.a.crop(box), dtype=np.float32)
        b = np.asarray(self.b.crop(box), dtype=np.float32)
        guided = a * luminance(pixels) + b
        inside = np.asarray(self.inside.crop(box), dtype=np.float32) * (1.0 / 255.0)
        outside = np.asarray(self.outside.crop(box), dtype=np.float32) * (1.0 / 255.0)
        axis = inside - outside
        length = np.einsum("...c,...c->...", axis, axis)
        unmixed = np.einsum("...c,...c->...", pixels - outside, axis) / np.maximum(length, 1e-4)
        alpha = np.where(length > 0.01, unmixed, guided)
        core = np.asarray(self.core.crop(box), dtype=np.float32) * (1.0 / 255.0)
        zone = np.asarray(self.zone.crop(box), dtype=np.float32) * (1.0 / 255.0)
        return np.clip(np.maximum(alpha, core), 0.0, 1.0) * zone


def guided_coefficients(guide: np.ndarray, source: np.ndarray, radius: int = _RADIUS,
                        epsilon: float = _EPSILON) -> tuple[np.ndarray, np.ndarray]:
    """Smoothed a, b of the guided filter so that a * guide + b follows `source` but keeps guide's edges."""
    mean_guide = box_mean(guide, radius)
    mean_source = box_mean(source, radius)
    covariance = box_mean(guide * source, radius) - mean_guide * mean_source
    variance = box_mean(guide * guide, radius) - mean_guide * mean_guide
    a = covariance / (variance + epsilon)
    b = mean_source - a * mean_guide
    return box_mean(a, radius), box_mean(b, radius)


def grow(mask: np.ndarray, steps: int) -> np.ndarray:
    """Binary dilation by `steps` pixels (4-neighbour)."""
    grown = mask.copy()
    for _ in range(steps):
        step = grown.copy()
        step[1:] |= grown[:-1]
        step[:-1] |= grown[1:]
        step[:, 1:] |= grown[:, :-1]
        step[:, :-1] |= grown[:, 1:]
        grown = step
    return grown


def build_matte(small: np.ndarray, coarse: np.ndarray, size: tuple[int, int], zone_steps: int = 3) -> Matte:
    """Refine a coarse 0/1 mask of a float RGB sample into a full-size edge-aware matte."""
    region = coarse > 0.5
    a, b = guided_coefficients(luminance(small), region.astype(np.float32))
    zone = grow(region, zone_steps)
    border = grow(region, 2 * zone_steps) & ~grow(region, 1)
    core = ~grow(~region, 3)
    return Matte(_enlarge(a, size), _enlarge(b, size), local_mean_colour(small, region, 8, size),
                 local_mean_colour(small, border, 8, size), _plane(core, size), _plane(zone, size))


def _plane(mask: np.ndarray, size: tuple[int, int]) -> Image.Image:
    return Image.fromarray(mask.astype(np.uint8) * 255, "L").resize(size, Image.Resampling.BILINEAR)


def _enlarge(values: np.ndarray, size: tuple[int, int]) -> Image.Image:
    return Image.fromarray(values.astype(np.float32), "F").resize(size, Image.Resampling.BILINEAR)


def local_mean_colour(small: np.ndarray, mask: np.ndarray, radius: int, size: tuple[int, int]) -> Image.Image:
    """The mask's average colour around every pixel (normalised box filter), full size as 8-bit RGB."""
    weight = mask.astype(np.float32)
    total = box_mean(weight, radius)
    fallback = small[weight > 0.5].mean(axis=0) if (weight > 0.5).any() else np.full(3, 0.5, np.float32)
    channels = []
    for c in range(3):
        mean = box_mean(small[..., c] * weight, radius) / np.maximum(total, 1e-4)
        channels.append(np.where(total > 1e-3, mean, fallback[c]))
    colour = np.clip(np.stack(channels, axis=-1) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return Image.fromarray(colour, "RGB").resize(size, Image.Resampling.BILINEAR)
