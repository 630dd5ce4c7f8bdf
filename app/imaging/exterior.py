"""Exterior edits: clean blue sky, greener lawn and a day-to-dusk grade.

Masks and statistics come from a small sample (see masks.py); colours are computed at full
resolution band by band, and only over the rows a mask touches, so the rest stays untouched.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from app.imaging import masks
from app.imaging._pixels import Box, luminance, map_rows, on_rgb, plane_rows, sample
from app.imaging.tone import lift, smoothstep

_ANALYSIS_SIDE = 400
# Colour stops from the top of the sky (0) down to its lower edge (1).
BLUE_SKY = ((0.0, (0.22, 0.45, 0.82)), (0.6, (0.42, 0.63, 0.90)), (1.0, (0.66, 0.80, 0.95)))
DUSK_SKY = ((0.0, (0.06, 0.09, 0.26)), (0.45, (0.22, 0.20, 0.42)), (0.8, (0.62, 0.38, 0.42)),
            (1.0, (0.93, 0.58, 0.32)))
WHITE_CLOUD = np.ones(3, dtype=np.float32)
DUSK_CLOUD = np.array([0.95, 0.62, 0.55], dtype=np.float32)
HEALTHY_GRASS = np.array([0.67, 1.16, 0.40], dtype=np.float32)  # colour per unit of luminance
WINDOW_GLOW = np.array([0.98, 0.72, 0.38], dtype=np.float32)
_MAX_VALUE = 0.98  # targets stay just below white so edits never create clipped pixels


def enlarge_mask(mask: np.ndarray, size: tuple[int, int], feather: float = 1.0) -> Image.Image:
    """A small 0..1 mask, softened and resized to `size`, as an 8-bit plane."""
    small = Image.fromarray(np.clip(mask * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    if feather > 0:
        small = small.filter(ImageFilter.GaussianBlur(feather))
    return small.resize(size, Image.Resampling.BILINEAR)


def _mask_rows(mask: np.ndarray, full_height: int) -> tuple[int, int]:
    """Full-resolution row range covering the mask, with a margin for feathering."""
    rows = np.nonzero(mask.max(axis=1) > 0.01)[0]
    scale = full_height / mask.shape[0]
    return max(0, int((rows.min() - 3) * scale)), min(full_height, int((rows.max() + 4) * scale))


@dataclass(frozen=True)
class _SkyPlan:
    """Everything a full-resolution sky repaint needs, measured once on the small sample."""

    plane: Image.Image  # full-size soft mask
    bottom: int  # first full-resolution row below any sky
    horizon: int  # row where the gradient reaches its last stop
    floor: float  # darkest luminance that still counts as sky
    typical: float  # median sky luminance, the level clouds are measured against


def _plan_sky(image: Image.Image, small: np.ndarray) -> _SkyPlan | None:
    sky = masks.sky_mask(small)
    if not sky.any():
        return None
    lum = luminance(small)[sky > 0.5]
    scale = image.height / sky.shape[0]
    horizon = int((np.nonzero(sky.max(axis=1) > 0.5)[0].max() + 1) * scale)
    return _SkyPlan(enlarge_mask(sky, image.size), _mask_rows(sky, image.height)[1], max(horizon, 1),
                    float(np.percentile(lum, 5)), float(np.median(lum)))


def _gradient(stops, positions: np.ndarray) -> np.ndarray:
    """Interpolate colour stops at positions (0..1) into an (..., 3) array."""
    where = [stop[0] for stop in stops]
    return np.stack([np.interp(positions, where, [stop[1][c] for stop in stops]) for c in range(3)], axis=-1)


def _sky_band(plan: _SkyPlan, pixels: np.ndarray, box: Box, stops, cloud: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(new sky colours, weight) for one band: the gradient, shaded by the old sky so clouds survive."""
    lum = luminance(pixels)
    # Trim the enlarged mask to sky-bright pixels so roofs and branches keep crisp edges.
    weight = plane_rows(plan.plane, box) * smoothstep(plan.floor - 0.2, plan.floor - 0.05, lum)
    positions = np.clip(np.arange(box[1], box[3]) / plan.horizon, 0.0, 1.0)
    base = _gradient(stops, positions)[:, None, :].astype(np.float32)
    relative = lum / max(plan.typical, 1e-3)
    target = base * np.clip(relative, 0.8, 1.08)[..., None]
    cloudiness = smoothstep(1.03, 1.3, relative)[..., None] * 0.85
    return np.minimum(target + (cloud * lum[..., None] - target) * cloudiness, _MAX_VALUE), weight


