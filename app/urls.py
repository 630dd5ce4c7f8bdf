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


def app_path(endpoint: str, **values) -> str:
    """url_for's path, also outside a request (a job building URLs for a provider or a callback)."""
    if has_request_context():
        return url_for(endpoint, **values)
    return current_app.url_map.bind("localhost", script_name="/").build(endpoint, values)


def public_url_for(endpoint: str, **values) -> str:
    """url_for, absolute on the public base URL."""
    return absolute(app_path(endpoint, **values))
