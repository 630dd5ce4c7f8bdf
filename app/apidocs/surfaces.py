"""The API surfaces the document describes: which paths, how callers authenticate, what errors look like."""
from typing import NamedTuple

from app.errors import PROCESS_IMAGE_PATHS

SECURITY_SCHEMES = {
    "ApiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    "BearerAuth": {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer <API key>."},
    "FalKey": {"type": "apiKey", "in": "header", "name": "Authorization",
               "description": "Authorization: Key <API key>, as fal's clients send it."},
    "SessionCookie": {"type": "apiKey", "in": "cookie", "name": "session",
                      "description": "The signed-in person's session (form posts also carry the page's CSRF token)."},
}
KEY_SECURITY = [{"ApiKeyHeader": []}, {"BearerAuth": []}]


class Surface(NamedTuple):
    """One family of endpoints with its own wire conventions."""

    name: str  # also the tag-free prefix of its component names ("" for the native API)
    prefixes: tuple[str, ...]  # request paths it owns
    security: list  # OpenAPI security requirements of an operation that needs a caller
    error_schema: str | None  # component schema of an error body; None when errors ride in a 200 body
    envelope: bool  # success bodies are {success: true, data}
    common_errors: tuple[int, ...]  # statuses any of its operations may answer
    description: str = ""


NATIVE = Surface(
    "", ("/api/v1/",), KEY_SECURITY, "Error", True, (400, 401, 404, 429, 503),
    "Errors are `{\"success\": false, \"error\": {\"message\", \"code\"}}`.",
)
SURFACES = (
    Surface(
        "Fal", ("/fal/",), [{"FalKey": []}, *KEY_SECURITY], "FalError", False, (401, 404, 429, 503),
        "fal's queue: errors are `{\"detail\": \"...\"}`, a refused input 422 `{\"detail\": [{loc, msg, type}]}`.",
    ),
    Surface(
        "NanoBanana", ("/api/v1/nanobanana/", "/api/v1/common/"), KEY_SECURITY, None, False, (),
        "nanobananaapi.ai: every answer is HTTP 200 `{code, msg, data}`; `code` says what happened.",
    ),
    Surface(
        "ProcessImage", PROCESS_IMAGE_PATHS,
        [*KEY_SECURITY, {"SessionCookie": []}], "ProcessImageError", False, (400, 401, 404, 413, 429, 503),
        "AI Studio: errors are `{\"success\": false, \"error\": \"...\", \"code\"}`.",
    ),
    Surface(
        "Analysis", ("/v1/",), KEY_SECURITY, "Error", False, (400, 401, 404, 413, 429, 503),
        "Listing-photo analysis: bare JSON bodies and server-sent events; errors as the v1 API's.",
    ),
    Surface(
        "Callback", ("/webhooks/",), [], "Error", False, (400, 404, 413, 429, 503),
        "Inbound provider callbacks: public, answered as the provider expects.",
    ),
    NATIVE,
)


def surface_of(path: str) -> Surface:
    """The surface a request path belongs to; the native API when none claims it."""
    return next((surface for surface in SURFACES if path.startswith(surface.prefixes)), NATIVE)
