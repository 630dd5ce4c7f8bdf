"""Each session's events in a Redis stream: workers append, SSE readers follow and resume by event id."""
import json

from flask import current_app

from app.extensions import redis_queues

MAX_EVENTS = 5000


def _stream(session_id: str) -> str:
    return f"stagecraft:analysis:{session_id}:events"


def _counters(session_id: str) -> str:
    return f"stagecraft:analysis:{session_id}:counters"


def publish(session_id: str, run: int, name: str, data: dict) -> str:
    """Append one event of a run; returns its id (the SSE id)."""
    connection = redis_queues.connection
    event_id = connection.xadd(
        _stream(session_id), {"event": name, "run": str(run), "data": json.dumps(data)},
        maxlen=MAX_EVENTS, approximate=True,
    )
    connection.expire(_stream(session_id), current_app.config["ANALYSIS_SESSION_TTL"])
    return event_id.decode() if isinstance(event_id, bytes) else event_id


def latest_id(session_id: str) -> str:
    """The id of the newest event so far ("0" when there is none): a run's events come after it."""
    newest = redis_queues.connection.xrevrange(_stream(session_id), count=1)
    if not newest:
        return "0"
    event_id = newest[0][0]
    return event_id.decode() if isinstance(event_id, bytes) else event_id


def read(session_id: str, after: str, block_ms: int) -> list[tuple[str, str, int, dict]]:
    """Events after `after` as (id, name, run, data), waiting up to block_ms for the first."""
    answer = redis_queues.connection.xread({_stream(session_id): after}, count=100, block=block_ms)
    events = []
    for _stream_name, entries in answer or []:
        for event_id, fields in entries:
            fields = {_text(k): _text(v) for k, v in fields.items()}
            events.append((_text(event_id), fields["event"], int(fields["run"]), json.loads(fields["data"])))
    return events


def count(session_id: str, run: int, what: str) -> int:
    """Add one to a run's counter ("started" or "finished") and return the new value."""
    connection = redis_queues.connection
    value = connection.hincrby(_counters(session_id), f"{run}:{what}", 1)
    connection.expire(_counters(session_id), current_app.config["ANALYSIS_SESSION_TTL"])
    return int(value)


def forget(session_id: str) -> None:
    redis_queues.connection.delete(_stream(session_id), _counters(session_id))


def valid_event_id(value: str | None) -> str | None:
    """A Last-Event-ID in Redis stream form ("1700000000000-0"), or None."""
    if not value:
        return None
    millis, _, sequence = value.strip().partition("-")
    return value.strip() if millis.isdigit() and sequence.isdigit() and len(value) < 40 else None


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
