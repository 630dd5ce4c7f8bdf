"""Exterior edits: clean blue sky, greener lawn and a day-to-dusk grade.

Masks come from a small sample (see masks.py); colour changes are computed at full
resolution only inside the rows the mask touches, so the rest of the photo is untouched.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

from app.imaging import masks
from app.imaging._pixels import luminance, on_rgb, sample, to_image
from app.imaging.tone import lift, smoothstep

_ANALYSIS_SIDE = 400
# Colour stops from the top of the sky (0) down to its lower edge (1).
BLUE_SKY = ((0.0, (0.22, 0.45, 0.82)), (0.6, (0.42, 0.63, 0.90)), (1.0, (0.66, 0.80, 0.95)))
DUSK_SKY = ((0.0, (0.06, 0.09, 0.26)), (0.45, (0.22, 0.20, 0.42)), (0.8, (0.62, 0.38, 0.42)),
            (1.0, (0.93, 0.58, 0.32)))
HEALTHY_GRASS = np.array([0.67, 1.16, 0.40], dtype=np.float32)  # colour per unit of luminance
WINDOW_GLOW = np.array([0.98, 0.72, 0.38], dtype=np.float32)
_MAX_VALUE = 0.98  # targets stay just below white so edits never create clipped pixels


def enlarge_mask(mask: np.ndarray, size: tuple[int, int], feather: float = 1.0) -> np.ndarray:
    """A small 0..1 mask softened and resized to `size` (width, height)."""
    small = Image.fromarray(np.clip(mask * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    if feather > 0:
        small = small.filter(ImageFilter.GaussianBlur(feather))
    return np.asarray(small.resize(size, Image.Resampling.BILINEAR), dtype=np.float32) / 255.0


def _mask_rows(mask: np.ndarray, full_height: int) -> tuple[int, int]:
    """Full-resolution row range covering the mask, with a margin for feathering."""
    rows = np.nonzero(mask.max(axis=1) > 0.01)[0]
    scale = full_height / mask.shape[0]
    top = max(0, int((rows.min() - 3) * scale))
    bottom = min(full_height, int((rows.max() + 4) * scale))
    return top, bottom


def _gradient(stops, positions: np.ndarray) -> np.ndarray:
    """Interpolate colour stops at positions (0..1) into an (..., 3) array."""
    where = [stop[0] for stop in stops]
    return np.stack([np.interp(positions, where, [stop[1][c] for stop in stops]) for c in range(3)], axis=-1)


def _sky_target(pixels: np.ndarray, weight: np.ndarray, stops, cloud_tint: np.ndarray) -> np.ndarray:
    """New sky colours: the gradient, modulated by the old sky's brightness so clouds survive."""
    lum = luminance(pixels)
    sky_rows = np.nonzero(weight.max(axis=1) > 0.5)[0]
    horizon = max(int(sky_rows.max()) if sky_rows.size else pixels.shape[0], 1)
    positions = np.clip(np.arange(pixels.shape[0]) / horizon, 0.0, 1.0)
    base = _gradient(stops, positions)[:, None, :].astype(np.float32)
    typical = float(np.median(lum[weight > 0.5])) if np.any(weight > 0.5) else 0.8
    relative = lum / max(typical, 1e-3)
    target = base * np.clip(relative, 0.8, 1.08)[..., None]
    cloud = smoothstep(1.03, 1.3, relative)[..., None] * 0.85
    return np.minimum(target + (cloud_tint * lum[..., None] - target) * cloud, _MAX_VALUE)


def _sky_weight(pixels: np.ndarray, mask_full: np.ndarray) -> np.ndarray:
    """Trim the enlarged mask to pixels as bright as the sky, so roofs and branches keep their edges."""
    lum = luminance(pixels)
    core = lum[mask_full > 0.9]
    floor = float(np.percentile(core, 5)) if core.size else 0.5
    return mask_full * smoothstep(floor - 0.2, floor - 0.05, lum)


def blue_sky(image: Image.Image, *, strength: float = 0.85) -> Image.Image:
    """Turn a washed-out sky into a clean blue gradient; photos without sky come back unchanged."""
    return on_rgb(image, lambda rgb: _blue_sky_rgb(rgb, strength))


