"""Exterior edits: clean blue sky, greener lawn and a day-to-dusk grade.

Each edit first decides, on a small sample, whether it is sure there is something to edit (a
sky that is not already blue, a lawn that is grass, windows inside a facade). When it is not,
the strict form raises NothingToChange and the lenient form returns the photo untouched.
Regions are refined into edge-aware mattes (matte.py) and painted at full resolution band by
band, only over the rows they touch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from app.imaging import masks
from app.imaging._pixels import Box, luminance, map_rows, on_rgb, plane_rows, sample
from app.imaging.errors import NothingToChange
from app.imaging.matte import Matte, build_matte, local_mean_colour
from app.imaging.tone import lift, smoothstep

_ANALYSIS_SIDE = 400
_MATTE_SIDE = 800
# Colour stops from the top of the sky (0) down to its lower edge (1).
BLUE_SKY = ((0.0, (0.22, 0.45, 0.82)), (0.6, (0.42, 0.63, 0.90)), (1.0, (0.66, 0.80, 0.95)))
DUSK_SKY = ((0.0, (0.06, 0.09, 0.26)), (0.45, (0.22, 0.20, 0.42)), (0.8, (0.62, 0.38, 0.42)),
            (1.0, (0.93, 0.58, 0.32)))
HEALTHY_GRASS = np.array([0.67, 1.16, 0.40], dtype=np.float32)  # colour per unit of luminance
WINDOW_GLOW = np.array([0.98, 0.72, 0.38], dtype=np.float32)
_MAX_VALUE = 0.98  # targets stay inside the range so edits never create clipped pixels
_MIN_VALUE = 0.02
_MIN_LAWN_FRACTION = 0.01

NO_SKY = "No sky found to replace, so the photo was left as it was."
BLUE_ALREADY = "The sky is already a clear blue, so it was left as it was."
NO_LAWN = "No lawn found to green, so the photo was left as it was."
NO_DUSK_SKY = "No open sky found to turn into an evening sky, so the photo was left as it was."


def _lenient(edit):
    """The public form of a strict edit: photos it is unsure about come back unchanged."""
    def run(image: Image.Image, **params) -> Image.Image:
        try:
            return edit(image, **params)
        except NothingToChange:
            return image

    run.__doc__ = edit.__doc__
    return run


def enlarge_mask(mask: np.ndarray, size: tuple[int, int], feather: float = 1.0) -> Image.Image:
    """A small 0..1 mask, softened and resized to `size`, as an 8-bit plane."""
    small = Image.fromarray(np.clip(mask * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    if feather > 0:
        small = small.filter(ImageFilter.GaussianBlur(feather))
    return small.resize(size, Image.Resampling.BILINEAR)


def _row_span(mask: np.ndarray, full_height: int, margin: int = 4) -> tuple[int, int]:
    """Full-resolution row range covering a small mask, with a margin for the matte's soft edge."""
    rows = np.nonzero(mask.max(axis=1) > 0.01)[0]
    scale = full_height / mask.shape[0]
    return max(0, int((rows.min() - margin) * scale)), min(full_height, int((rows.max() + margin + 1) * scale))


@dataclass(frozen=True)
class _SkyPlan:
    """Everything a full-resolution sky repaint needs, measured once on small samples."""

    matte: Matte
    old_colour: Image.Image  # the existing sky's local average colour, full size
    bottom: int  # first full-resolution row below any sky
    horizon: int  # row where the gradient reaches its last stop
    typical: float  # median sky luminance


def find_sky(image: Image.Image) -> tuple[np.ndarray, np.ndarray]:
    """(sky mask, sample) at the matte's sample size; the mask is all zeros when no sky is found with confidence."""
    small = sample(image, _MATTE_SIDE)
    coarse = masks.sky_mask(sample(image, _ANALYSIS_SIDE))
    sky = np.asarray(Image.fromarray((coarse * 255).astype(np.uint8), "L").resize(
        small.shape[1::-1], Image.Resampling.NEAREST), dtype=np.float32) / 255.0
    # Keep only sky-coloured pixels of the sharper sample so the coarse mask's blocky edge does not leak.
    return sky * (masks.local_variation(luminance(small)) < 0.08), small


