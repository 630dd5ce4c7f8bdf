"""What can honestly be measured in a photo: shape, exposure, sharpness, tilt and its main colours."""
from __future__ import annotations

import colorsys
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from app.imaging.tilt import estimate_tilt_degrees

_SAMPLE_SIDE = 512
# Laplacian spread (on 0..255 luma at 512 px) below which a photo reads as soft, then as blurry.
_SOFT, _BLURRY = 90.0, 25.0
_DARK, _BRIGHT = 0.28, 0.72
_CLIPPED_SHARE = 0.08
_TILT_NOTICEABLE = 1.0


@dataclass(frozen=True)
class Measurements:
    width: int
    height: int
    orientation: str  # landscape | portrait | square
    brightness: float  # mean luminance, 0..1
    exposure: str  # dark | balanced | bright
    sharpness_score: float
    sharpness: str  # sharp | soft | blurry
    tilt_degrees: float
    tilt: str  # level | tilted
    colours: tuple[str, ...]  # plain colour words, most area first


def measure(image: Image.Image) -> Measurements:
    """Every measurement of one decoded photo."""
    small = image.convert("RGB")
    small.thumbnail((_SAMPLE_SIDE, _SAMPLE_SIDE), Image.Resampling.BILINEAR)
    rgb = np.asarray(small, dtype=np.float32) / 255.0
    luma = rgb @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
    brightness = float(luma.mean())
    sharpness_score = _laplacian_spread(small)
    tilt_degrees = estimate_tilt_degrees(image)
    return Measurements(
        width=image.width,
        height=image.height,
        orientation=orientation(image.width, image.height),
        brightness=round(brightness, 3),
        exposure=_exposure_word(luma),
        sharpness_score=round(sharpness_score, 1),
        sharpness="sharp" if sharpness_score >= _SOFT else "soft" if sharpness_score >= _BLURRY else "blurry",
        tilt_degrees=tilt_degrees,
        tilt="tilted" if abs(tilt_degrees) >= _TILT_NOTICEABLE else "level",
        colours=dominant_colours(small),
    )


def orientation(width: int, height: int) -> str:
    if abs(width - height) <= 0.02 * max(width, height):
        return "square"
    return "landscape" if width > height else "portrait"


def _exposure_word(luma: np.ndarray) -> str:
    mean = float(luma.mean())
    crushed, blown = float((luma < 0.03).mean()), float((luma > 0.97).mean())
    if mean < _DARK or crushed > 3 * _CLIPPED_SHARE:
        return "dark"
    if mean > _BRIGHT or blown > 3 * _CLIPPED_SHARE:
        return "bright"
    return "balanced"


def _laplacian_spread(image: Image.Image) -> float:
    kernel = ImageFilter.Kernel((3, 3), (0, 1, 0, 1, -4, 1, 0, 1, 0), scale=1, offset=128)
    edges = np.asarray(image.convert("L").filter(kernel), dtype=np.float32)
    return float(edges[1:-1, 1:-1].var())


def dominant_colours(image: Image.Image, count: int = 3) -> tuple[str, ...]:
    """The photo's main colours as plain words, largest area first, each named once."""
    small = image.convert("RGB").resize((96, 96), Image.Resampling.BILINEAR)
    palette_image = small.quantize(colors=8, method=Image.Quantize.MEDIANCUT)
    palette = palette_image.getpalette()[: 8 * 3]
    counts = sorted(palette_image.getcolors() or [], reverse=True)
    names: list[str] = []
    for share, index in counts:
        if share < 96 * 96 * 0.06:
            continue
        name = colour_name(tuple(palette[index * 3: index * 3 + 3]))
        if name not in names:
            names.append(name)
    return tuple(names[:count])


def colour_name(rgb: tuple[int, int, int]) -> str:
    """A plain-word name for one colour (white, cream, grey, brown, blue...)."""
    hue, lightness, saturation = colorsys.rgb_to_hls(*(channel / 255.0 for channel in rgb))
    degrees = hue * 360
    if saturation < 0.12 or lightness > 0.94 or lightness < 0.08:
        if lightness > 0.86:
            return "white"
        if lightness > 0.62:
            return "light grey"
        if lightness > 0.3:
            return "grey"
        return "charcoal" if lightness > 0.12 else "black"
    if 15 <= degrees < 50:
        if lightness > 0.75:
            return "cream"
        if lightness > 0.55:
            return "beige" if saturation < 0.45 else "sand"
        return "brown" if lightness < 0.4 or saturation < 0.5 else "tan"
    if degrees < 15 or degrees >= 340:
        return "brown" if lightness < 0.3 else "pink" if lightness > 0.7 else "red"
    if degrees < 70:
        return "olive" if lightness < 0.35 else "yellow"
    if degrees < 165:
        return "green"
    if degrees < 195:
        return "teal"
    if degrees < 255:
        return "navy" if lightness < 0.25 else "blue"
    if degrees < 300:
        return "purple"
    return "pink"
