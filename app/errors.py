"""One error type for the whole app, rendered as JSON on API paths and as a page or fragment elsewhere."""
import errno
import logging
from pathlib import Path

from flask import current_app, jsonify, render_template, request
from htmx_flask import make_response
from markupsafe import escape
from redis.exceptions import RedisError
from werkzeug.exceptions import HTTPException

from app import database
from app.extensions import db

log = logging.getLogger(__name__)

API_PREFIXES = ("/api/", "/v1/", "/fal/", "/webhooks/")
# The process-image surface's clients read {success: false, error: "...", code}.
PROCESS_IMAGE_PATHS = ("/api/process-image", "/api/image-generations", "/api/inpaint-image")


class ApiError(Exception):
    """An error a caller can act on: an HTTP status, a stable code and a message for a person."""

    def __init__(self, message: str, status: int = 400, code: str = "invalid_request", headers=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.headers = headers or {}


STORAGE_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
STORAGE_UNWRITABLE_ERRNOS = {errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOTDIR, errno.EIO}
STORAGE_RETRY_AFTER = 60


def storage_fault(error: BaseException) -> ApiError | None:
    """What a person can do about a disk error: 507 when storage is full, 503 when it is unwritable or a file is gone."""
    if not isinstance(error, OSError):
        return None
    if error.errno in STORAGE_FULL_ERRNOS:
        return ApiError(
            "Storage is full, so nothing was saved; ask your administrator to free space, then try again.",
            status=507, code="storage_full", headers={"Retry-After": str(STORAGE_RETRY_AFTER)},
        )
    if error.errno in STORAGE_UNWRITABLE_ERRNOS:
        return ApiError(
            "Storage cannot be written right now (read-only or unavailable), so nothing was saved; "
            "ask your administrator to check the storage volume.",
            status=503, code="storage_unavailable", headers={"Retry-After": str(STORAGE_RETRY_AFTER)},
        )
    if isinstance(error, FileNotFoundError) and _in_storage(error.filename):
        return ApiError(
            "A stored file is missing from storage; ask your administrator to check the storage volume.",
            status=503, code="storage_file_missing", headers={"Retry-After": str(STORAGE_RETRY_AFTER)},
        )
    return None


def _in_storage(filename) -> bool:
    root = current_app.config.get("STORAGE_DIR")
    return bool(root and filename) and Path(root).resolve() in Path(filename).resolve().parents


def is_api_request() -> bool:
    """Whether the current request is on a JSON surface."""
    return request.path.startswith(API_PREFIXES)


def error_response(message: str, status: int, code: str, headers=None):
    """Render an error in the shape of the surface the request came through."""
    if request.path.startswith("/fal/"):
        return jsonify(detail=message), status, headers or {}  # fal's clients read "detail"
    if request.path.startswith(PROCESS_IMAGE_PATHS):
        return jsonify(success=False, error=message, code=code), status, headers or {}
    if is_api_request():
        body = jsonify(success=False, error={"message": message, "code": code})
        return body, status, headers or {}
    headers = dict(headers or {})
    if request.htmx:
        # Show the message in the page's alert area instead of replacing the request's target.
        body = render_template("_error.html", message=message)
        return make_response(body, status, headers, retarget="#errors", reswap="innerHTML")
    try:
        return render_template("error.html", message=message, status=status), status, headers
    except Exception:
        # The page layout reads the logged-in user; when that fails too, a plain page still says what happened.
        log.exception("the error page could not be rendered")
        return PLAIN_ERROR_PAGE.format(status=status, message=escape(message)), status, headers


BUSY_MESSAGE = "Stagecraft is busy right now; please try again in a moment."
BUSY_RETRY_AFTER = 2
REDIS_DOWN_MESSAGE = "Stagecraft's queue service is restarting; please try again in a few seconds."
REDIS_DOWN_RETRY_AFTER = 5
PLAIN_ERROR_PAGE = (
    "<!doctype html><html lang=en><meta charset=utf-8><meta name=viewport content='width=device-width'>"
    "<title>Error {status} · Stagecraft</title><body style='font-family:sans-serif;max-width:40rem;margin:3rem auto'>"
    "<h1>{status}</h1><p>{message}</p><p><a href='/'>Back to your listings</a></p></body></html>"
)

HTTP_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "file_too_large",
    429: "rate_limited",
}

HTTP_MESSAGES = {
    404: "Not found. Check the address or the id.",
    405: "This method is not allowed here.",
    413: "File too large.",
}


def register_error_handlers(app):
    """Handle ApiError and routing errors at app level, where blueprint handlers cannot see them."""

    @app.errorhandler(ApiError)
    def handle_api_error(error: ApiError):
        return error_response(error.message, error.status, error.code, error.headers)

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        status = error.code or 500
        message = HTTP_MESSAGES.get(status) or error.description or error.name
        if status == 413:
            limit_mb = app.config["MAX_UPLOAD_BYTES"] / (1024 * 1024)
            message = f"File too large: the limit is {limit_mb:g} MB per file."
        if status == 429:
            message = f"Rate limit exceeded ({error.description}); wait for Retry-After seconds and try again."
        headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
        return error_response(message, status, HTTP_CODES.get(status, "error"), headers)

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        # End the failed transaction first, so rendering the error (which may read the user) can work.
        db.session.rollback()
        if database.is_busy(error):
            log.warning("database busy on %s %s: %s", request.method, request.path, error)
            return error_response(BUSY_MESSAGE, 503, "busy", {"Retry-After": str(BUSY_RETRY_AFTER)})
        if (fault := storage_fault(error)) is not None:
            log.error("storage fault on %s %s: %s", request.method, request.path, error)
            return error_response(fault.message, fault.status, fault.code, fault.headers)
        if isinstance(error, RedisError):
            # The supervisor restarts the embedded Redis; until it answers, say so instead of failing.
            log.warning("Redis unreachable on %s %s: %s", request.method, request.path, error)
            return error_response(REDIS_DOWN_MESSAGE, 503, "service_restarting", {"Retry-After": str(REDIS_DOWN_RETRY_AFTER)})
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response("Something went wrong on our side; it has been logged.", 500, "internal_error")
