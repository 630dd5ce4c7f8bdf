"""Static assets: links carry a content hash (so browsers may keep a file for a year) and text is sent gzipped."""
import gzip
import hashlib
from pathlib import Path

from flask import current_app, request

YEAR = 365 * 24 * 3600
# Text worth compressing; images, zips and streams are left alone.
COMPRESSIBLE = {"text/html", "text/css", "text/javascript", "application/javascript", "image/svg+xml", "text/plain"}
MIN_COMPRESS_BYTES = 1024
_versions: dict[tuple[str, float], str] = {}
_gzipped: dict[tuple[str, str], bytes] = {}  # (path, ETag) → gzipped static file


def register(app) -> None:
    app.url_defaults(add_static_version)
    app.after_request(cache_versioned_static)
    app.after_request(compress)


def static_version(filename: str) -> str | None:
    """A short hash of a static file's content (recomputed when the file changes), or None if it is missing."""
    path = Path(current_app.static_folder) / filename
    try:
        stamp = path.stat().st_mtime
    except (OSError, ValueError):
        return None
    key = (filename, stamp)
    if key not in _versions:
        _versions[key] = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
    return _versions[key]


def add_static_version(endpoint: str, values: dict) -> None:
    """url_for('static', filename=…) gets ?v=<content hash>."""
    if endpoint == "static" and "filename" in values and "v" not in values:
        version = static_version(values["filename"])
        if version:
            values["v"] = version


def cache_versioned_static(response):
    """A versioned link never changes content: let browsers keep it for a year without asking again."""
    if request.endpoint == "static" and response.status_code in (200, 304):
        if request.args.get("v") and request.args["v"] == static_version(request.view_args.get("filename", "")):
            response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    return response


def compress(response):
    """gzip text answers above a small size for clients that accept it; static files are compressed once."""
    if (
        response.status_code != 200
        or response.is_streamed and not response.direct_passthrough
        or "Content-Encoding" in response.headers
        or response.mimetype not in COMPRESSIBLE
        or "gzip" not in request.headers.get("Accept-Encoding", "").lower()
    ):
        return response
    response.vary.add("Accept-Encoding")
    response.direct_passthrough = False
    data = response.get_data()
    if len(data) < MIN_COMPRESS_BYTES:
        return response
    etag, _ = response.get_etag()
    if request.endpoint == "static" and etag:
        key = (request.path, etag)
        body = _gzipped.get(key) or _gzipped.setdefault(key, gzip.compress(data, 6))
    else:
        body = gzip.compress(data, 6)
    response.set_data(body)
    response.headers["Content-Encoding"] = "gzip"
    if etag:
        # The same content in another encoding: a weak tag still answers the browser's revalidation with 304.
        response.set_etag(etag, weak=True)
    return response
