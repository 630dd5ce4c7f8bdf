"""Inpainting: keep an edit only inside a mask's region."""

from __future__ import annotations

from PIL import Image


def composite_by_mask(original: Image.Image, edited: Image.Image, mask: Image.Image) -> Image.Image:
    """The edited pixels where the mask is white, the original's where it is black (blended where it is grey).

    The edit and the mask are scaled to the original's size, so a mask drawn on a preview still fits.
    """
    original = original.convert("RGB")
    edited = edited.convert("RGB")
    if edited.size != original.size:
        edited = edited.resize(original.size, Image.Resampling.LANCZOS)
    region = mask_region(mask)
    if region.size != original.size:
        region = region.resize(original.size, Image.Resampling.BILINEAR)
    return Image.composite(edited, original, region)


def mask_region(mask: Image.Image) -> Image.Image:
    """The mask as one grey channel, white = change; a mask drawn as opaque strokes on transparency counts too."""
    if mask.mode in ("RGBA", "LA") or (mask.mode == "P" and "transparency" in mask.info):
        rgba = mask.convert("RGBA")
        alpha = rgba.getchannel("A")
        if alpha.getextrema() != (255, 255):
            return alpha
        return rgba.convert("L")
    return mask.convert("L")


def mask_is_empty(mask: Image.Image) -> bool:
    """Whether the mask marks nothing to change."""
    return mask_region(mask).getextrema()[1] == 0
