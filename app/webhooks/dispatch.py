"""After commit, and only then: put delivery attempts on the RQ queue.

A delivery row is written in the same transaction as the change it reports (a generation ending);
its job is queued once that transaction commits, and never if it rolls back. If Redis cannot take
the job, the row stays pending and the delivery sweeper queues it later.
"""
import logging
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from redis.exceptions import RedisError

from app.after_commit import after_commit
from app.extensions import redis_queues

log = logging.getLogger(__name__)

JOB_FUNCTION = "jobs.webhooks.deliver"
# After high-priority image work, before low-priority work: a caller is waiting to hear of its result.
QUEUE = "default"


def attempt_timeout() -> int:
    """Seconds one attempt's job may take: the POST's timeout plus room for its two short transactions."""
    return int(current_app.config["WEBHOOK_TIMEOUT"]) + 60


@dataclass(frozen=True)
class EnqueueAttempt:
    """One RQ job for one numbered attempt of a delivery."""

    delivery_id: str
    attempt: int
    delay: int = 0

    @property
    def job_id(self) -> str:
        return f"{self.delivery_id}-{self.attempt}"

    def __call__(self) -> None:
        enqueue_attempt(self)


def enqueue_attempt_after_commit(delivery_id: str, attempt: int, delay: int = 0) -> None:
    """Queue attempt number `attempt` of a delivery (after delay seconds) once the session commits."""
    after_commit(EnqueueAttempt(delivery_id, attempt, delay))


def enqueue_attempt(job: EnqueueAttempt) -> bool:
    """Put one attempt on the queue (delayed ones wait in RQ's scheduled registry for the worker's scheduler)."""
    queue = redis_queues.queue(QUEUE)
    options = dict(
        job_id=job.job_id, job_timeout=attempt_timeout(), result_ttl=3600, failure_ttl=7 * 24 * 3600,
        description=f"callback {job.delivery_id} attempt {job.attempt}",
    )
    try:
        if job.delay:
            queue.enqueue_in(timedelta(seconds=job.delay), JOB_FUNCTION, job.delivery_id, attempt=job.attempt, **options)
        else:
            queue.enqueue(JOB_FUNCTION, job.delivery_id, attempt=job.attempt, **options)
    except RedisError:
        log.warning("could not queue callback %s; the sweeper will retry", job.delivery_id, exc_info=True)
        return False
    return True
