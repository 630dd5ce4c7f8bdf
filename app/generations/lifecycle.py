"""A generation's life: queued → processing → succeeded | failed | canceled.

Every move is one guarded UPDATE that only applies from the expected states, and the credit
movement that goes with it (capture or refund) is written in the same transaction, so a late
webhook, a duplicate job or a racing sweeper can never settle a generation twice. Each move
that happens is announced to listeners once it is committed (dispatch.py).
"""
import sqlalchemy as sa
from flask import current_app

from app.credits import service as credits
from app.errors import ApiError
from app.extensions import db
from app.generations.dispatch import announce_after_commit, enqueue_after_commit
from app.generations.estimates import record_duration
from app.generations.models import Generation, GenerationStatus
from app.generations.outputs import store_outputs
from app.projects.models import Project, Workspace
from app.providers.base import StopRequested
from app.timeutil import utcnow
from app.webhooks.service import schedule_generation_callback

ACTIVE = (GenerationStatus.QUEUED, GenerationStatus.PROCESSING)


class CancelRequested(StopRequested):
    """Raised inside a running job when its generation was asked to stop."""


def transition(generation: Generation, to: GenerationStatus, from_states, *conditions, **values) -> bool:
    """Move a generation to a new status only if it is in one of from_states; True if it moved."""
    result = db.session.execute(
        sa.update(Generation)
        .where(Generation.id == generation.id, Generation.status.in_(list(from_states)), *conditions)
        .values(status=to, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    db.session.refresh(generation)
    announce_after_commit(generation)
    if to.is_terminal and generation.callback_url:
        # Same transaction as the move: the callback exists exactly when the generation ended, once.
        schedule_generation_callback(generation)
    return True


def workspace_id_of(generation: Generation) -> int:
    return db.session.scalar(sa.select(Project.workspace_id).where(Project.id == generation.project_id))


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
        generation,
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
    announce_after_commit(generation)


def record_upstream_request(generation: Generation, upstream_id: str) -> None:
    """Note the AI provider's id for the request it is working on (resumed, not resubmitted, after a crash)."""
    generation.upstream_request_id = upstream_id[:255]
    db.session.flush()


def complete_generation(generation: Generation, result) -> None:
    """Store the outputs as images of the project, mark the generation succeeded and capture its credits.

    A generation canceled or deleted meanwhile (or already ended by the sweeper) raises CancelRequested
    instead, and the caller's rollback drops the outputs: nothing is stored for work nobody wants.
    """
    db.session.refresh(generation, ["cancel_requested_at", "deleted_at"])
    if generation.cancel_requested_at is not None or generation.deleted_at is not None:
        raise CancelRequested()
    project = db.session.get(Project, generation.project_id)
    store_outputs(project, generation, result)
    moved = transition(
        generation, GenerationStatus.SUCCEEDED, [GenerationStatus.PROCESSING],
        Generation.cancel_requested_at.is_(None), Generation.deleted_at.is_(None),
        finished_at=utcnow(), progress_message=done_message(result), is_placeholder=result.placeholder,
    )
    if not moved:
        raise CancelRequested()
    credits.capture(project.workspace_id, generation.id)
    record_duration(generation)


def done_message(result) -> str:
    """The last progress line: "Done", with what the provider reported about the result (an angle straightened)."""
    notes = getattr(result, "notes", ())
    return f"Done. {' '.join(notes)}"[:255] if notes else "Done"


def end_unsuccessfully(generation: Generation, to: GenerationStatus, code: str, message: str, from_states=ACTIVE) -> bool:
    """Mark an unfinished generation failed or canceled and refund its credits, once."""
    moved = transition(generation, to, from_states, finished_at=utcnow(), error_code=code, error_message=message)
    if moved and generation.cost:
        credits.refund(workspace_id_of(generation), generation.id, generation.cost, f"Refund: {message}"[:255])
    return moved


def fail_generation(generation: Generation, code: str, message: str) -> bool:
    return end_unsuccessfully(generation, GenerationStatus.FAILED, code, message)


def retry_later(
    generation: Generation, code: str, message: str, backoff: bool = True, at_least: float | None = None, **changes
) -> int | None:
    """Put a running generation back in the queue for another attempt; the delay, or None if none are left.

    Without backoff it runs again at once (its worker was lost; the work itself did not fail); never
    sooner than `at_least` seconds when the provider advised that. `changes` set columns for the next
    attempt: another provider and model, or no upstream request to resume.
    """
    if generation.attempts >= current_app.config["MAX_ATTEMPTS"]:
        return None
    delay = current_app.config["RETRY_BACKOFF"] * 2 ** (generation.attempts - 1) if backoff else 0
    delay = max(delay, round(at_least or 0))  # the provider's advice, when it gave one
    moved = transition(
        generation, GenerationStatus.QUEUED, [GenerationStatus.PROCESSING],
        rq_job_id=f"{generation.id}-{generation.attempts + 1}",
        error_code=code, error_message=f"{message} Retrying (attempt {generation.attempts + 1}).",
        progress_done=0, progress_message="Waiting to retry", **changes,
    )
    if not moved:
        return None
    enqueue_after_commit(generation, delay=delay)
    return delay


def request_cancel(generation: Generation) -> GenerationStatus:
    """Cancel a queued generation at once (refunded); ask a running one to stop at its next step; 409 once ended."""
    if generation.is_terminal:
        raise ApiError(
            f"The generation already ended ({generation.status.value}); there is nothing to cancel.",
            status=409, code="conflict",
        )
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
    announce_after_commit(generation)
    return generation.status