def _plan_sky(image: Image.Image) -> _SkyPlan | None:
    sky, small = find_sky(image)
    if sky.mean() < masks.MIN_SKY_FRACTION:
        return None
    scale = image.height / sky.shape[0]
    horizon = int((np.nonzero(sky.max(axis=1) > 0.5)[0].max() + 1) * scale)
    return _SkyPlan(build_matte(small, sky > 0.5, image.size), local_mean_colour(small, sky > 0.5, 24, image.size),
                    _row_span(sky, image.height)[1], max(horizon, 1), float(np.median(luminance(small)[sky > 0.5])))


def _gradient(stops, positions: np.ndarray) -> np.ndarray:
    """Interpolate colour stops at positions (0..1) into an (..., 3) array."""
    where = [stop[0] for stop in stops]
    return np.stack([np.interp(positions, where, [stop[1][c] for stop in stops]) for c in range(3)], axis=-1)


def _sky_shift(plan: _SkyPlan, pixels: np.ndarray, box: Box, stops) -> np.ndarray:
    """How much to add to each pixel: alpha * (new sky - old sky), so clouds and mixed edge pixels keep their share."""
    old = np.asarray(plan.old_colour.crop(box), dtype=np.float32) * (1.0 / 255.0)
    positions = np.clip(np.arange(box[1], box[3]) / plan.horizon, 0.0, 1.0)
    base = _gradient(stops, positions)[:, None, :].astype(np.float32)
    relative = np.clip(luminance(old) / max(plan.typical, 1e-3), 0.85, 1.08)[..., None]
    return (base * relative - old) * plan.matte.alpha(pixels, box)[..., None]


def _painted(pixels: np.ndarray, shift: np.ndarray, strength: float) -> np.ndarray:
    return np.clip(pixels + shift * strength, np.minimum(pixels, _MIN_VALUE), np.maximum(pixels, _MAX_VALUE))


def replace_sky(image: Image.Image, *, strength: float = 0.9) -> Image.Image:
    """Turn a washed-out sky into a clean blue gradient; NothingToChange without a sky or with a blue one."""
    return on_rgb(image, lambda rgb: _replace_sky_rgb(rgb, strength))


def _replace_sky_rgb(image: Image.Image, strength: float) -> Image.Image:
    plan = _plan_sky(image)
    if plan is None:
        raise NothingToChange(NO_SKY)
    small = sample(image, _ANALYSIS_SIDE)
    if masks.sky_is_already_blue(small, masks.sky_mask(small)):
        raise NothingToChange(BLUE_ALREADY)
    return map_rows(image, lambda pixels, box: _painted(pixels, _sky_shift(plan, pixels, box, BLUE_SKY), strength),
                    0, plan.bottom)


def find_lawn(small: np.ndarray, sky: np.ndarray) -> np.ndarray:
    """Grass (busy in every direction, grass-coloured, low in the frame), large patches only; zeros if none."""
    candidate = masks.lawn_mask(small, sky) > 0.5
    energy, horizontal = masks.directional_texture(luminance(small))
    # Grass has fine texture in every direction; painted siding, doors, boards and stone courses do not.
    grassy = candidate & (energy > 0.03) & (horizontal < 0.7)
    grassy = masks.dilate(masks.erode(grassy))
    labels = masks.label_components(grassy)
    keep = np.zeros_like(grassy)
    height = grassy.shape[0]
    for label, (area, top, bottom, _left, _right) in masks.component_table(labels).items():
        if area >= 0.004 * grassy.size and bottom >= 0.6 * height:
            keep |= labels == label
    if keep.mean() < _MIN_LAWN_FRACTION:
        return np.zeros(grassy.shape, dtype=np.float32)
    position = np.clip((np.arange(height) / height - 0.35) / 0.25, 0.0, 1.0)[:, None]
    return keep.astype(np.float32) * position


def green_the_lawn(image: Image.Image, *, strength: float = 0.7) -> Image.Image:
    """Make dry, yellowed grass a healthy green; NothingToChange when no lawn is found."""
    return on_rgb(image, lambda rgb: _green_lawn_rgb(rgb, strength))


