"""The sweeper: no generation stays queued or processing forever."""
import logging
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from app.extensions import db, redis_queues
from app.generations import progress, service
from app.generations.models import Generation, GenerationStatus
from app.timeutil import utcnow

log = logging.getLogger(__name__)

LIVE_JOB_STATUSES = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}
# Time past the job timeout that we allow for RQ itself to notice a dead work horse.
GRACE_SECONDS = 60


def _job_status(generation_id: str) -> JobStatus | None:
    try:
        return Job.fetch(generation_id, connection=redis_queues.connection).get_status()
    except NoSuchJobError:
        return None


def sweep_generations() -> dict:
    """Fail abandoned and overdue generations; re-enqueue queued ones whose RQ job was lost."""
    now = utcnow()
    config = current_app.config
    run_deadline = now - timedelta(seconds=config["JOB_TIMEOUT"] + GRACE_SECONDS)
    queue_deadline = now - timedelta(seconds=config["QUEUED_DEADLINE"])
    unfinished = db.session.scalars(
        sa.select(Generation).where(Generation.status.in_(service.ACTIVE)).order_by(Generation.created_at)
    ).all()
    failed, requeued = [], []
    for generation in unfinished:
        job_status = _job_status(generation.id)
        if generation.status is GenerationStatus.PROCESSING:
            if job_status not in LIVE_JOB_STATUSES or generation.started_at < run_deadline:
                if service.fail_generation(
                    generation.id,
                    "worker_lost",
                    "The worker running this job stopped before it finished. Please try again.",
                ):
                    failed.append(generation)
        elif generation.created_at < queue_deadline or job_status in {JobStatus.FAILED, JobStatus.STOPPED}:
            if service.fail_generation(
                generation.id, "queue_timeout", "No worker picked up this job in time. Please try again."
            ):
                failed.append(generation)
        elif job_status is None:
            requeued.append(generation)
    db.session.commit()
    for generation in requeued:
        service.enqueue_generation(generation)
    for generation in failed:
        db.session.refresh(generation)
        progress.publish(generation)
    if failed or requeued:
        log.warning("sweeper failed %d and re-enqueued %d generations", len(failed), len(requeued))
    return {"failed": [g.id for g in failed], "requeued": [g.id for g in requeued]}
