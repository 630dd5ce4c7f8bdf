"""Request-level defences: JSON bodies too deep or not valid Unicode are refused, and every response gets security headers."""
import json
import re

from flask import request

from app.catalog.limits import MAX_JSON_DEPTH
from app.errors import ApiError

JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
BRACKET = re.compile(r"[\[\]{}]")
TOO_DEEP = f"The JSON body nests too deeply: at most {MAX_JSON_DEPTH} levels of objects and lists."
MAX_JSON_BYTES = 1024 * 1024
TOO_LARGE = f"The JSON body is too large: at most {MAX_JSON_BYTES // (1024 * 1024)} MB."
NOT_UNICODE = "Text in the JSON body must be valid Unicode (a lone surrogate such as \\ud800 is not)."

# Pages load only our own scripts and styles (no inline script); style attributes stay allowed for htmx's indicators.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# A user's file is shown as an image at most, never run as a page of ours.
USER_FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'; sandbox"
HSTS = "max-age=31536000; includeSubDomains"


def register(app) -> None:
    app.before_request(refuse_hostile_json)
    app.after_request(add_security_headers)


def refuse_hostile_json() -> None:
    """400 before a view parses a JSON body nested deeper than MAX_JSON_DEPTH or holding a lone surrogate."""
    if not request.is_json:
        return
    if (request.content_length or 0) > MAX_JSON_BYTES or len(request.get_data(cache=True)) > MAX_JSON_BYTES:
        raise ApiError(TOO_LARGE, status=413, code="too_large")
    check_json_text(request.get_data(cache=True).decode("utf-8", "replace"))


def check_json_text(text: str) -> None:
    """400 if a JSON text nests too deeply or holds a lone surrogate (text that is not JSON is left to the caller)."""
    if json_nesting(text) > MAX_JSON_DEPTH:
        raise ApiError(TOO_DEEP)
    if "\\u" not in text.lower():
        return  # raw UTF-8 cannot carry a lone surrogate; only a \u escape can
    try:
        value = json.loads(text)
    except ValueError:
        return
    if has_lone_surrogate(value):
        raise ApiError(NOT_UNICODE)


def json_nesting(text: str) -> int:
    """How deep the brackets of a JSON text nest, outside strings (without parsing it)."""
    depth = deepest = 0
    for match in BRACKET.finditer(JSON_STRING.sub("", text)):
        depth += 1 if match.group() in "[{" else -1
        if depth > deepest:
            deepest = depth
            if deepest > MAX_JSON_DEPTH:
                break
    return deepest


def has_lone_surrogate(value) -> bool:
    """Whether any string in a parsed JSON value (keys included) holds a surrogate code point."""
    if isinstance(value, str):
        return any("\ud800" <= char <= "\udfff" for char in value)
    if isinstance(value, dict):
        return any(has_lone_surrogate(key) or has_lone_surrogate(item) for key, item in value.items())
    if isinstance(value, list):
        return any(has_lone_surrogate(item) for item in value)
    return False


def add_security_headers(response):
    """nosniff, a referrer policy, no framing, a CSP for pages (a stricter one for user files) and HSTS over TLS."""
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    if request.endpoint == "images.file":  # the view sends it as an attachment too
        headers["Content-Security-Policy"] = USER_FILE_CSP
    else:
        headers.setdefault("Content-Security-Policy", PAGE_CSP)
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response