def _blue_sky_rgb(image: Image.Image, strength: float) -> Image.Image:
    sky = masks.sky_mask(sample(image, _ANALYSIS_SIDE))
    if not sky.any():
        return image
    _, bottom = _mask_rows(sky, image.height)
    band = image.crop((0, 0, image.width, bottom))
    pixels = np.asarray(band, dtype=np.float32) / 255.0
    weight = _sky_weight(pixels, enlarge_mask(sky, image.size)[:bottom])
    target = _sky_target(pixels, weight, BLUE_SKY, np.ones(3, dtype=np.float32))
    blended = pixels + (target - pixels) * (weight * strength)[..., None]
    result = image.copy()
    result.paste(to_image(blended), (0, 0))
    return result


def green_lawn(image: Image.Image, *, strength: float = 0.7) -> Image.Image:
    """Make dry, yellowed grass a healthy green; only grass-coloured regions low in the frame change."""
    return on_rgb(image, lambda rgb: _green_lawn_rgb(rgb, strength))


def _green_lawn_rgb(image: Image.Image, strength: float) -> Image.Image:
    small = sample(image, _ANALYSIS_SIDE)
    lawn = masks.lawn_mask(small, masks.sky_mask(small))
    if lawn.mean() < 0.005:
        return image
    top, _ = _mask_rows(lawn, image.height)
    band = image.crop((0, top, image.width, image.height))
    pixels = np.asarray(band, dtype=np.float32) / 255.0
    hue, saturation = masks.hue_saturation(pixels)
    # Per-pixel colour check keeps fences, paths and walls at the lawn's edge out of it.
    grass_colour = smoothstep(25, 40, hue) * (1 - smoothstep(150, 170, hue)) * smoothstep(0.08, 0.16, saturation)
    weight = enlarge_mask(lawn, image.size)[top:] * grass_colour * strength
    target = np.minimum(luminance(pixels)[..., None] * 0.92 * HEALTHY_GRASS, _MAX_VALUE)
    blended = pixels + (target - pixels) * weight[..., None]
    result = image.copy()
    result.paste(to_image(blended), (0, top))
    return result


def day_to_dusk(image: Image.Image, *, strength: float = 1.0) -> Image.Image:
    """Evening grade: darker cool land, a deep blue-to-amber sky and warm glowing windows."""
    return on_rgb(image, lambda rgb: _dusk_rgb(rgb, strength))


def _dusk_rgb(image: Image.Image, strength: float) -> Image.Image:
    sky = masks.sky_mask(sample(image, _ANALYSIS_SIDE))
    # Panes are small, so windows are looked for at twice the analysis size.
    detailed = sample(image, 2 * _ANALYSIS_SIDE)
    sky_detailed = enlarge_mask(sky, (detailed.shape[1], detailed.shape[0]), feather=0)
    windows = masks.window_mask(detailed, sky_detailed)
    pixels = np.asarray(image, dtype=np.float32) / 255.0
    graded = _dusk_land(pixels)
    if sky.any():
        weight = _sky_weight(pixels, enlarge_mask(sky, image.size))
        target = _sky_target(pixels, weight, DUSK_SKY, np.array([0.95, 0.62, 0.55], dtype=np.float32))
        graded += (target - graded) * weight[..., None]
    glow = enlarge_mask(windows, image.size, feather=0.7)[..., None]
    lit = WINDOW_GLOW * (0.6 + 0.4 * np.clip(luminance(pixels) / 0.4, 0.0, 1.0))[..., None]
    graded += (lit - graded) * glow * 0.9
    bloom = enlarge_mask(windows, image.size, feather=4.0)[..., None]
    graded = np.minimum(graded + WINDOW_GLOW * bloom * 0.2, _MAX_VALUE)
    return to_image(pixels + (graded - pixels) * strength)


def _dusk_land(pixels: np.ndarray) -> np.ndarray:
    """About 1.5 stops darker, cooler and a little less saturated, as at blue hour."""
    darker = lift(pixels, 0.4) * np.array([0.82, 0.88, 1.0], dtype=np.float32)
    grey = luminance(darker)[..., None]
    return grey + (darker - grey) * 0.75
