"""API-key authentication for the JSON surfaces."""
from functools import wraps

from flask import current_app, g, make_response, request

from app.auth.service import find_api_key
from app.credits import service as credits
from app.extensions import db


def api_key_from_request() -> str | None:
    """The key sent as X-API-Key, Authorization: Bearer <key> or Authorization: Key <key>."""
    if request.headers.get("X-API-Key"):
        return request.headers["X-API-Key"]
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() in {"bearer", "key"} and credentials.strip():
        return credentials.strip()
    return None


def api_key_required(view):
    """Authenticate by API key; the view finds the key in g.api_key and its project in g.project."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = find_api_key(api_key_from_request())
        # Recording last use is bookkeeping of the key, independent of the request's own work.
        db.session.commit()
        g.api_key, g.project = key, key.project
        response = make_response(view(*args, **kwargs))
        balance = credits.balance(key.project.workspace_id)
        response.headers["X-Credits-Balance"] = str(balance)
        if balance < current_app.config["LOW_BALANCE_THRESHOLD"]:
            response.headers["X-Credits-Low"] = "true"
        return response

    return wrapper
