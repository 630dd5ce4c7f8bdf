"""API-key authentication for the JSON surfaces."""
import logging
import time
from contextlib import contextmanager
from functools import wraps

from flask import current_app, g, make_response, request
from limits import parse as parse_limit

from app import database
from app.auth.service import (
    BOOKKEEPING_LOCK_WAIT, KEY_USE_DUE, find_api_key, note_key_use_at_commit, record_key_use,
)
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
log = logging.getLogger(__name__)


def spend_key_request(key) -> dict:
    """Count one request against the key's hourly budget (the one per_key_limit counts); its X-RateLimit headers.

    For views that charge only some requests (a live URL's cache MISS): 429 with Retry-After when it is used up.
    """
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return {}
    item = parse_limit(f"{key.rate_limit or current_app.config['API_RATE_LIMIT']}/hour")
    identifiers = (f"api-key:{key.id}", "api-key")
    try:
        allowed = limiter.limiter.hit(item, *identifiers)
        reset, remaining = limiter.limiter.get_window_stats(item, *identifiers)
    except Exception:
        # The limiter's own rule (RATELIMIT_SWALLOW_ERRORS): a storage outage must not refuse the request.
        log.warning("API key rate limit not counted: the limiter's storage failed", exc_info=True)
        return {}
    headers = {"X-RateLimit-Limit": str(item.amount), "X-RateLimit-Remaining": str(remaining),
               "X-RateLimit-Reset": str(int(reset))}
    if not allowed:
        retry_after = max(1, int(reset - time.time()))
        raise ApiError(
            f"Rate limit exceeded ({item.amount} per 1 hour) for this API key; wait for Retry-After seconds "
            "and try again.", status=429, code="rate_limited", headers={**headers, "Retry-After": str(retry_after)},
        )
    return headers


def api_key_required(view):
    """Authenticate by API key and apply its rate limit; the view finds g.api_key and g.project."""
    limited_view = per_key_limit(view)

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = find_api_key(api_key_from_request())
        g.api_key, g.project = key, key.project
        workspace_id = key.project.workspace_id
        with key_use_noted(key):
            response = make_response(limited_view(*args, **kwargs))
        balance = credits.balance(workspace_id)
        response.headers["X-Credits-Balance"] = str(balance)
        if balance < current_app.config["LOW_BALANCE_THRESHOLD"]:
            response.headers["X-Credits-Low"] = "true"
        return response

    return wrapper




@contextmanager
def key_use_noted(key):
    """Around a request's work: note the key's use (if the last note is over a minute old) in the request's one commit."""
    note_key_use_at_commit(key)
    try:
        yield
    finally:
        key_id = db.session.info.pop(KEY_USE_DUE, None)
        if key_id is not None:  # the work committed nothing (a read, a refusal): the note is the request's one commit
            _note_key_use(key_id)


def _note_key_use(key_id: int) -> None:
    """Record the key's last use in a short transaction of its own, for a request whose work committed nothing."""
    db.session.rollback()  # whatever the view left uncommitted was not meant to be kept
    try:
        with database.lock_wait(BOOKKEEPING_LOCK_WAIT):
            record_key_use(key_id)
            db.session.commit()
    except Exception as error:
        # Bookkeeping must never cost the caller their answer.
        db.session.rollback()
        if not database.is_busy(error):
            raise


def optional_json_body() -> dict:
    """The request's JSON object body, or {} when there is no body at all; 400 for anything else (null, garbage)."""
    if not request.get_data(cache=True).strip():
        return {}
    return json_body()


def json_body() -> dict:
    """The request's JSON object body; 400 saying what to send otherwise."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError("Send a JSON object body with Content-Type: application/json.")
    return body
