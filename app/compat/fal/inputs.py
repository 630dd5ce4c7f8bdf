"""A fal model's JSON input, checked field by field, and its image_urls turned into photos of the project."""
import base64
import binascii
import math
import re
from urllib.parse import parse_qs, urlsplit

from flask import current_app, has_request_context, request
from werkzeug.exceptions import HTTPException

from app import outbound
from app.catalog.limits import MAX_NUM_IMAGES, MAX_PRIORITY, MAX_REFERENCE_IMAGES, MIN_PRIORITY
from app.errors import ApiError
from app.images.service import get_image, upload_image
from app.images.storage import storage, verify
from app.imaging.geometry import RESOLUTIONS
from app.projects.models import Project
from app.urls import base_url

DATA_URI = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?:;[\w=.+-]+)*;base64,(?P<data>.*)$", re.DOTALL)
OWN_IMAGE_KEY = re.compile(r"^projects/(?P<project>\d+)/images/(?P<image>[0-9a-f-]{36})\.\w+$")
OUTPUT_FORMATS = {"jpeg": "jpeg", "jpg": "jpeg", "png": "png", "webp": "webp"}
# X-Fal-Queue-Priority, as the official client sends it, when the body names no priority of its own.
PRIORITY_HEADER = {"normal": 0, "low": -1}
FETCH_TIMEOUT = 30.0


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


def image_count(body: dict, edit: bool) -> int:
    """Images per request: num_images, or pipelet's batch_size; an edit makes one per input photo."""
    count = whole_number(body, "num_images", 1, MAX_NUM_IMAGES)
    batch = whole_number(body, "batch_size", 1, MAX_NUM_IMAGES)
    count = count or batch or 1
    if edit and count != 1:
        raise FalInputError("num_images", "An edit makes one image per photo in image_urls; send num_images 1.")
    return count


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


def photos(project: Project, urls: list[str]) -> tuple[list[str], list]:
    """Each URL as a photo of the project (its own signed file, a data URI, or a download, SSRF-safe):
    their ids, and the images stored for them now (to discard if the request is refused after all)."""
    stored = []
    try:
        ids = [_photo_id(project, url, position, stored) for position, url in enumerate(urls)]
    except ApiError:
        discard(stored)
        raise
    return ids, stored


def discard(images: list) -> None:
    """Remove the files of images stored for a request that was refused (their rows roll back with it)."""
    for image in images:
        storage().delete(image.storage_key)
        storage().delete(image.thumbnail_key)


def _photo_id(project: Project, url: str, position: int, stored: list) -> str:
    name = f"image_urls[{position}]"
    if url.startswith("data:"):
        return _upload(project, _data_uri_bytes(url, name), name, stored)
    own_key = _own_file_key(url, name)
    if own_key is not None:
        match = OWN_IMAGE_KEY.match(own_key)
        if match and int(match["project"]) == project.id:
            try:
                return get_image(project, match["image"]).id
            except ApiError:
                pass  # deleted since: its file, if still there, is read below
        try:
            return _upload(project, storage().get(own_key), name, stored)
        except (FileNotFoundError, ValueError):
            raise FalInputError("image_urls", f"{name}: that Stagecraft file no longer exists.") from None
    try:
        data = outbound.fetch(url, max_bytes=current_app.config["MAX_UPLOAD_BYTES"], timeout=FETCH_TIMEOUT)
    except outbound.OutboundRefused as refused:
        raise FalInputError("image_urls", f"{name}: {refused}", "file_download_error") from None
    except outbound.OutboundError as failed:
        raise FalInputError("image_urls", f"{name}: {failed.message}", "file_download_error") from None
    return _upload(project, data, name, stored)


def _data_uri_bytes(url: str, name: str) -> bytes:
    match = DATA_URI.match(url)
    if match is None:
        raise FalInputError("image_urls", f"{name}: a data URI must be base64 (data:image/jpeg;base64,…).")
    try:
        return base64.b64decode(match["data"], validate=False)
    except (binascii.Error, ValueError):
        raise FalInputError("image_urls", f"{name}: the data URI is not valid base64.") from None


def _own_file_key(url: str, name: str) -> str | None:
    """The storage key behind one of our own signed file URLs (read from storage, never over HTTP), else None."""
    parts, base = urlsplit(url), urlsplit(base_url())
    # Ours: on the public base URL (with any prefix a proxy strips), or on the host this request came to.
    if parts.netloc == base.netloc and parts.path.startswith(base.path):
        path = parts.path[len(base.path.rstrip("/")):]
    elif has_request_context() and parts.netloc == request.host:
        path = parts.path
    else:
        return None
    try:
        endpoint, values = current_app.url_map.bind(parts.netloc).match(path, method="GET")
    except HTTPException:
        return None
    if endpoint != "images.file":
        return None
    query = parse_qs(parts.query)
    expires, sig = (query.get(field, [None])[0] for field in ("expires", "sig"))
    if not verify(values["key"], expires, sig):
        raise FalInputError("image_urls", f"{name}: this Stagecraft link has expired; ask for a fresh one.")
    return values["key"]


def _upload(project: Project, data: bytes, name: str, stored: list) -> str:
    try:
        image = upload_image(project, data, name)
    except ApiError as rejected:
        raise FalInputError("image_urls", rejected.message, "image_load_error") from None
    stored.append(image)
    return image.id
