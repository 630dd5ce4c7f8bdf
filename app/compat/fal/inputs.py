"""A fal model's JSON input, checked field by field; its image_urls become photos through app.images.inputs."""
import math
import re

from app.catalog.limits import MAX_NUM_IMAGES, MAX_PRIORITY, MAX_REFERENCE_IMAGES, MIN_PRIORITY
from app.errors import ApiError
from app.images.inputs import DOWNLOAD_FAILED, ImageIntake
from app.imaging.geometry import RESOLUTIONS

OUTPUT_FORMATS = {"jpeg": "jpeg", "jpg": "jpeg", "png": "png", "webp": "webp"}
# X-Fal-Queue-Priority, as the official client sends it, when the body names no priority of its own.
PRIORITY_HEADER = {"normal": 0, "low": -1}
# fal's error types for the shared image intake's codes; anything else about a reference is a value_error.
ERROR_TYPES = {
    DOWNLOAD_FAILED: "file_download_error", "invalid_image": "image_load_error", "file_too_large": "image_load_error",
}


class FalInputError(ApiError):
    """A field of the model's input is wrong: 422 with fal's {"detail": [{loc, msg, type}]}."""

    def __init__(self, field: str | None, message: str, error_type: str = "value_error"):
        super().__init__(message, status=422, code="invalid_input")
        self.loc = ["body", field] if field else ["body"]
        self.error_type = error_type


def whole_number(body: dict, field: str, low: int, high: int, default=None):
    """A whole number (or a string of one, as pipelet accepts) from low to high; default when absent."""
    value = body.get(field)
    if value is None or value == "":
        return default
    if isinstance(value, str) and re.fullmatch(r"\s*\d+\s*", value):
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise FalInputError(field, f"{field} must be a whole number from {low} to {high}.")
    return value


def text_field(body: dict, field: str) -> str | None:
    value = body.get(field)
    if value is not None and not isinstance(value, str):
        raise FalInputError(field, f"{field} must be a string.")
    return value or None


def image_count(body: dict) -> int:
    """Images per request, 1-4 for text and edit models alike (fal's schema): num_images, or pipelet's batch_size."""
    count = whole_number(body, "num_images", 1, MAX_NUM_IMAGES)
    batch = whole_number(body, "batch_size", 1, MAX_NUM_IMAGES)
    return count or batch or 1


def shape(body: dict) -> tuple[str | None, str | None]:
    """Aspect ratio and resolution: as named, or worked out from pipelet's width and height."""
    aspect_ratio = text_field(body, "aspect_ratio")
    resolution = text_field(body, "resolution")
    if aspect_ratio == "auto":
        aspect_ratio = None  # keep the photo's own shape
    width = whole_number(body, "width", 16, 8192)
    height = whole_number(body, "height", 16, 8192)
    if (width is None) != (height is None):
        raise FalInputError("width" if width is None else "height", "Send width and height together.")
    if width is not None:
        divisor = math.gcd(width, height)
        aspect_ratio = aspect_ratio or f"{width // divisor}:{height // divisor}"
        long_side = max(width, height)
        resolution = resolution or next((name for name, side in RESOLUTIONS.items() if long_side <= side), "4K")
    if resolution is not None and resolution.upper() not in RESOLUTIONS:
        raise FalInputError("resolution", f"resolution must be one of: {', '.join(RESOLUTIONS)}.")
    return aspect_ratio, resolution.upper() if resolution else None


def output_format(body: dict) -> str | None:
    value = text_field(body, "output_format")
    if value is None:
        return None
    if value.lower() not in OUTPUT_FORMATS:
        raise FalInputError("output_format", "output_format must be jpeg, png or webp.")
    return OUTPUT_FORMATS[value.lower()]


def priority(body: dict, header: str | None) -> int:
    """Larger runs sooner; without one in the body, the client's X-Fal-Queue-Priority header (normal or low)."""
    value = whole_number(body, "priority", MIN_PRIORITY, MAX_PRIORITY)
    if value is None and header:
        if header.strip().lower() not in PRIORITY_HEADER:
            raise FalInputError(None, "X-Fal-Queue-Priority must be normal or low.")
        value = PRIORITY_HEADER[header.strip().lower()]
    return value or 0


def image_urls(body: dict) -> list[str]:
    urls = body.get("image_urls")
    if urls is None:
        return []
    if not isinstance(urls, list) or not all(isinstance(url, str) and url for url in urls):
        raise FalInputError("image_urls", "image_urls must be a list of image URLs or data URIs.")
    if len(urls) > MAX_REFERENCE_IMAGES:
        raise FalInputError("image_urls", f"Send at most {MAX_REFERENCE_IMAGES} image URLs.")
    return urls


def photo_id(intake: ImageIntake, url: str, position: int) -> str:
    """One of image_urls as a photo of the project; the shared intake's errors in fal's terms."""
    name = f"image_urls[{position}]"
    try:
        return intake.add(url, name).id
    except ApiError as refused:
        error_type = ERROR_TYPES.get(refused.code, "value_error")
        raise FalInputError("image_urls", f"{name}: {refused.message}", error_type) from None
