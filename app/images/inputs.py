"""Images given by reference, as the API surfaces take them: data URIs, our own signed file links, other URLs.

Our own links are read from storage (never fetched over HTTP: the signature already proves access);
any other URL goes through the SSRF-safe fetcher. Every image becomes an image of the caller's project.
Errors are ApiErrors whose code says what went wrong, so each surface can put them in its own words:
INVALID (the reference itself), DOWNLOAD_FAILED (the fetch), and upload_image's own (the photo).
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
INVALID = "invalid_image_url"
DOWNLOAD_FAILED = "image_download_failed"


class ImageIntake:
    """The images one request brings in; if the request is refused, the files it stored are removed.

    Use it as a context manager around everything that may still refuse the request: the rows roll
    back with the request, and the files go with them.
    """

    def __init__(self, project: Project):
        self.project = project
        self.stored: list[Image] = []

    def __enter__(self):
        return self

    def __exit__(self, error_type, _error, _traceback):
        if error_type is not None:
            self.discard()
        return False

    def add(self, url, filename: str | None = None) -> Image:
        """The image a reference names, as an image of the project (stored now unless it already is one)."""
        return image_from_url(self.project, url, filename, self.stored)

    def discard(self) -> None:
        """Remove the files of the images stored so far."""
        for image in self.stored:
            storage().delete(image.storage_key)
            storage().delete(image.thumbnail_key)
        self.stored.clear()


def image_from_url(project: Project, url, filename: str | None = None, stored: list | None = None) -> Image:
    """The image a URL names, as a live image of the project; ApiError saying why it cannot be used.

    filename names a stored copy (else the URL's own); a newly stored image is appended to stored.
    """
    if not isinstance(url, str) or not url.strip():
        raise ApiError("Each image URL must be a non-empty string.", status=422, code=INVALID)
    url = url.strip()
    if url[:5].lower() == "data:":
        data, filename = _data_uri_bytes(url), filename or "data-uri image"
    elif (key := own_file_key(url)) is not None:
        image = _live_image(project, key, url)
        if image is not None:
            return image
        data, filename = _stored_bytes(key), filename or key.rsplit("/", 1)[-1]
    else:
        data, filename = _download(url), filename or _filename(url)
    image = upload_image(project, data, filename)
    if stored is not None:
        stored.append(image)
    return image


def own_file_key(url: str) -> str | None:
    """The storage key of one of our signed file links (on the public base URL or the request's host), or None."""
    path = urls.app_path("images.file", key="k")[: -len("k")]
    hosts = {urls.base_url(), request.host_url.rstrip("/") if has_request_context() else None} - {None}
    base = url.split("?", 1)[0].split("#", 1)[0]
    for prefix in (host + path for host in hosts):
        if base.startswith(prefix):
            return unquote(base[len(prefix):])
    return None


def _live_image(project: Project, key: str, url: str) -> Image | None:
    """The project's own live image behind a valid signed link, if it is one."""
    query = parse_qs(urlsplit(url).query)
    if not verify(key, (query.get("expires") or [""])[0], (query.get("sig") or [""])[0]):
        raise ApiError("This Stagecraft file link has expired or is not valid; ask the API for a fresh one.",
                       status=422, code=INVALID)
    live = sa.select(Image).where(Image.project_id == project.id, Image.storage_key == key, Image.deleted_at.is_(None))
    return db.session.scalar(live.limit(1))


def _stored_bytes(key: str) -> bytes:
    # A link to another project's file (or a deleted one): the signature grants read access, so it is copied in.
    try:
        return storage().get(key)
    except (OSError, ValueError):
        raise ApiError("The file behind this Stagecraft link no longer exists.", status=422, code=INVALID) from None


def _download(url: str) -> bytes:
    try:
        return outbound.fetch(url, max_bytes=current_app.config["MAX_UPLOAD_BYTES"], timeout=FETCH_TIMEOUT)
    except outbound.OutboundRefused as refused:
        raise ApiError(f"This image URL cannot be used: {refused}", status=422, code=DOWNLOAD_FAILED) from None
    except outbound.OutboundError as error:
        raise ApiError(error.message, status=422, code=DOWNLOAD_FAILED) from None


def _data_uri_bytes(uri: str) -> bytes:
    match = DATA_URI.match(uri)
    if match is None:
        raise ApiError("A data URI must look like data:image/jpeg;base64,<data>.", status=422, code=INVALID)
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    payload = "".join(uri[match.end():].split())  # base64 wrapped over lines is still base64
    if len(payload) > (limit * 4) // 3 + 4:
        raise ApiError(f"The data URI's image is larger than the limit of {limit // (1024 * 1024)} MB.", status=413,
                       code="file_too_large")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError("The data URI's base64 data is not valid.", status=422, code=INVALID) from None


def _filename(url: str) -> str:
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    return name[:255] or "image"
