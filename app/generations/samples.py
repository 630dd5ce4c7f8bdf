"""Before/after samples of the presets (the catalogue page, the home page, the apply bar's previews), rendered
once by the local engine and kept in storage."""
import hashlib
import io
import json
from pathlib import Path

from flask import current_app
from PIL import Image as PILImage
from PIL import ImageOps

from app.catalog.presets import PRESETS, Preset
from app.images.storage import storage
from app.imaging.io import encode_image, load_photo
from app.imaging.pipeline import run_pipeline

# Which sample photo (in static/samples/) shows each preset best.
SAMPLE_PHOTOS = {
    "enhance": "dark_living_01.jpg",
    "hdr-interior": "living_01.jpg",
    "brighten-dark-room": "dark_living_01.jpg",
    "straighten": "tilted_exterior_01.jpg",
    "blue-sky": "exterior_03.jpg",
    "green-lawn": "exterior_03.jpg",
    "day-to-dusk": "exterior_02.jpg",
}
DEFAULT_SAMPLE = "living_01.jpg"
PREVIEW_SIZE = (72, 48)  # twice the apply bar's 36×24 CSS pixels, for sharp phone screens


def sample_photo(preset: Preset) -> str:
    """The static path of the 'before' photo for a preset."""
    return f"samples/{SAMPLE_PHOTOS.get(preset.id, DEFAULT_SAMPLE)}"


def rendered_sample_key(preset: Preset) -> str | None:
    """Storage key of the preset's 'after' photo, rendering it (and its preview) on first use; None for AI-only presets."""
    if preset.local_pipeline is None:
        return None
    key = _sample_key(preset)
    if not storage().exists(key):
        data = (Path(current_app.static_folder) / sample_photo(preset)).read_bytes()
        photo = load_photo(data, max_pixels=current_app.config["MAX_IMAGE_PIXELS"])
        storage().put(key, encode_image(run_pipeline(photo.image, list(preset.local_pipeline)), "JPEG", quality=85))
    if not storage().exists(_preview_of(key)):
        after = PILImage.open(io.BytesIO(storage().get(key)))
        storage().put(_preview_of(key), encode_image(ImageOps.fit(after, PREVIEW_SIZE), "JPEG", quality=80))
    return key


def preview_key(preset: Preset) -> str | None:
    """The small 'after' picture the apply bar shows beside a preset, if it has been rendered (never rendered here,
    so a page never waits on it: `flask up` renders them all as it starts)."""
    if preset.local_pipeline is None:
        return None
    key = _preview_of(_sample_key(preset))
    return key if storage().exists(key) else None


def catalogue() -> list[tuple[Preset, str, str | None]]:
    """Every preset with its 'before' static path and 'after' storage key."""
    return [(preset, sample_photo(preset), rendered_sample_key(preset)) for preset in PRESETS.values()]


def _sample_key(preset: Preset) -> str:
    recipe = json.dumps([sample_photo(preset), preset.local_pipeline], sort_keys=True)
    return f"samples/{preset.id}-{hashlib.sha256(recipe.encode()).hexdigest()[:12]}.jpg"


def _preview_of(key: str) -> str:
    return key.removesuffix(".jpg") + "-preview.jpg"
