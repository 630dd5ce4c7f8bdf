"""Images given by URL, as the compatible APIs take them: data URIs, our own signed file links, other URLs.

Our own links are read from storage (never fetched over HTTP: the signature already proves access);
any other URL goes through the SSRF-safe fetcher. Every image becomes an image of the caller's project.
"""
import base64
import binascii
import re
from urllib.parse import parse_qs, unquote, urlsplit

import sqlalchemy as sa
from flask import current_app, has_request_context, request

from app import outbound, urls
from app.errors import ApiError
from app.extensions import db
from app.images.models import Image
from app.images.service import upload_image
from app.images.storage import storage, verify
from app.projects.models import Project

DATA_URI = re.compile(r"^data:(?P<mime>[\w.+/-]*)(?P<params>(;[\w.+=-]+)*?);base64,", re.IGNORECASE)
FETCH_TIMEOUT = 30.0


def image_from_url(project: Project, url) -> Image:
    """The image a URL names, as a live image of the project; ApiError 422 saying why it cannot be used."""
    if not isinstance(url, str) or not url.strip():
        raise ApiError("Each image URL must be a non-empty string.")
    url = url.strip()
    if url[:5].lower() == "data:":
        return upload_image(project, _data_uri_bytes(url), "data-uri image")
    key = own_file_key(url)
    if key is not None:
        return _from_storage(project, key, url)
    try:
        data = outbound.fetch(url, max_bytes=current_app.config["MAX_UPLOAD_BYTES"], timeout=FETCH_TIMEOUT)
    except outbound.OutboundRefused as refused:
        raise ApiError(f"This image URL cannot be used: {refused}", status=422, code="invalid_image_url") from None
    except outbound.OutboundError as error:
        raise ApiError(error.message, status=422, code="invalid_image_url") from None
    return upload_image(project, data, _filename(url))


def own_file_key(url: str) -> str | None:
    """The storage key of one of our signed file links (on the public base URL or the request's host), or None."""
    path = urls.app_path("images.file", key="k")[: -len("k")]
    hosts = {urls.base_url(), request.host_url.rstrip("/") if has_request_context() else None} - {None}
    base = url.split("?", 1)[0].split("#", 1)[0]
    for prefix in (host + path for host in hosts):
        if base.startswith(prefix):
            return unquote(base[len(prefix):])
    return None


def _from_storage(project: Project, key: str, url: str) -> Image:
    query = parse_qs(urlsplit(url).query)
    if not verify(key, (query.get("expires") or [""])[0], (query.get("sig") or [""])[0]):
        raise ApiError(
            "This Stagecraft file link has expired or is not valid; ask the API for a fresh one.",
            status=422, code="invalid_image_url",
        )
    live = sa.select(Image).where(Image.project_id == project.id, Image.storage_key == key, Image.deleted_at.is_(None))
    image = db.session.scalar(live.limit(1))
    if image is not None:
        return image
    try:
        data = storage().get(key)
    except (OSError, ValueError):
        message = "The file behind this Stagecraft link no longer exists."
        raise ApiError(message, status=422, code="invalid_image_url") from None
    # A link to another project's file: the signature grants read access, so the photo is copied in.
    return upload_image(project, data, key.rsplit("/", 1)[-1])


def _data_uri_bytes(uri: str) -> bytes:
    match = DATA_URI.match(uri)
    if match is None:
        raise ApiError("A data URI must look like data:image/jpeg;base64,<data>.", status=422, code="invalid_image_url")
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    payload = uri[match.end():]
    if len(payload) > (limit * 4) // 3 + 4:
        raise ApiError(f"The data URI's image is larger than the limit of {limit // (1024 * 1024)} MB.", status=413,
                       code="file_too_large")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError("The data URI's base64 data is not valid.", status=422, code="invalid_image_url") from None


def _filename(url: str) -> str:
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    return name[:255] or "image"
