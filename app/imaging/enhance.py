"""One-click listing enhancement, fused into as few full-resolution passes as possible."""

from __future__ import annotations

from PIL import Image

from app.imaging._pixels import apply_curves, on_rgb, pixel_sample
from app.imaging.detail import vibrance_and_sharpen
from app.imaging.local_tone import balance_light, is_high_contrast
from app.imaging.tone import NATURAL_MIDTONE, compose, headroom_curves, tone_curves


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
    """White balance, exposure (shadow recovery when backlit), contrast, vibrance and sharpening."""
    def run(rgb: Image.Image) -> Image.Image:
        small = pixel_sample(rgb)
        if exposure > 0 and is_high_contrast(small):
            rgb = balance_light(rgb, shadows=0.45 * exposure, highlights=0.25 * exposure)
            small = pixel_sample(rgb)
        curves = tone_curves(small, white_balance=white_balance, exposure=exposure, contrast=contrast, target=target)
        if vibrance > 0 or sharpen > 0:
            curves = compose(curves, headroom_curves())
        return vibrance_and_sharpen(apply_curves(rgb, curves), vibrance=vibrance, sharpen=sharpen)

    return on_rgb(image, run)
