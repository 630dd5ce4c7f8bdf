"""limit/offset pagination for the JSON lists."""
from flask import jsonify

from app.errors import ApiError

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def page_params(args) -> tuple[int, int]:
    """limit (default 20, at most 100) and offset from the query string; 400 for anything else."""
    try:
        limit = int(args.get("limit", DEFAULT_LIMIT))
        offset = int(args.get("offset", 0))
    except ValueError:
        raise ApiError("limit and offset must be whole numbers.") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise ApiError(f"limit must be from 1 to {MAX_LIMIT}.")
    if offset < 0:
        raise ApiError("offset must be 0 or more.")
    return limit, offset


def page_response(items: list, total: int, limit: int, offset: int):
    """The list envelope: data plus the total, so clients can page through everything."""
    pagination = {"total": total, "limit": limit, "offset": offset, "hasMore": offset + len(items) < total}
    return jsonify(success=True, data=items, pagination=pagination)


def flag(args, name: str) -> bool:
    """A true/false query parameter."""
    value = args.get(name, "false").lower()
    if value not in {"true", "false", "1", "0"}:
        raise ApiError(f"{name} must be true or false.")
    return value in {"true", "1"}