def blue_sky(image: Image.Image, *, strength: float = 0.85) -> Image.Image:
    """Turn a washed-out sky into a clean blue gradient; photos without sky come back unchanged."""
    return on_rgb(image, lambda rgb: _blue_sky_rgb(rgb, strength))


def _blue_sky_rgb(image: Image.Image, strength: float) -> Image.Image:
    plan = _plan_sky(image, sample(image, _ANALYSIS_SIDE))
    if plan is None:
        return image

    def paint(pixels: np.ndarray, box: Box) -> np.ndarray:
        target, weight = _sky_band(plan, pixels, box, BLUE_SKY, WHITE_CLOUD)
        return pixels + (target - pixels) * (weight * strength)[..., None]

    return map_rows(image, paint, 0, plan.bottom)


def green_lawn(image: Image.Image, *, strength: float = 0.7) -> Image.Image:
    """Make dry, yellowed grass a healthy green; only grass-coloured regions low in the frame change."""
    return on_rgb(image, lambda rgb: _green_lawn_rgb(rgb, strength))


def _green_lawn_rgb(image: Image.Image, strength: float) -> Image.Image:
    small = sample(image, _ANALYSIS_SIDE)
    lawn = masks.lawn_mask(small, masks.sky_mask(small))
    if lawn.mean() < 0.005:
        return image
    plane = enlarge_mask(lawn, image.size)

    def paint(pixels: np.ndarray, box: Box) -> np.ndarray:
        hue, saturation = masks.hue_saturation(pixels)
        # Per-pixel colour check keeps fences, paths and walls at the lawn's edge out of it.
        grass = smoothstep(25, 40, hue) * (1 - smoothstep(150, 170, hue)) * smoothstep(0.08, 0.16, saturation)
        weight = plane_rows(plane, box) * grass * strength
        target = np.minimum(luminance(pixels)[..., None] * 0.92 * HEALTHY_GRASS, _MAX_VALUE)
        return pixels + (target - pixels) * weight[..., None]

    return map_rows(image, paint, _mask_rows(lawn, image.height)[0])


def day_to_dusk(image: Image.Image, *, strength: float = 1.0) -> Image.Image:
    """Evening grade: darker cool land, a deep blue-to-amber sky and warm glowing windows."""
    return on_rgb(image, lambda rgb: _dusk_rgb(rgb, strength))


def _dusk_rgb(image: Image.Image, strength: float) -> Image.Image:
    plan = _plan_sky(image, sample(image, _ANALYSIS_SIDE))
    # Panes are small, so windows are looked for at twice the analysis size.
    detailed = sample(image, 2 * _ANALYSIS_SIDE)
    sky_detailed = np.zeros(detailed.shape[:2], dtype=np.float32)
    if plan is not None:
        sky_detailed = np.asarray(plan.plane.resize(sky_detailed.shape[::-1]), dtype=np.float32) / 255.0
    windows = masks.window_mask(detailed, sky_detailed)
    glow_plane = enlarge_mask(windows, image.size, feather=0.7)
    bloom_plane = enlarge_mask(windows, image.size, feather=4.0)

    def grade(pixels: np.ndarray, box: Box) -> np.ndarray:
        graded = _dusk_land(pixels)
        if plan is not None and box[1] < plan.bottom:
            target, weight = _sky_band(plan, pixels, box, DUSK_SKY, DUSK_CLOUD)
            graded += (target - graded) * weight[..., None]
        lit = WINDOW_GLOW * (0.6 + 0.4 * np.clip(luminance(pixels) / 0.4, 0.0, 1.0))[..., None]
        graded += (lit - graded) * plane_rows(glow_plane, box)[..., None] * 0.9
        graded = np.minimum(graded + WINDOW_GLOW * plane_rows(bloom_plane, box)[..., None] * 0.2, _MAX_VALUE)
        return pixels + (graded - pixels) * strength

    return map_rows(image, grade)


def _dusk_land(pixels: np.ndarray) -> np.ndarray:
    """About 1.5 stops darker, cooler and a little less saturated, as at blue hour."""
    darker = lift(pixels, 0.4) * np.array([0.82, 0.88, 1.0], dtype=np.float32)
    grey = luminance(darker)[..., None]
    return grey + (darker - grey) * 0.75
