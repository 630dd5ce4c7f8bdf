"""Live progress: the durable row is the truth; Redis pub/sub tells open pages that it changed."""
import json
import logging
import time

import sqlalchemy as sa
from redis.exceptions import RedisError

from app.extensions import db, redis_queues
from app.generations.models import Generation

log = logging.getLogger(__name__)


def channel(generation_id: str) -> str:
    return f"stagecraft:generation:{generation_id}"


def project_channel(project_id: int) -> str:
    return f"stagecraft:project:{project_id}:generations"


def publish(generation_id: str, project_id: int | None = None, **state) -> None:
    """Tell listeners that a generation's status or progress changed (pages re-read the row).

    With its project id, the listing's own channel hears it too (the studio follows a whole listing).
    """
    message = json.dumps({"id": generation_id, **state})
    try:
        redis_queues.connection.publish(channel(generation_id), message)
        if project_id is not None:
            redis_queues.connection.publish(project_channel(project_id), message)
    except RedisError:
        # Listeners also re-read the row on a timer, so they catch up without the message.
        log.warning("could not announce a change of generation %s", generation_id)


class Listener:
    """Waits for the next change on a channel: woken by pub/sub, or by a timer while Redis does not answer."""

    def __init__(self, channel_name: str):
        try:
            self.pubsub = redis_queues.connection.pubsub(ignore_subscribe_messages=True)
            self.pubsub.subscribe(channel_name)
        except RedisError:
            log.warning("following %s by timer: Redis is unreachable", channel_name)
            self.pubsub = None

    def wait(self, timeout: float) -> None:
        """Return after the next announcement, or after `timeout` seconds at most."""
        if self.pubsub is not None:
            try:
                self.pubsub.get_message(timeout=timeout)
                return
            except RedisError:
                self.close()
        time.sleep(timeout)

    def drain(self) -> None:
        """Forget announcements already waiting: one re-read after them sees all they announced."""
        try:
            while self.pubsub is not None and self.pubsub.get_message(timeout=0) is not None:
                pass
        except RedisError:
            self.close()

    def close(self) -> None:
        if self.pubsub is not None:
            try:
                self.pubsub.close()
            except RedisError:
                pass
            self.pubsub = None


def listen(generation_id: str) -> Listener:
    """Start following a generation's changes (before reading its row, so no change is missed)."""
    return Listener(channel(generation_id))


def listen_to_project(project_id: int) -> Listener:
    """Start following the changes of every generation of a project (before reading them)."""
    return Listener(project_channel(project_id))


def fresh_read(generation_id: str, render):
    """render(generation) from one fresh read of its row, with whether that same read found it finished.

    For streams that wait between reads: the read transaction ends before returning, and since that
    expires the row (a later attribute access would reload it, newer than what was rendered),
    the finished-decision is taken before it.
    """
    db.session.expire_all()
    generation = db.session.get(Generation, generation_id, options=[sa.orm.selectinload(Generation.outputs)])
    rendered, finished = render(generation), generation.is_terminal
    db.session.rollback()
    return rendered, finished


def wait_for_end(generation, seconds: float):
    """The generation re-read until it reaches a terminal state or `seconds` pass, woken by its announcements.

    Each re-read ends the session's transaction first, so it sees what the worker committed meanwhile.
    """
    listener = listen(generation.id)
    deadline = time.monotonic() + seconds
    try:
        db.session.rollback()
        generation = db.session.get(type(generation), generation.id)
        while not generation.is_terminal and (left := deadline - time.monotonic()) > 0:
            listener.wait(min(left, 5))
            db.session.rollback()
            generation = db.session.get(type(generation), generation.id)
    finally:
        listener.close()
    return generation
