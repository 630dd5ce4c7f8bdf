"""Before/after samples for the preset catalogue page, rendered once by the local engine and kept in storage."""
import hashlib
import json
from pathlib import Path

from flask import current_app

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


def sample_photo(preset: Preset) -> str:
    """The static path of the 'before' photo for a preset."""
    return f"samples/{SAMPLE_PHOTOS.get(preset.id, DEFAULT_SAMPLE)}"


def rendered_sample_key(preset: Preset) -> str | None:
    """Storage key of the preset's 'after' photo, rendering it on first use; None for AI-only presets."""
    if preset.local_pipeline is None:
        return None
    before = sample_photo(preset)
    recipe = json.dumps([before, preset.local_pipeline], sort_keys=True)
    key = f"samples/{preset.id}-{hashlib.sha256(recipe.encode()).hexdigest()[:12]}.jpg"
    if not storage().exists(key):
        data = (Path(current_app.static_folder) / before).read_bytes()
        photo = load_photo(data, max_pixels=current_app.config["MAX_IMAGE_PIXELS"])
        storage().put(key, encode_image(run_pipeline(photo.image, list(preset.local_pipeline)), "JPEG", quality=85))
    return key


def catalogue() -> list[tuple[Preset, str, str | None]]:
    """Every preset with its 'before' static path and 'after' storage key."""
    return [(preset, sample_photo(preset), rendered_sample_key(preset)) for preset in PRESETS.values()]
