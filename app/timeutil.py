"""Time helpers: naive UTC everywhere, so SQLite and PostgreSQL store the same values."""
from datetime import datetime, timezone


def utcnow() -> datetime:
    """The current time as naive UTC."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def isoformat(moment: datetime | None) -> str | None:
    """A naive UTC datetime as an ISO 8601 string with a Z suffix."""
    return moment.isoformat(timespec="seconds") + "Z" if moment else None
