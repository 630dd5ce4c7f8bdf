"""Absolute URLs for what leaves the app (JSON, callbacks, inputs handed to providers).

PUBLIC_BASE_URL says where clients reach Stagecraft (behind a proxy, the proxy's scheme and
host, plus any path prefix the proxy strips). Without it a request's own scheme and host are used.
"""
from flask import current_app, has_request_context, request, url_for


def base_url() -> str:
    """Scheme, host and prefix that clients use to reach the app, without a trailing slash."""
    configured = current_app.config.get("PUBLIC_BASE_URL")
    if configured:
        return configured.rstrip("/")
    if has_request_context():
        return request.host_url.rstrip("/")
    return f"http://{current_app.config['HOST']}:{current_app.config['PORT']}"


def absolute(path: str) -> str:
    """An app-relative path such as /files/… made absolute on the public base URL."""
    return base_url() + path


def public_url_for(endpoint: str, **values) -> str:
    """url_for, absolute on the public base URL."""
    return absolute(url_for(endpoint, **values))
