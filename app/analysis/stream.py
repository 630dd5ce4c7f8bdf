"""Server-sent events for an analysis run: read from the session's Redis stream, resumable by event id."""
import json
import logging
import time

from redis.exceptions import RedisError

from app.analysis import events
from app.sse import sse_event

log = logging.getLogger(__name__)

KEEP_ALIVE_SECONDS = 15
# Each blocking read stays under redis-py's 5-second socket timeout.
READ_BLOCK_MS = 4000
# A stream is closed after this long; the client reconnects with Last-Event-ID and loses nothing.
MAX_STREAM_SECONDS = 900
RETRY_MS = 3000


def follow(session_id: str, run: int, after: str, render=None):
    """The run's events after `after`, keep-alive comments while waiting, ending after `complete`.

    `render(name, data)` turns an event into (name, payload) for pages; the API sends the JSON as is.
    """
    yield f"retry: {RETRY_MS}\n\n"
    deadline = time.monotonic() + MAX_STREAM_SECONDS
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        try:
            batch = events.read(session_id, after, READ_BLOCK_MS)
        except RedisError:
            # The client reconnects (retry:) with Last-Event-ID and loses nothing once Redis is back.
            log.warning("analysis stream of %s ended: Redis did not answer", session_id)
            return
        if not batch:
            if time.monotonic() - quiet_since >= KEEP_ALIVE_SECONDS:
                quiet_since = time.monotonic()
                yield ": keep-alive\n\n"
            continue
        quiet_since = time.monotonic()
        for event_id, name, event_run, data in batch:
            after = event_id
            if event_run != run:
                continue
            if render is None:
                yield sse_event(name, json.dumps(data), event_id)
            else:
                yield sse_event(*render(name, data), event_id)
            if name == "complete":
                return


def wait_for_result(session_id: str, run: int, after: str, image_id: str, timeout: float) -> tuple[str, dict] | None:
    """Block until this run's result or error for one photo arrives; None after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        for event_id, name, event_run, data in events.read(session_id, after, int(min(left * 1000, READ_BLOCK_MS)) or 1):
            after = event_id
            if event_run == run and name in ("result", "error") and data.get("imageId") == image_id:
                return name, data
    return None
