"""limit/offset pagination for the lists of the API and the pages, and counts for a page's rows."""
from dataclasses import dataclass

import sqlalchemy as sa
from flask import jsonify

from app.errors import ApiError
from app.extensions import db

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_INTEGER = 2**31 - 1  # larger numbers overflow the database's integer columns


@dataclass(frozen=True)
class Page:
    """One page of a list: its rows, how many match in all, and where it starts."""

    items: list
    total: int
    limit: int
    offset: int

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.items) < self.total

    @property
    def next_offset(self) -> int | None:
        return self.offset + self.limit if self.offset + self.limit < self.total else None

    @property
    def prev_offset(self) -> int | None:
        return max(0, self.offset - self.limit) if self.offset > 0 else None


def page_params(args, default_limit: int = DEFAULT_LIMIT) -> tuple[int, int]:
    """limit (at most 100) and offset (default 0) from the query string; 400 for anything else."""
    limit, offset = ((args.get(name) or "").strip() for name in ("limit", "offset"))
    if limit and whole_number(limit, 1, MAX_LIMIT) is None:
        raise ApiError(f"limit must be a whole number from 1 to {MAX_LIMIT}.")
    if offset and whole_number(offset) is None:
        raise ApiError("offset must be a whole number of 0 or more.")
    return int(limit or default_limit), int(offset or 0)


def whole_number(text: str | None, minimum: int = 0, maximum: int = MAX_INTEGER) -> int | None:
    """The whole number typed in a field or query parameter (None if blank or not one in [minimum, maximum])."""
    text = (text or "").strip()
    # More digits than the maximum has is too large, and may be too long for int() to read.
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(maximum)) or not minimum <= int(text) <= maximum:
        return None
    return int(text)


def page_response(page: Page, data: list):
    """The list envelope: a page's items as JSON (data) and the total, so clients can page through everything."""
    pagination = {"total": page.total, "limit": page.limit, "offset": page.offset, "hasMore": page.has_more}
    return jsonify(success=True, data=data, pagination=pagination)


def flag(args, name: str) -> bool:
    """A true/false query parameter."""
    value = args.get(name, "false").lower()
    if value not in {"true", "false", "1", "0"}:
        raise ApiError(f"{name} must be true or false.")
    return value in {"true", "1"}


def paginate(query, order_by: tuple, limit: int, offset: int) -> Page:
    """One page of a select() in the given order (entities, or row tuples for several columns), with the total."""
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
    result = db.session.execute(query.order_by(*order_by).limit(limit).offset(offset))
    rows = result.scalars().all() if len(query.column_descriptions) == 1 else result.all()
    return Page(list(rows), total or 0, limit, offset)


def count_per(key_column, keys: list, *conditions) -> dict:
    """How many rows match the conditions for each key (0 for none), in one grouped query."""
    query = sa.select(key_column, sa.func.count()).where(key_column.in_(keys), *conditions).group_by(key_column)
    return {key: 0 for key in keys} | dict(db.session.execute(query).all())
