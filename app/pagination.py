"""limit/offset pagination for the lists of the API and the pages, and counts for a page's rows."""
import sqlalchemy as sa
from flask import jsonify

from app.errors import ApiError
from app.extensions import db

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


def paginate(query, order_by: tuple, limit: int, offset: int) -> tuple[list, int]:
    """One page of a select() in the given order (entities, or row tuples for several columns) and the total."""
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
    result = db.session.execute(query.order_by(*order_by).limit(limit).offset(offset))
    rows = result.scalars().all() if len(query.column_descriptions) == 1 else result.all()
    return list(rows), total or 0


def count_per(key_column, keys: list, *conditions) -> dict:
    """How many rows match the conditions for each key (0 for none), in one grouped query."""
    query = sa.select(key_column, sa.func.count()).where(key_column.in_(keys), *conditions).group_by(key_column)
    return {key: 0 for key in keys} | dict(db.session.execute(query).all())
