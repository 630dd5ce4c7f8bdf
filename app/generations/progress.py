"""Live progress: the durable row is the truth; Redis pub/sub tells open pages that it changed."""
import json

from app.extensions import redis_queues


def channel(generation_id: str) -> str:
    return f"stagecraft:generation:{generation_id}"


def publish(generation) -> None:
    """Tell listeners that a generation's status or progress changed."""
    message = {
        "id": generation.id,
        "status": generation.status.value,
        "done": generation.progress_done,
        "total": generation.progress_total,
        "message": generation.progress_message,
    }
    redis_queues.connection.publish(channel(generation.id), json.dumps(message))


def subscribe(generation_id: str):
    """A pub/sub subscription to one generation's changes."""
    pubsub = redis_queues.connection.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channel(generation_id))
    return pubsub
