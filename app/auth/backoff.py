"""Per-account login back-off: after several wrong passwords in a row, the account waits, longer each time."""
import hashlib
import logging

from flask import current_app
from redis.exceptions import RedisError

from app.errors import ApiError
from app.extensions import redis_queues

log = logging.getLogger(__name__)

FIRST_WAIT = 60  # seconds, doubling with each further failure
LONGEST_WAIT = 15 * 60
FORGET_AFTER = 24 * 3600  # a failure streak older than this starts again from zero


def _keys(email: str) -> tuple[str, str]:
    digest = hashlib.sha256(email.strip().lower().encode("utf-8", "replace")).hexdigest()[:32]
    return f"stagecraft:login-failures:{digest}", f"stagecraft:login-locked:{digest}"


def check_allowed(email: str) -> None:
    """429 saying how long to wait while the account is locked after too many wrong passwords."""
    try:
        wait = redis_queues.connection.ttl(_keys(email)[1])
    except RedisError:
        log.warning("login back-off skipped: Redis is unreachable")
        return
    if wait and wait > 0:
        minutes = max(1, round(wait / 60))
        raise ApiError(
            f"Too many wrong passwords for this account. Wait {minutes} minute{'s' if minutes != 1 else ''}"
            " and try again, or ask your administrator to reset the password.",
            status=429, code="rate_limited", headers={"Retry-After": str(wait)},
        )


def record_failure(email: str) -> None:
    """Count a wrong password; from the threshold on, lock the account for a doubling while."""
    failures_key, locked_key = _keys(email)
    try:
        connection = redis_queues.connection
        failures = connection.incr(failures_key)
        connection.expire(failures_key, FORGET_AFTER)
        over = failures - current_app.config["LOGIN_FAILURES_BEFORE_BACKOFF"]
        if over >= 0:
            connection.set(locked_key, 1, ex=min(LONGEST_WAIT, FIRST_WAIT * 2 ** min(over, 10)))
    except RedisError:
        log.warning("login failure not counted: Redis is unreachable")


def record_success(email: str) -> None:
    try:
        redis_queues.connection.delete(*_keys(email))
    except RedisError:
        pass
