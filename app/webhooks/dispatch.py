"""After commit, and only then: put delivery attempts on the RQ queue.

A delivery row is written in the same transaction as the change it reports (a generation ending);
its job is queued once that transaction commits, and never if it rolls back. If Redis cannot take
the job, the row stays pending and the delivery sweeper queues it later.
"""
import logging
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from redis.exceptions import RedisError

from app.extensions import db, redis_queues

log = logging.getLogger(__name__)

AFTER_COMMIT = "stagecraft_webhooks_after_commit"
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
    actions = db.session.info.setdefault(AFTER_COMMIT, [])
    action = EnqueueAttempt(delivery_id, attempt, delay)
    if action not in actions:
        actions.append(action)


@sa.event.listens_for(sa.orm.Session, "after_commit")
def _run_after_commit(session) -> None:
    for action in session.info.pop(AFTER_COMMIT, []):
        action()


@sa.event.listens_for(sa.orm.Session, "after_rollback")
def _forget_after_rollback(session) -> None:
    session.info.pop(AFTER_COMMIT, None)


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
