"""Describing one photo: measure it, write its text (Gemini or the offline analyzer), check compliance."""
from flask import current_app
from PIL import Image as PILImage

from app.analysis import compliance, gemini, local
from app.analysis.models import Analysis
from app.catalog.rooms import resolve_room
from app.analysis.writing import ListingContext
from app.errors import ApiError
from app.images.storage import storage
from app.imaging.io import load_photo
from app.imaging.measure import Measurements, measure
from app.providers.base import ProviderError
from app.providers.registry import all_providers


class PhotoFailed(Exception):
    """A photo that cannot be described, with a reason a person can act on; `retryable` when trying again later
    may work (the AI service was busy or down), with its advice in seconds on when."""

    def __init__(self, message: str, retryable: bool = False, retry_after: float | None = None):
        super().__init__(message)
        self.retryable, self.retry_after = retryable, retry_after


def analyzer_name() -> str:
    """Which analyzer writes the text: ANALYZER, where "auto" means Gemini when its key is set."""
    choice = current_app.config["ANALYZER"]
    if choice == "auto":
        return gemini.NAME if "gemini" in all_providers() else local.NAME
    return choice


def describe_photo(analysis: Analysis, context: ListingContext, stored_meta: dict | None = None) -> dict:
    """The full metadata of one photo: text fields, roomType, quality and compliance."""
    photo = _load(analysis)
    measured = measure(photo)
    room = resolve_room(analysis.room_hint, analysis.original_filename, stored_meta)
    name = analyzer_name()
    if name == gemini.NAME:
        written = _ask_gemini(photo, room, context)
        room = room or written.pop("roomType", None)
        written.pop("roomType", None)
    elif name == local.NAME:
        written = local.describe(measured, room, context, seed=analysis.original_filename or analysis.id)
    else:
        raise PhotoFailed(f"Unknown analyzer {name!r}; the administrator should set ANALYZER to local or gemini.")
    return {
        **written,
        "roomType": room,
        "quality": quality(measured),
        "compliance": compliance.check(photo, current_app.config["NSFW_HOLD_THRESHOLD"]),
        "analyzer": name,
    }


def _load(analysis: Analysis):
    try:
        data = storage().get(analysis.storage_key)
    except (OSError, ValueError):
        raise PhotoFailed("The uploaded photo is no longer stored; upload it again.") from None
    try:
        return load_photo(data, max_pixels=current_app.config["MAX_IMAGE_PIXELS"]).image
    except (ApiError, ValueError, OSError, PILImage.DecompressionBombError) as error:
        raise PhotoFailed(f"The photo could not be read: {error}") from None


def _ask_gemini(photo, room, context: ListingContext) -> dict:
    provider = all_providers().get("gemini")
    if provider is None:
        raise PhotoFailed("Gemini is not connected (no key set); ask your administrator, or use the offline analyzer.")
    model = current_app.config["GEMINI_VISION_MODEL"]
    try:
        return gemini.read_answer(provider.generate_content(model, gemini.request_body(photo, room, context)))
    except ProviderError as error:
        raise PhotoFailed(str(error), error.retryable, error.retry_after) from None


def quality(measured: Measurements) -> dict:
    """Exposure, sharpness and tilt as measured, each with advice when it needs attention."""
    advice = {
        "dark": "Underexposed: brighten it (the Enhance preset) before publishing.",
        "bright": "Overexposed: highlights may be lost; a retake or Enhance may help.",
        "soft": "Slightly soft: fine for small sizes, retake for a hero photo.",
        "blurry": "Blurry: retake this photo if you can.",
        "tilted": f"Tilted by {abs(measured.tilt_degrees):.1f}°: straighten it before publishing.",
    }
    return {
        "exposure": {"value": measured.exposure, "brightness": measured.brightness,
                     "advice": advice.get(measured.exposure)},
        "sharpness": {"value": measured.sharpness, "score": measured.sharpness_score,
                      "advice": advice.get(measured.sharpness)},
        "tilt": {"value": measured.tilt, "degrees": measured.tilt_degrees, "advice": advice.get(measured.tilt)},
        "width": measured.width, "height": measured.height, "orientation": measured.orientation,
        "colours": list(measured.colours),
    }

