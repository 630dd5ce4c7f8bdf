"""Region masks for exteriors (sky, lawn, windows), computed on small float samples (0..1).

Masks are soft (0..1) arrays at the sample's size; callers enlarge them to full resolution.
Connectivity uses repeated constrained dilation, which is fast at a few hundred pixels.
"""

from __future__ import annotations

import numpy as np

from app.imaging._pixels import box_mean, channel_max, channel_min, luminance

MIN_SKY_FRACTION = 0.015


def hue_saturation(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """HSV hue in degrees (0..360) and saturation (0..1) of a float RGB array."""
    high = channel_max(rgb)
    low = channel_min(rgb)
    spread = high - low
    safe = np.where(spread > 1e-6, spread, 1.0)
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    hue = np.where(
        high == red,
        ((green - blue) / safe) % 6.0,
        np.where(high == green, (blue - red) / safe + 2.0, (red - green) / safe + 4.0),
    )
    hue = np.where(spread > 1e-6, hue * 60.0, 0.0)
    return hue.astype(np.float32), (spread / np.maximum(high, 1e-6)).astype(np.float32)


def dilate(mask: np.ndarray) -> np.ndarray:
    """4-neighbour binary dilation."""
    grown = mask.copy()
    grown[1:] |= mask[:-1]
    grown[:-1] |= mask[1:]
    grown[:, 1:] |= mask[:, :-1]
    grown[:, :-1] |= mask[:, 1:]
    return grown


def erode(mask: np.ndarray) -> np.ndarray:
    """4-neighbour binary erosion."""
    return ~dilate(~mask)


def grow_from(seeds: np.ndarray, allowed: np.ndarray, max_steps: int = 2000) -> np.ndarray:
    """Every allowed pixel connected to a seed through allowed pixels (flood fill)."""
    region = seeds & allowed
    for _ in range(max_steps):
        grown = dilate(region) & allowed
        if np.array_equal(grown, region):
            break
        region = grown
    return region


def local_variation(lum: np.ndarray) -> np.ndarray:
    """Largest absolute difference to a 4-neighbour: near 0 in sky, high on edges and texture."""
    variation = np.zeros_like(lum)
    variation[1:] = np.maximum(variation[1:], np.abs(lum[1:] - lum[:-1]))
    variation[:-1] = np.maximum(variation[:-1], np.abs(lum[1:] - lum[:-1]))
    variation[:, 1:] = np.maximum(variation[:, 1:], np.abs(lum[:, 1:] - lum[:, :-1]))
    variation[:, :-1] = np.maximum(variation[:, :-1], np.abs(lum[:, 1:] - lum[:, :-1]))
    return variation


def sky_mask(rgb: np.ndarray) -> np.ndarray:
    """Bright, smooth, blue-or-neutral pixels connected to the top edge (all zeros if no sky)."""
    height = rgb.shape[0]
    lum = luminance(rgb)
    hue, saturation = hue_saturation(rgb)
    variation = local_variation(lum)
    blue_hue = (hue >= 180) & (hue <= 250) & (saturation > 0.06)
    # Washed-out sky is near-white and never warm; a warm ceiling or wall is not sky.
    pale = (saturation < 0.14) & (lum > 0.62) & (rgb[..., 0] <= rgb[..., 2] + 0.03)
    rows = np.arange(height)[:, None] < int(height * 0.8)
    allowed = (lum > 0.3) & (blue_hue | pale) & (variation < 0.05) & rows
    seeds = np.zeros_like(allowed)
    seeds[0] = True
    region = grow_from(seeds, allowed)
    if region.mean() < MIN_SKY_FRACTION or not _looks_like_sky(region, lum, variation, blue_hue):
        return np.zeros(lum.shape, dtype=np.float32)
    return _add_sky_gaps(region, rgb, allowed).astype(np.float32)


def _looks_like_sky(region: np.ndarray, lum: np.ndarray, variation: np.ndarray, blue_hue: np.ndarray) -> bool:
    """Tell sky from a white ceiling: sky ends abruptly at roofs and trees, and is blue or near white.

    A ceiling fades into walls through soft shading, is rarely that bright, and does not reach
    down past two thirds of the frame the way a window view does.
    """
    ring = dilate(region) & ~region
    abrupt_edge = float(np.mean(variation[ring] >= 0.05)) if ring.any() else 1.0
    lowest_row = np.nonzero(region.any(axis=1))[0].max() / region.shape[0]
    brightness = float(np.median(lum[region]))
    blue = float(np.mean(blue_hue[region])) >= 0.5 and brightness >= 0.45
    return abrupt_edge >= 0.78 and lowest_row <= 0.65 and (blue or brightness >= 0.88)


def _add_sky_gaps(region: np.ndarray, rgb: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Also take sky-coloured pixels seen through branches, above the sky's lower edge."""
    sky_colour = rgb[region].mean(axis=0)
    close = channel_max(np.abs(rgb - sky_colour)) < 0.07
    lowest = int(np.percentile(np.nonzero(region)[0], 95))
    above = np.arange(rgb.shape[0])[:, None] <= lowest
    return region | (close & above & dilate(allowed))


def lawn_mask(rgb: np.ndarray, sky: np.ndarray) -> np.ndarray:
    """Grass-coloured (dry yellow-green to green), textured pixels in the lower part of the frame."""
    height = rgb.shape[0]
    lum = luminance(rgb)
    hue, saturation = hue_saturation(rgb)
    grassy = (hue >= 38) & (hue <= 150) & (saturation > 0.18) & (lum > 0.08) & (lum < 0.85)
    # Lawns sit low in an exterior; a yellow wall or a tree crown sits high.
    position = np.clip((np.arange(height) / height - 0.35) / 0.25, 0.0, 1.0)[:, None]
    textured = local_variation(lum) > 0.012
    solid = dilate(erode(grassy & dilate(grassy & textured)))
    return (solid & (sky < 0.5)).astype(np.float32) * position


def window_mask(rgb: np.ndarray, sky: np.ndarray, max_fraction: float = 0.06) -> np.ndarray:
    """Window-like patches: clearly darker than the facade around them, neutral, compact, not foliage."""
    height = rgb.shape[0]
    lum = luminance(rgb)
    hue, saturation = hue_saturation(rgb)
    foliage = (hue >= 60) & (hue <= 170) & (saturation > 0.2)
    near_sky = sky > 0.5
    for _ in range(3):
        near_sky = dilate(near_sky)
    rows = np.arange(height)[:, None]
    sky_rows = np.nonzero(sky.max(axis=1) > 0.5)[0]
    top = int(sky_rows.max() * 0.5) if sky_rows.size else int(height * 0.1)
    eligible = (rows > top) & (rows < int(height * 0.8)) & ~near_sky & ~foliage & (saturation < 0.4)
    contrast = box_mean(lum, max(3, rgb.shape[1] // 50)) - lum
    if not eligible.any():
        return np.zeros(lum.shape, dtype=np.float32)
    # Keep only the most contrasting patches so a dark facade does not light up wholesale.
    threshold = max(0.08, float(np.percentile(contrast[eligible], 100 * (1 - max_fraction))))
    darker = eligible & (contrast > threshold) & (lum < 0.5)
    solid = dilate(erode(darker))  # drops mortar lines, twigs and thin shadows
    return (solid & eligible).astype(np.float32)


def label_components(mask: np.ndarray, max_steps: int = 400) -> np.ndarray:
    """4-connected component labels (0 = background) by repeated min-propagation; fine at sample sizes."""
    height, width = mask.shape
    big = height * width + 1
    labels = np.where(mask, np.arange(1, big, dtype=np.int64).reshape(height, width), big)
    for _ in range(max_steps):
        smallest = labels.copy()
        np.minimum(smallest[1:], labels[:-1], out=smallest[1:])
        np.minimum(smallest[:-1], labels[1:], out=smallest[:-1])
        np.minimum(smallest[:, 1:], labels[:, :-1], out=smallest[:, 1:])
        np.minimum(smallest[:, :-1], labels[:, 1:], out=smallest[:, :-1])
        smallest = np.where(mask, smallest, big)
        if np.array_equal(smallest, labels):
            break
        labels = smallest
    return np.where(mask, labels, 0)


def component_table(labels: np.ndarray) -> dict[int, tuple[int, int, int, int, int]]:
    """label -> (area, top, bottom, left, right) for every component."""
    ys, xs = np.nonzero(labels)
    if ys.size == 0:
        return {}
    ids = labels[ys, xs]
    order = np.argsort(ids, kind="stable")
    ids, ys, xs = ids[order], ys[order], xs[order]
    starts = np.concatenate([[0], np.nonzero(np.diff(ids))[0] + 1])
    table = {}
    for start, end in zip(starts, np.concatenate([starts[1:], [ids.size]])):
        y, x = ys[start:end], xs[start:end]
        table[int(ids[start])] = (end - start, int(y.min()), int(y.max()), int(x.min()), int(x.max()))
    return table


def sky_is_already_blue(rgb: np.ndarray, sky: np.ndarray) -> bool:
    """A clear, saturated blue over most of the sky: replacing it could only make it duller."""
    region = sky > 0.5
    hue, saturation = hue_saturation(rgb[region])
    blue = (hue >= 195) & (hue <= 245) & (saturation > 0.22)
    return float(np.mean(blue)) >= 0.5


def directional_texture(lum: np.ndarray, radius: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """(local texture energy, share of it that is horizontal lines): grass is busy in every direction,
    siding, garage doors, boards and brick courses are ruled in one direction."""
    gx = np.zeros_like(lum)
    gy = np.zeros_like(lum)
    gx[:, 1:-1] = lum[:, 2:] - lum[:, :-2]
    gy[1:-1] = lum[2:] - lum[:-2]
    ex, ey = box_mean(gx * gx, radius), box_mean(gy * gy, radius)
    energy = np.maximum(ex + ey, 0.0)  # summed-area tables can round a hair below zero
    return np.sqrt(energy), ey / np.maximum(energy, 1e-8)


def keep_windows(candidates: np.ndarray, facade: np.ndarray, max_fraction: float) -> np.ndarray:
    """Only window-shaped patches: compact rectangles of sensible size lying wholly inside the facade."""
    labels = label_components(candidates)
    height, width = candidates.shape
    keep = np.zeros(candidates.shape, dtype=bool)
    budget = max_fraction * candidates.size
    for label, (area, top, bottom, left, right) in sorted(component_table(labels).items(), key=lambda i: -i[1][0]):
        box_h, box_w = bottom - top + 1, right - left + 1
        fill = area / (box_h * box_w)
        if not (12 <= area <= 0.02 * candidates.size and fill >= 0.6 and 0.25 <= box_w / box_h <= 4.0):
            continue
        around = facade[max(0, top - 2): bottom + 3, max(0, left - 2): right + 3]
        if around.mean() < 0.85 or area > budget:
            continue
        keep |= labels == label
        budget -= area
    return keep