def _green_lawn_rgb(image: Image.Image, strength: float) -> Image.Image:
    small = sample(image, _ANALYSIS_SIDE)
    sky = masks.sky_mask(small)
    if not sky.any():
        raise NothingToChange(NO_LAWN)  # a lawn photo shows where the garden meets the sky; interiors do not
    lawn = find_lawn(small, sky)
    if not lawn.any():
        raise NothingToChange(NO_LAWN)
    plane = enlarge_mask(lawn, image.size, feather=0.7)

    def paint(pixels: np.ndarray, box: Box) -> np.ndarray:
        hue, saturation = masks.hue_saturation(pixels)
        # Per-pixel colour check keeps fences, paths and walls at the lawn's edge out of it.
        grass = smoothstep(30, 45, hue) * (1 - smoothstep(150, 170, hue)) * smoothstep(0.10, 0.18, saturation)
        weight = plane_rows(plane, box) * grass * strength
        target = np.clip(luminance(pixels)[..., None] * 0.92 * HEALTHY_GRASS, _MIN_VALUE, _MAX_VALUE)
        return pixels + (target - pixels) * weight[..., None]

    return map_rows(image, paint, _row_span(lawn, image.height)[0])


def grade_to_dusk(image: Image.Image, *, strength: float = 1.0) -> Image.Image:
    """Evening grade: darker cool land, a deep blue-to-amber sky, warm windows; NothingToChange without sky."""
    return on_rgb(image, lambda rgb: _dusk_rgb(rgb, strength))


def find_windows(detailed: np.ndarray, sky: np.ndarray) -> np.ndarray:
    """Window-shaped dark patches inside the facade (not on columns, trim, branches or the sky)."""
    candidates = masks.window_mask(detailed, sky) > 0.5
    hue, saturation = masks.hue_saturation(detailed)
    foliage = (hue >= 60) & (hue <= 170) & (saturation > 0.2)
    energy, _ = masks.directional_texture(luminance(detailed))
    near_sky = sky > 0.5
    for _ in range(4):
        near_sky = masks.dilate(near_sky)
    # The facade: built, not sky, not greenery, not busy like branches against the sky.
    facade = ~near_sky & ~foliage & (energy < 0.25)
    return masks.keep_windows(candidates, facade | candidates, max_fraction=0.05)


def _dusk_rgb(image: Image.Image, strength: float) -> Image.Image:
    plan = _plan_sky(image)
    if plan is None:
        raise NothingToChange(NO_DUSK_SKY)
    detailed = sample(image, _MATTE_SIDE)
    sky_detailed = np.asarray(plan.matte.zone.resize(detailed.shape[1::-1]), dtype=np.float32) / 255.0
    windows = find_windows(detailed, sky_detailed).astype(np.float32)
    glow_plane = enlarge_mask(windows, image.size, feather=0.6)

    def grade(pixels: np.ndarray, box: Box) -> np.ndarray:
        graded = _dusk_land(pixels)
        if box[1] < plan.bottom:
            # The sky is painted over the darkened land by the same matte, so edges stay clean.
            alpha = plan.matte.alpha(pixels, box)[..., None]
            old = np.asarray(plan.old_colour.crop(box), dtype=np.float32) * (1.0 / 255.0)
            positions = np.clip(np.arange(box[1], box[3]) / plan.horizon, 0.0, 1.0)
            sky = _gradient(DUSK_SKY, positions)[:, None, :].astype(np.float32)
            detail = (pixels - old) * 0.5  # clouds survive, softened
            graded += (np.clip(sky + detail, _MIN_VALUE, _MAX_VALUE) - graded) * alpha
        glow = plane_rows(glow_plane, box)[..., None]
        lit = WINDOW_GLOW * (0.6 + 0.4 * np.clip(luminance(pixels) / 0.4, 0.0, 1.0))[..., None]
        graded = np.minimum(graded + (lit - graded) * glow * 0.9, _MAX_VALUE)
        return pixels + (graded - pixels) * strength

    return map_rows(image, grade)


def _dusk_land(pixels: np.ndarray) -> np.ndarray:
    """About 1.5 stops darker, cooler and a little less saturated, as at blue hour."""
    darker = lift(pixels, 0.4) * np.array([0.82, 0.88, 1.0], dtype=np.float32)
    grey = luminance(darker)[..., None]
    return grey + (darker - grey) * 0.75


blue_sky = _lenient(replace_sky)
green_lawn = _lenient(green_the_lawn)
day_to_dusk = _lenient(grade_to_dusk)
