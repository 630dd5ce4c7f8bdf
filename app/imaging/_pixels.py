"""Shared helpers: alpha handling, reduced-resolution samples and per-channel lookup tables."""

from __future__ import annotations

from typing import Callable

import numpy as np
from PIL import Image

STATS_LONG_SIDE = 512
LUMA_WEIGHTS = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)


def on_rgb(image: Image.Image, operation: Callable[[Image.Image], Image.Image]) -> Image.Image:
    """Run an RGB-only operation, carrying any alpha channel through untouched."""
    if image.mode == "RGB":
        return operation(image)
    if image.mode != "RGBA":
        return operation(image.convert("RGB"))
    alpha = image.getchannel("A")
    result = operation(image.convert("RGB"))
    if result.size != image.size:
        alpha = alpha.resize(result.size, Image.Resampling.BILINEAR)
    result.putalpha(alpha)
    return result


def sample(image: Image.Image, long_side: int = STATS_LONG_SIDE) -> np.ndarray:
    """A small float32 RGB copy (0..1) for statistics; cheap because reduce() box-averages in C."""
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    factor = -(-max(rgb.size) // long_side)
    small = rgb.reduce(factor) if factor > 1 else rgb
    return np.asarray(small, dtype=np.float32) / 255.0


def pixel_sample(image: Image.Image, long_side: int = 256) -> np.ndarray:
    """Every k-th pixel as float32 RGB (0..1): exact pixel values for histograms, almost free to take."""
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    factor = -(-max(rgb.size) // long_side)
    if factor > 1:
        rgb = rgb.resize((max(1, rgb.width // factor), max(1, rgb.height // factor)), Image.Resampling.NEAREST)
    return np.asarray(rgb, dtype=np.float32) / 255.0


def channel_max(rgb: np.ndarray) -> np.ndarray:
    """Per-pixel largest channel; faster than max(axis=-1) on interleaved RGB."""
    return np.maximum(np.maximum(rgb[..., 0], rgb[..., 1]), rgb[..., 2])


def channel_min(rgb: np.ndarray) -> np.ndarray:
    """Per-pixel smallest channel."""
    return np.minimum(np.minimum(rgb[..., 0], rgb[..., 1]), rgb[..., 2])


def luminance(rgb: np.ndarray) -> np.ndarray:
    """Rec.709 luma of a float RGB array."""
    return rgb @ LUMA_WEIGHTS


def curve_table(curves: np.ndarray) -> list[int]:
    """A (3, 256) float curve set (0..1 out) as the 768-entry lookup table Image.point takes."""
    return np.clip(np.rint(curves * 255.0), 0, 255).astype(np.uint8).reshape(-1).tolist()


def apply_curves(image: Image.Image, curves: np.ndarray) -> Image.Image:
    """Apply a (3, 256) float curve set (0..1 out) to an RGB image in one C pass."""
    return image.point(curve_table(curves))


def map_bands(image: Image.Image, operation: Callable[[Image.Image], Image.Image],
              rows: int = 64, overlap: int = 1, in_place: bool = False) -> Image.Image:
    """Run an image -> image operation band by band, each band seeing `overlap` rows of context.

    The result is the same as one whole-image call for operations that look at most `overlap`
    rows away, but every intermediate image is a few hundred kilobytes that stays in cache:
    on a 12-megapixel photo whole-image intermediates are 12-48 MB each, and a pass over them
    costs memory bandwidth that a busy machine does not have. in_place writes the bands back
    into `image` (which must be the caller's own, and overlap 0), saving a fresh full-size image.
    """
    width, height = image.size
    if in_place and overlap:
        raise ValueError("in-place bands cannot look at rows a previous band has already changed")
    result = image if in_place else Image.new(image.mode, image.size, None)  # every row is pasted over
    for top in range(0, height, rows):
        bottom = min(height, top + rows)
        start, end = max(0, top - overlap), min(height, bottom + overlap)
        band = operation(image.crop((0, start, width, end)))
        if start != top or end != bottom:
            band = band.crop((0, top - start, width, bottom - start))
        result.paste(band, (0, top))
    return result


def identity_curve() -> np.ndarray:
    """The 256 input levels as floats 0..1."""
    return np.linspace(0.0, 1.0, 256, dtype=np.float32)


def to_image(array: np.ndarray) -> Image.Image:
    """Float RGB (0..1) back to an 8-bit RGB image."""
    return Image.fromarray(np.clip(array * 255.0 + 0.5, 0, 255).astype(np.uint8), "RGB")


Box = tuple[int, int, int, int]


def map_rows(image: Image.Image, compute: Callable[[np.ndarray, Box], np.ndarray],
             first_row: int = 0, last_row: int | None = None, rows: int = 64) -> Image.Image:
    """Apply a float RGB function (pixels 0..1, box) -> pixels band by band over rows [first, last).

    Same result as one whole-image numpy expression, but the temporaries stay small enough to
    live in cache instead of costing hundreds of megabytes on a 12-megapixel photo.
    """
    width, height = image.size
    last_row = height if last_row is None else last_row
    result = image.copy()
    for top in range(first_row, last_row, rows):
        box = (0, top, width, min(last_row, top + rows))
        pixels = np.asarray(image.crop(box), dtype=np.float32) * (1.0 / 255.0)
        result.paste(to_image(compute(pixels, box)), box[:2])
    return result


def plane_rows(plane: Image.Image, box: Box) -> np.ndarray:
    """A band of a full-size single-channel plane as float32 (L planes scaled to 0..1)."""
    values = np.asarray(plane.crop(box), dtype=np.float32)
    return values * (1.0 / 255.0) if plane.mode == "L" else values


def box_mean(values: np.ndarray, radius: int) -> np.ndarray:
    """Mean over a (2r+1)² window using summed-area tables, edges handled by shrinking the window."""
    padded = np.pad(values.astype(np.float64), ((1, 0), (1, 0))).cumsum(axis=0).cumsum(axis=1)
    height, width = values.shape
    rows = np.arange(height)
    cols = np.arange(width)
    top, bottom = np.clip(rows - radius, 0, height), np.clip(rows + radius + 1, 0, height)
    left, right = np.clip(cols - radius, 0, width), np.clip(cols + radius + 1, 0, width)
    total = (padded[bottom][:, right] - padded[top][:, right] - padded[bottom][:, left] + padded[top][:, left])
    area = np.outer(bottom - top, right - left)
    return (total / area).astype(np.float32)
