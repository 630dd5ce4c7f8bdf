"""One-click listing enhancement, fused into as few full-resolution passes as possible.

Everything is measured on a small sample; the full-resolution work is one curve lookup and one
vibrance-and-sharpening blend. The scene type sets the aim: interiors are brought to a natural
bright exposure, daytime exteriors are balanced on the buildings (not the blue sky, which would
read as a cold cast and warm the houses), and twilight shots keep their evening mood.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from app.imaging import masks, scene
from app.imaging._pixels import curve_table, map_bands, on_rgb, pixel_sample
from app.imaging.detail import boosted_and_sharpened, vibrance_boost
from app.imaging.local_tone import balance_light, is_high_contrast
from app.imaging.tone import (
    NATURAL_MIDTONE, compose, curves_on_sample, footroom_curves, headroom_curves, tone_curves,
)


@dataclass(frozen=True)
class SceneAim:
    """How strongly to correct each scene type, as factors on the caller's settings and a target midtone."""

    white_balance: float
    exposure: float
    target: float | None  # None: the caller's target


# Listing portals show photos at most about 2048 px wide, so a one-pixel sharpen on a larger photo
# is averaged away when it is shown, while it costs as much as the rest of enhance together.
SHARPEN_MAX_SIDE = 3072
_STATS_SIDE = 200  # every k-th pixel up to 200 on the long side: 25-40 thousand exact pixel values

SCENE_AIMS = {
    scene.INTERIOR: SceneAim(white_balance=1.0, exposure=1.0, target=None),
    scene.EXTERIOR: SceneAim(white_balance=0.6, exposure=0.8, target=0.42),
    # Dusk is dark and warm on purpose: no white balance, only a little lift.
    scene.TWILIGHT: SceneAim(white_balance=0.0, exposure=0.3, target=0.30),
}


def enhance(
    image: Image.Image,
    *,
    white_balance: float = 0.8,
    exposure: float = 1.0,
    contrast: float = 0.12,
    vibrance: float = 0.15,
    sharpen: float = 0.4,
    target: float = NATURAL_MIDTONE,
) -> Image.Image:
    """White balance, exposure (shadow recovery when backlit), contrast, vibrance and sharpening, aimed per scene.

    Photos with a long side over SHARPEN_MAX_SIDE are not sharpened (see there).
    """
    def run(rgb: Image.Image) -> Image.Image:
        detail = sharpen if max(rgb.size) <= SHARPEN_MAX_SIDE else 0.0
        small = pixel_sample(rgb, _STATS_SIDE)
        kind = scene.classify_sample(small)
        aim = SCENE_AIMS[kind]
        if exposure > 0 and kind != scene.TWILIGHT and is_high_contrast(small):
            rgb = balance_light(rgb, shadows=0.45 * exposure, highlights=0.25 * exposure)
            small = pixel_sample(rgb, _STATS_SIDE)
        measured = _without_sky(small) if kind == scene.EXTERIOR else small
        curves = tone_curves(measured, white_balance=white_balance * aim.white_balance,
                             exposure=exposure * aim.exposure, contrast=contrast,
                             target=aim.target if aim.target is not None else target)
        if vibrance > 0 or detail > 0:
            curves = compose(compose(curves, headroom_curves()), footroom_curves())
        boost = vibrance_boost(curves_on_sample(small, curves), vibrance) if vibrance > 0 else 0.0
        table = curve_table(curves)
        if detail > 0:
            # One banded pass: curves, then vibrance and sharpening, while each band is still in cache.
            return map_bands(rgb, lambda band: boosted_and_sharpened(band.point(table), boost, detail))
        curved = rgb.point(table)
        if boost <= 0:
            return curved
        return map_bands(curved, lambda band: boosted_and_sharpened(band, boost, 0.0), overlap=0, in_place=True)

    return on_rgb(image, run)


def _without_sky(small: np.ndarray) -> np.ndarray:
    """The sample's non-sky pixels as an (n, 1, 3) array, for measuring colour and exposure on the land."""
    land = masks.sky_mask(small) < 0.5
    return small[land][:, None, :] if land.sum() > 500 else small
