"""A generation's life: queued → processing → succeeded | failed | canceled.

Every move is one guarded UPDATE that only applies from the expected states, and the credit
movement that goes with it (capture or refund) is written in the same transaction, so a late
webhook, a duplicate job or a racing sweeper can never settle a generation twice.
"""
import hashlib
import logging
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from redis.exceptions import RedisError

from app.credits import service as credits
from app.extensions import db, redis_queues
from app.generations.models import Flow, Generation, GenerationStatus
from app.images.models import Image
from app.images.service import store_image_files
from app.imaging.io import encode_image
from app.projects.models import Project, Workspace
from app.timeutil import utcnow

log = logging.getLogger(__name__)

ACTIVE = (GenerationStatus.QUEUED, GenerationStatus.PROCESSING)


class CancelRequested(Exception):
    """Raised inside a running job when its generation was asked to stop."""


def transition(generation_id: str, to: GenerationStatus, from_states, *conditions, **values) -> bool:
    """Move a generation to a new status only if it is in one of from_states; True if it moved."""
    result = db.session.execute(
        sa.update(Generation)
        .where(Generation.id == generation_id, Generation.status.in_(list(from_states)), *conditions)
        .values(status=to, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def workspace_id_of(generation: Generation) -> int:
    return db.session.scalar(sa.select(Project.workspace_id).where(Project.id == generation.project_id))


def queue_name_for(priority: int) -> str:
    """Larger priority runs sooner."""
    return "high" if priority > 0 else "low" if priority < 0 else "default"


def dispatch(generation: Generation, delay: int = 0) -> bool:
    """Put a committed, queued generation on its RQ queue (after `delay` seconds).

    If Redis is unreachable the generation stays queued and the sweeper dispatches it later.
    """
    queue = redis_queues.queue(queue_name_for(generation.priority))
    options = dict(
        job_id=generation.rq_job_id or generation.id,
        job_timeout=current_app.config["JOB_TIMEOUT"],
        result_ttl=3600,
        failure_ttl=7 * 24 * 3600,
        description=f"generation {generation.id} ({generation.preset or generation.kind})",
    )
    try:
        if delay:
            queue.enqueue_in(timedelta(seconds=delay), "jobs.generation.run_generation", generation.id, **options)
        else:
            queue.enqueue("jobs.generation.run_generation", generation.id, **options)
    except RedisError:
        log.warning("could not enqueue generation %s; the sweeper will retry", generation.id, exc_info=True)
        return False
    return True


def start_generation(generation: Generation) -> bool:
    """queued → processing, unless its workspace already runs its limit of generations."""
    workspace_id = workspace_id_of(generation)
    # Serialise starts per workspace (a row lock on PostgreSQL; SQLite serialises writes anyway),
    # so two workers cannot both see room for one more.
    db.session.execute(sa.select(Workspace.id).where(Workspace.id == workspace_id).with_for_update())
    running_in_workspace = (
        sa.select(sa.func.count(Generation.id))
        .join(Project, Project.id == Generation.project_id)
        .where(Project.workspace_id == workspace_id, Generation.status == GenerationStatus.PROCESSING)
        .scalar_subquery()
    )
    return transition(
        generation.id,
        GenerationStatus.PROCESSING,
        [GenerationStatus.QUEUED],
        running_in_workspace < current_app.config["WORKSPACE_CONCURRENCY"],
        started_at=utcnow(),
        attempts=Generation.attempts + 1,
    )


def record_progress(generation: Generation, done: int, total: int, message: str) -> None:
    """Store a running generation's progress; stop it here if a cancel was requested."""
    db.session.refresh(generation, ["cancel_requested_at"])
    if generation.cancel_requested_at is not None:
        raise CancelRequested()
    generation.progress_done, generation.progress_total, generation.progress_message = done, total, message[:255]
    db.session.flush()


MIME_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


def complete_generation(generation: Generation, result) -> bool:
    """Store the outputs as images of the project, mark the generation succeeded and capture its credits."""
    project = db.session.get(Project, generation.project_id)
    outputs = []
    for pixels in result.images:
        data = encode_image(pixels, generation.output_format.upper(), quality=92)
        image = Image(
            project_id=project.id,
            source="generated",
            mime=MIME_TYPES[generation.output_format],
            width=pixels.width,
            height=pixels.height,
            size_bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            generation_id=generation.id,
            flow_id=generation.flow_id,
            meta={"placeholder": True} if result.placeholder else {},
        )
        store_image_files(project, image, data, pixels)
        outputs.append(image)
    if outputs:
        assign_output_aliases(project, generation, outputs[0])
    moved = transition(
        generation.id, GenerationStatus.SUCCEEDED, [GenerationStatus.PROCESSING],
        finished_at=utcnow(), progress_message="Done", is_placeholder=result.placeholder,
    )
    if moved:
        credits.capture(project.workspace_id, generation.id)
        record_duration(generation)
    return moved


def assign_output_aliases(project: Project, generation: Generation, image: Image) -> None:
    """Give the first output the aliases the request asked for; a project alias taken meanwhile is skipped."""
    if generation.assign_alias:
        taken = db.session.scalar(
            sa.select(Image.id).where(
                Image.project_id == project.id, Image.alias == generation.assign_alias, Image.deleted_at.is_(None)
            )
        )
        if taken is None:
            image.alias = generation.assign_alias
        else:
            log.warning("alias %s was taken before generation %s finished", generation.assign_alias, generation.id)
    if generation.assign_flow_alias and generation.flow_id:
        flow = db.session.get(Flow, generation.flow_id)
        flow.aliases = {**(flow.aliases or {}), generation.assign_flow_alias: image.id}
    db.session.flush()


def end_unsuccessfully(generation: Generation, to: GenerationStatus, code: str, message: str, from_states=ACTIVE) -> bool:
    """Mark an unfinished generation failed or canceled and refund its credits, once."""
    moved = transition(
        generation.id, to, from_states, finished_at=utcnow(), error_code=code, error_message=message
    )
    if moved and generation.cost:
        credits.refund(workspace_id_of(generation), generation.id, generation.cost, f"Refund: {message}"[:255])
    return moved


def fail_generation(generation: Generation, code: str, message: str) -> bool:
    return end_unsuccessfully(generation, GenerationStatus.FAILED, code, message)


def retry_later(generation: Generation, code: str, message: str) -> int | None:
    """Put a running generation back in the queue for another attempt; the delay, or None if none are left."""
    if generation.attempts >= current_app.config["MAX_ATTEMPTS"]:
        return None
    delay = current_app.config["RETRY_BACKOFF"] * 2 ** (generation.attempts - 1)
    moved = transition(
        generation.id, GenerationStatus.QUEUED, [GenerationStatus.PROCESSING],
        rq_job_id=f"{generation.id}-{generation.attempts + 1}",
        error_code=code, error_message=f"{message} Retrying (attempt {generation.attempts + 1}).",
        progress_done=0, progress_message="Waiting to retry",
    )
    return delay if moved else None


def request_cancel(generation: Generation) -> GenerationStatus:
    """Cancel a queued generation at once (refunded); ask a running one to stop at its next step."""
    if end_unsuccessfully(generation, GenerationStatus.CANCELED, "canceled", "Canceled on request.",
                          from_states=[GenerationStatus.QUEUED]):
        return GenerationStatus.CANCELED
    db.session.execute(
        sa.update(Generation)
        .where(Generation.id == generation.id, Generation.status == GenerationStatus.PROCESSING)
        .values(cancel_requested_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(generation)
    return generation.status


DURATIONS_KEY = "stagecraft:durations"


def record_duration(generation: Generation) -> None:
    """Fold this run's duration into the moving average for its provider and model."""
    db.session.refresh(generation, ["started_at", "finished_at"])
    seconds = (generation.finished_at - generation.started_at).total_seconds()
    field = f"{generation.provider}:{generation.model or ''}"
    try:
        previous = redis_queues.connection.hget(DURATIONS_KEY, field)
        average = seconds if previous is None else 0.8 * float(previous) + 0.2 * seconds
        redis_queues.connection.hset(DURATIONS_KEY, field, f"{average:.3f}")
    except RedisError:
        log.warning("could not record the duration of %s", generation.id)


def average_duration(provider: str, model: str | None) -> float | None:
    value = redis_queues.connection.hget(DURATIONS_KEY, f"{provider}:{model or ''}")
    return float(value) if value is not None else None
