"""Detail: sharpening and light noise reduction, scaled to the image size."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

from app.imaging._pixels import on_rgb


def _scale(image: Image.Image) -> float:
    """Filter radii are tuned for a ~1500 px long side and grow with resolution."""
    return max(image.size) / 1500.0


def sharpen(image: Image.Image, *, amount: float = 0.6, radius: float | None = None) -> Image.Image:
    """Unsharp mask on luma only, so edges crisp up without coloured fringes."""
    if amount <= 0:
        return image
    blur_radius = radius if radius is not None else float(np.clip(1.0 * _scale(image), 0.6, 3.0))
    mask = ImageFilter.UnsharpMask(radius=blur_radius, percent=int(amount * 100), threshold=2)
    return on_rgb(image, lambda rgb: _on_luma(rgb, lambda y: y.filter(mask)))


def denoise(image: Image.Image, *, strength: float = 0.5) -> Image.Image:
    """Smooth colour blotches strongly and luma grain lightly, leaving edges alone."""
    if strength <= 0:
        return image
    chroma_blur = ImageFilter.GaussianBlur(max(0.8, 1.5 * _scale(image)) * strength * 2)
    return on_rgb(image, lambda rgb: _denoise_rgb(rgb, strength, chroma_blur))


def _denoise_rgb(image: Image.Image, strength: float, chroma_blur: ImageFilter.Filter) -> Image.Image:
    y, cb, cr = image.convert("YCbCr").split()
    smooth_y = _edge_aware_smooth(y, strength)
    merged = Image.merge("YCbCr", (smooth_y, cb.filter(chroma_blur), cr.filter(chroma_blur)))
    return merged.convert("RGB")


def _edge_aware_smooth(channel: Image.Image, strength: float) -> Image.Image:
    """Blend toward a small blur only where the blur barely differs (flat, grainy areas)."""
    original = np.asarray(channel, dtype=np.float32)
    blurred = np.asarray(channel.filter(ImageFilter.GaussianBlur(1.0)), dtype=np.float32)
    difference = blurred - original
    weight = strength * np.exp(-np.square(difference / 6.0))
    return Image.fromarray(np.clip(original + difference * weight + 0.5, 0, 255).astype(np.uint8), "L")


def _on_luma(image: Image.Image, operation) -> Image.Image:
    y, cb, cr = image.convert("YCbCr").split()
    return Image.merge("YCbCr", (operation(y), cb, cr)).convert("RGB")
