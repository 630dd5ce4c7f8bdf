"""The sweeper: no generation stays queued or processing forever, and none is settled twice."""
import logging
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from app.extensions import db, redis_queues
from app.generations import lifecycle
from app.generations.dispatch import enqueue_after_commit
from app.generations.models import Generation, GenerationStatus
from app.timeutil import utcnow

log = logging.getLogger(__name__)

LIVE_JOB_STATUSES = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}
WORKER_LOST = "The worker running this job stopped before it finished."


class QueueContents:
    """What RQ really holds for each job, read once per sweep: a job hash alone is not a place in a queue."""

    def __init__(self):
        self.waiting = set()
        for queue in redis_queues.all_queues():
            self.waiting.update(queue.get_job_ids())

    def is_alive(self, job_id: str) -> bool:
        """Whether RQ will run (or is running) this job: it is on a queue list, scheduled, deferred or started."""
        try:
            job = Job.fetch(job_id, connection=redis_queues.connection)
        except NoSuchJobError:
            return False
        status = job.get_status()
        if status is JobStatus.QUEUED:
            # A Redis restart can bring back the job's hash without its entry in the queue's list.
            return job_id in self.waiting
        if status is JobStatus.SCHEDULED:
            return job_id in redis_queues.queue(job.origin).scheduled_job_registry
        return status in LIVE_JOB_STATUSES


def _clean_rq_registries() -> None:
    """Let RQ move jobs whose worker stopped heart-beating to its failed registry."""
    for queue in redis_queues.all_queues():
        queue.started_job_registry.cleanup()


def sweep_generations() -> dict:
    """Fail or retry abandoned and overdue generations; re-dispatch queued ones whose RQ job was lost."""
    _clean_rq_registries()
    now, config = utcnow(), current_app.config
    run_deadline = now - timedelta(seconds=config["JOB_TIMEOUT"] + config["ABANDON_GRACE"])
    queue_deadline = now - timedelta(seconds=config["QUEUED_DEADLINE"])
    lifetime_deadline = now - timedelta(seconds=config["MAX_LIFETIME"])
    unfinished = db.session.scalars(
        sa.select(Generation).where(Generation.status.in_(lifecycle.ACTIVE)).order_by(Generation.created_at)
    ).all()
    report = {"failed": [], "retried": [], "requeued": []}
    queues = QueueContents()
    for generation in unfinished:
        job_alive = queues.is_alive(generation.rq_job_id or generation.id)
        if generation.created_at < lifetime_deadline:
            _fail(generation, "expired", "The job did not finish within its lifetime and was stopped.", report)
        elif generation.status is GenerationStatus.PROCESSING:
            if not job_alive or generation.started_at < run_deadline:
                _retry_or_fail(generation, report)
        elif generation.created_at < queue_deadline:
            _fail(generation, "queue_timeout", "No worker picked up this job in time.", report)
        elif not job_alive:
            enqueue_after_commit(generation)
            report["requeued"].append(generation)
    db.session.commit()
    if any(report.values()):
        log.warning("sweeper: %s", {k: len(v) for k, v in report.items()})
    return {key: [g.id for g in rows] for key, rows in report.items()}


def _fail(generation: Generation, code: str, message: str, report: dict) -> None:
    if lifecycle.fail_generation(generation, code, message):
        report["failed"].append(generation)


def _retry_or_fail(generation: Generation, report: dict) -> None:
    if lifecycle.retry_later(generation, "worker_lost", WORKER_LOST, backoff=False) is not None:
        report["retried"].append(generation)
    else:
        _fail(generation, "worker_lost", f"{WORKER_LOST} Please try again.", report)
