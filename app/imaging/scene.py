"""What kind of scene a photo is (interior, exterior or twilight), from cheap cues on a small sample."""

from __future__ import annotations

import numpy as np
from PIL import Image

from app.imaging import masks
from app.imaging._pixels import luminance, sample

INTERIOR, EXTERIOR, TWILIGHT = "interior", "exterior", "twilight"
SCENE_WORDS = {INTERIOR: "an interior", EXTERIOR: "a daytime exterior", TWILIGHT: "a twilight or night exterior"}


def classify(image: Image.Image) -> str:
    """interior, exterior (open sky seen by day) or twilight (a deep blue sky over a dark scene)."""
    return classify_sample(sample(image, 400))


def classify_sample(small: np.ndarray) -> str:
    """classify() on a float RGB sample (0..1)."""
    if _is_twilight(small):
        return TWILIGHT
    return EXTERIOR if masks.sky_mask(small).any() else INTERIOR


def _is_twilight(small: np.ndarray) -> bool:
    """The top of the frame is a dim, clearly blue sky and the scene as a whole is dark."""
    top = small[: max(1, small.shape[0] // 4)]
    hue, saturation = masks.hue_saturation(top)
    evening_blue = (hue >= 195) & (hue <= 260) & (saturation > 0.2) & (luminance(top) < 0.45)
    smooth = masks.local_variation(luminance(top)) < 0.04
    return float(np.mean(evening_blue & smooth)) > 0.35 and float(np.median(luminance(small))) < 0.35
