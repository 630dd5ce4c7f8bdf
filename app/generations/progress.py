"""Live progress: the durable row is the truth; Redis pub/sub tells open pages that it changed."""
import json
import logging

from redis.exceptions import RedisError

from app.extensions import redis_queues

log = logging.getLogger(__name__)


def channel(generation_id: str) -> str:
    return f"stagecraft:generation:{generation_id}"


def publish(generation_id: str, **state) -> None:
    """Tell listeners that a generation's status or progress changed (pages re-read the row)."""
    try:
        redis_queues.connection.publish(channel(generation_id), json.dumps({"id": generation_id, **state}))
    except RedisError:
        # Listeners also re-read the row on a timer, so they catch up without the message.
        log.warning("could not announce a change of generation %s", generation_id)


def subscribe(generation_id: str):
    """A pub/sub subscription to one generation's changes."""
    pubsub = redis_queues.connection.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channel(generation_id))
    return pubsub
