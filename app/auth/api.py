"""API-key authentication for the JSON surfaces."""
from functools import wraps

from flask import current_app, g, make_response, request

from app.auth.service import find_api_key
from app.credits import service as credits
from app.errors import ApiError
from app.extensions import db, limiter


def api_key_from_request() -> str | None:
    """The key sent as X-API-Key, Authorization: Bearer <key> or Authorization: Key <key>."""
    if request.headers.get("X-API-Key"):
        return request.headers["X-API-Key"]
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() in {"bearer", "key"} and credentials.strip():
        return credentials.strip()
    return None


def _key_rate_limit() -> str:
    return f"{g.api_key.rate_limit or current_app.config['API_RATE_LIMIT']}/hour"


# One budget per key across every endpoint, counted in Redis.
per_key_limit = limiter.shared_limit(_key_rate_limit, scope="api-key", key_func=lambda: f"api-key:{g.api_key.id}")


def api_key_required(view):
    """Authenticate by API key and apply its rate limit; the view finds g.api_key and g.project."""
    limited_view = per_key_limit(view)

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = find_api_key(api_key_from_request())
        # Recording last use is bookkeeping of the key, independent of the request's own work.
        db.session.commit()
        g.api_key, g.project = key, key.project
        response = make_response(limited_view(*args, **kwargs))
        balance = credits.balance(key.project.workspace_id)
        response.headers["X-Credits-Balance"] = str(balance)
        if balance < current_app.config["LOW_BALANCE_THRESHOLD"]:
            response.headers["X-Credits-Low"] = "true"
        return response

    return wrapper


def json_body() -> dict:
    """The request's JSON object body; 400 saying what to send otherwise."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError("Send a JSON object body with Content-Type: application/json.")
    return body
