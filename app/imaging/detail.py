"""Detail and colour: sharpening, vibrance and light noise reduction, built from C-speed Pillow passes.

Sharpening and vibrance share one trick: both are "move away from a reference image".
Vibrance moves away from the grey (luma) image, sharpening away from a blurred luma, so
the two fuse into a single extrapolating blend against one grey reference.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image, ImageChops, ImageFilter

from app.imaging._pixels import channel_max, channel_min, map_bands, on_rgb, pixel_sample


def _neighbour_mean(luma: Image.Image) -> Image.Image:
    """Mean of the four neighbours (edges repeated): the blur behind Laplacian sharpening.

    Built from shifted copies and blends because each is a cheap C pass, several times
    faster than any Pillow blur filter on a 12-megapixel image.
    """
    width, height = luma.size

    def shifted(dx: int, dy: int) -> Image.Image:
        moved = ImageChops.offset(luma, dx, dy)
        # offset() wraps around; repeat the original edge row or column instead.
        if dx:
            column = 0 if dx > 0 else width - 1
            moved.paste(luma.crop((column, 0, column + 1, height)), (column, 0))
        if dy:
            row = 0 if dy > 0 else height - 1
            moved.paste(luma.crop((0, row, width, row + 1)), (0, row))
        return moved

    horizontal = Image.blend(shifted(1, 0), shifted(-1, 0), 0.5)
    vertical = Image.blend(shifted(0, 1), shifted(0, -1), 0.5)
    return Image.blend(horizontal, vertical, 0.5)


def _shadow_floor() -> np.ndarray:
    """Darkest value sharpening may pull each level to: a fifth of the way to black and at most 8 levels
    down (the footroom tone curves leave), never 0."""
    levels = np.arange(256, dtype=np.float32)
    return np.maximum(np.ceil(np.maximum(levels * 0.8, levels - 8.0)), np.minimum(levels, 1.0))


def _highlight_ceiling() -> np.ndarray:
    """Brightest value sharpening may push each level to: a quarter of the way to white, never 255."""
    levels = np.arange(256, dtype=np.float32)
    return np.minimum(levels + (254.0 - levels) * 0.25, 254.0).clip(levels)


_CEILING = _highlight_ceiling()
_CEILING_TABLE = _CEILING.astype(np.uint8).tolist()
_FLOOR = _shadow_floor()
_FLOOR_TABLE = _FLOOR.astype(np.uint8).tolist()
_MIN_FUSED_BOOST = 0.08


def _sharpened_luma(luma: Image.Image, amount: float) -> Image.Image:
    """luma + amount * (luma - blur), with overshoot near white held back so edges do not clip."""
    sharp = Image.blend(_neighbour_mean(luma), luma, 1.0 + amount)
    sharp = ImageChops.darker(sharp, luma.point(_CEILING_TABLE))
    return ImageChops.lighter(sharp, luma.point(_FLOOR_TABLE))


def _grey_rgb(channel: Image.Image) -> Image.Image:
    """An RGB image with the same value in all three channels (merge is faster than convert)."""
    return Image.merge("RGB", (channel, channel, channel))


_MAX_NEW_CLIPPING = 0.005  # share of pixels vibrance may push to 0 or 255 in a channel


def adaptive_vibrance(rgb: Image.Image, amount: float) -> float:
    """Scale the saturation boost down for photos that are already colourful (no neon), and further
    until it would push almost no pixel to 0 or 255 (a blue sky's red channel, a red door's blue one)."""
    return vibrance_boost(pixel_sample(rgb, 256), amount)


def vibrance_boost(pixels: np.ndarray, amount: float) -> float:
    """adaptive_vibrance() measured on a float RGB sample (0..1) of the image it will be applied to."""
    small = pixels * 255.0
    chroma = float(np.mean(channel_max(small) - channel_min(small))) / 255.0
    boost = amount * float(np.clip(1.0 - chroma / 0.35, 0.25, 1.0))
    grey = (small @ np.array([0.299, 0.587, 0.114], dtype=np.float32))[..., None]
    # Pixels already at the edge of the range (a channel within 6 levels of it) and deep shadows are
    # left out: a channel going from 2 to 0 there loses nothing visible.
    was_clipped = ((small < 6.0) | (small > 249.0)).any(axis=-1) | (grey[..., 0] < 24.0)
    for _ in range(6):
        boosted = grey + (small - grey) * (1.0 + boost)
        # Clipping loses detail when a channel is pushed well past the end; a level or two is invisible.
        newly = ((boosted < -2.0) | (boosted > 257.0)).any(axis=-1) & ~was_clipped
        if float(np.mean(newly)) <= _MAX_NEW_CLIPPING:
            return boost if boost >= 0.01 else 0.0
        boost *= 0.6
    return 0.0


def vibrance(image: Image.Image, *, amount: float = 0.2) -> Image.Image:
    """Gentle saturation boost that backs off for colourful photos."""
    def run(rgb: Image.Image) -> Image.Image:
        boost = adaptive_vibrance(rgb, amount)
        return Image.blend(_grey_rgb(rgb.convert("L")), rgb, 1.0 + boost) if boost > 0 else rgb

    return on_rgb(image, run)


def sharpen(image: Image.Image, *, amount: float = 0.6) -> Image.Image:
    """Laplacian sharpening of luma only, so edges crisp up without coloured fringes."""
    if amount <= 0:
        return image
    return on_rgb(image, lambda rgb: _sharpen_rgb(rgb, amount))


def _sharpen_rgb(rgb: Image.Image, amount: float) -> Image.Image:
    luma = rgb.convert("L")
    # The luma change, stored around 128 because images cannot hold negatives.
    detail = ImageChops.subtract(_sharpened_luma(luma, amount), luma, offset=128)
    return ImageChops.add(rgb, _grey_rgb(detail), offset=-128)


def vibrance_and_sharpen(image: Image.Image, *, vibrance: float = 0.15, sharpen: float = 0.4) -> Image.Image:
    """Vibrance and luma sharpening in one blend: out = rgb + v*(rgb - ref), ref = luma - (sharp - luma)/v."""
    def run(rgb: Image.Image) -> Image.Image:
        boost = adaptive_vibrance(rgb, vibrance)
        return map_bands(rgb, lambda band: boosted_and_sharpened(band, boost, sharpen))

    return on_rgb(image, run)


def boosted_and_sharpened(rgb: Image.Image, boost: float, sharpen: float) -> Image.Image:
    """Vibrance by a fixed boost and luma sharpening of an RGB image (or band: it looks one pixel away)."""
    if boost < _MIN_FUSED_BOOST and sharpen > 0:
        # The grey reference can only carry sharpening up to about boost*128 levels; go separately.
        sharpened = _sharpen_rgb(rgb, sharpen)
        return Image.blend(_grey_rgb(sharpened.convert("L")), sharpened, 1.0 + boost) if boost > 0 else sharpened
    luma = rgb.convert("L")
    reference = _fused_reference(luma, sharpen, boost) if sharpen > 0 else luma
    return Image.blend(_grey_rgb(reference), rgb, 1.0 + boost) if boost > 0 else rgb


def _fused_reference(luma: Image.Image, sharpen: float, boost: float) -> Image.Image:
    """luma - (sharp - luma) / boost, built directly: the limits on `sharp` become limits here, swapped."""
    spread = Image.blend(luma, _neighbour_mean(luma), sharpen / boost)
    floor, ceiling = _reference_limits(round(boost, 4))
    return ImageChops.darker(ImageChops.lighter(spread, luma.point(floor)), luma.point(ceiling))


@lru_cache(maxsize=16)
def _reference_limits(boost: float) -> tuple[list[int], list[int]]:
    """Lookup tables bounding the fused reference, so sharpening neither clips highlights nor crushes shadows."""
    levels = np.arange(256, dtype=np.float32)
    floor = np.clip(levels - (_CEILING - levels) / boost, 0, 255).astype(np.uint8).tolist()
    ceiling = np.clip(levels + (levels - _FLOOR) / boost, 0, 255).astype(np.uint8).tolist()
    return floor, ceiling


def denoise(image: Image.Image, *, strength: float = 0.5) -> Image.Image:
    """Smooth colour blotches strongly and luma grain lightly, leaving edges alone."""
    if strength <= 0:
        return image
    return on_rgb(image, lambda rgb: _denoise_rgb(rgb, strength))


def _denoise_rgb(image: Image.Image, strength: float) -> Image.Image:
    luma, blue, red = image.convert("YCbCr").split()
    # Colour noise is coarse and the eye is blind to fine chroma detail, so blur chroma hard.
    factor = 4 if strength >= 0.5 else 2
    smooth = [_soften(channel, factor) for channel in (blue, red)]
    return Image.merge("YCbCr", (_edge_aware_smooth(luma, strength), *smooth)).convert("RGB")


def _soften(channel: Image.Image, factor: int) -> Image.Image:
    width, height = channel.size
    small = channel.reduce(factor)
    return small.resize(channel.size, Image.Resampling.BILINEAR, box=(0, 0, width / factor, height / factor))


def _edge_aware_smooth(channel: Image.Image, strength: float) -> Image.Image:
    """Blend toward a small blur only where the blur barely differs (flat, grainy areas)."""
    original = np.asarray(channel, dtype=np.float32)
    blurred = np.asarray(channel.filter(ImageFilter.BoxBlur(1)), dtype=np.float32)
    difference = blurred - original
    weight = strength * np.exp(-np.square(difference / 8.0))
    return Image.fromarray(np.clip(original + difference * weight + 0.5, 0, 255).astype(np.uint8), "L")
