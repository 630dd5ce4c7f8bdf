"""After commit, and only then: put generations on their RQ queue and tell open pages they changed.

Services register what should follow a change (``enqueue_after_commit``, ``announce_after_commit``);
the session runs it once the change is durable and forgets it on rollback. So a worker never
picks up a row that is not committed yet, a page never re-reads a change that was rolled back,
and no view or job repeats the "commit, then dispatch, then publish" steps.
"""
import logging
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from redis.exceptions import RedisError

from app.after_commit import after_commit
from app.extensions import redis_queues
from app.generations import progress

log = logging.getLogger(__name__)

JOB_FUNCTION = "jobs.generation.run_generation"


@dataclass(frozen=True)
class Enqueue:
    """One RQ job for one attempt of a generation."""

    generation_id: str
    job_id: str
    priority: int
    description: str
    delay: int = 0

    def __call__(self) -> None:
        enqueue(self)


@dataclass(frozen=True)
class Announce:
    """A generation's state as committed, for the pages and clients that follow it."""

    generation_id: str
    status: str
    done: int
    total: int
    message: str | None
    project_id: int | None = None

    def __call__(self) -> None:
        progress.publish(
            self.generation_id, self.project_id, status=self.status, done=self.done, total=self.total,
            message=self.message,
        )


def queue_name_for(priority: int) -> str:
    """Larger priority runs sooner."""
    return "high" if priority > 0 else "low" if priority < 0 else "default"


def enqueue_after_commit(generation, job_id: str | None = None, delay: int = 0) -> None:
    """Queue the generation (under job_id, after delay seconds) once the session commits."""
    job = Enqueue(
        generation.id, job_id or generation.rq_job_id or generation.id, generation.priority,
        f"generation {generation.id} ({generation.preset or generation.kind})", delay,
    )
    after_commit(job)


def announce_after_commit(generation) -> None:
    """Tell the generation's listeners (pages, live URLs) to look again once the session commits."""
    state = Announce(
        generation.id, generation.status.value, generation.progress_done, generation.progress_total,
        generation.progress_message, generation.project_id,
    )
    after_commit(state)


def enqueue(job: Enqueue) -> bool:
    """Put one attempt on its RQ queue. If Redis is unreachable the row stays queued and the sweeper retries."""
    queue = redis_queues.queue(queue_name_for(job.priority))
    options = dict(
        job_id=job.job_id,
        job_timeout=current_app.config["JOB_TIMEOUT"],
        result_ttl=3600,
        failure_ttl=7 * 24 * 3600,
        description=job.description,
    )
    try:
        if job.delay:
            queue.enqueue_in(timedelta(seconds=job.delay), JOB_FUNCTION, job.generation_id, **options)
        else:
            queue.enqueue(JOB_FUNCTION, job.generation_id, **options)
    except RedisError:
        log.warning("could not enqueue generation %s; the sweeper will retry", job.generation_id, exc_info=True)
        return False
    return True
