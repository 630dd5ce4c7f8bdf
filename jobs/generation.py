"""The job that runs one generation: ids in, rows loaded, services called, commits here."""
import logging

from flask import current_app
from redis.exceptions import RedisError
from rq.timeouts import JobTimeoutException

from app import database
from app.errors import ApiError, storage_fault
from app.extensions import db
from app.generations import lifecycle, running
from app.generations.dispatch import enqueue_after_commit
from app.generations.models import Generation, GenerationStatus
from app.imaging.errors import ImageRejected
from app.providers import routing
from app.providers.base import ProviderError
from app.timeutil import utcnow

log = logging.getLogger(__name__)


def run_generation(generation_id: str) -> None:
    """Run a queued generation to a terminal state; on failure mark it (and refund or retry), then re-raise."""
    generation = db.session.get(Generation, generation_id)
    if generation is None or generation.status is not GenerationStatus.QUEUED:
        log.info("generation %s is not queued any more; nothing to do", generation_id)
        return
    if not lifecycle.start_generation(generation):
        _defer_busy_workspace(generation)
        return
    db.session.commit()
    try:
        result = running.run_provider(
            generation,
            report=lambda *step: _report(generation, *step),
            remember=lambda upstream_id: _remember(generation, upstream_id),
        )
        lifecycle.complete_generation(generation, result)
        db.session.commit()
        routing.record_success(generation.provider)
    except Exception as error:
        db.session.rollback()
        db.session.refresh(generation)
        if not _settle_failure(generation, error):
            raise


def _defer_busy_workspace(generation: Generation) -> None:
    """The workspace runs its limit of jobs: try again shortly under a new job id."""
    db.session.rollback()
    db.session.refresh(generation)
    if generation.status is not GenerationStatus.QUEUED:
        return
    generation.rq_job_id = f"{generation.id}-wait{utcnow():%H%M%S%f}"
    enqueue_after_commit(generation, delay=current_app.config["WORKSPACE_BUSY_DELAY"])
    db.session.commit()


def _settle_failure(generation: Generation, error: Exception) -> bool:
    """Cancel, retry or fail the generation; True when the error was handled and need not propagate."""
    if isinstance(error, lifecycle.CancelRequested):
        lifecycle.end_unsuccessfully(
            generation, GenerationStatus.CANCELED, "canceled", "Canceled on request.",
            from_states=[GenerationStatus.PROCESSING],
        )
        db.session.commit()
        return True
    code, message, retryable = describe_failure(error)
    log.warning("generation %s failed: %s (%s)", generation.id, message, code)
    if isinstance(error, ProviderError) and retryable:
        routing.record_failure(generation.provider)
    retried = retryable and _retry(generation, error, code, message)
    if not retried:
        lifecycle.fail_generation(generation, code, message)
    db.session.commit()
    return False


def _retry(generation: Generation, error: Exception, code: str, message: str) -> bool:
    """Another attempt: after a provider's failure a fresh upstream request, on the next provider able to do it."""
    if not isinstance(error, ProviderError):
        # A timeout or a lost worker: the upstream request (if any) may still finish, so it is resumed.
        return lifecycle.retry_later(generation, code, message) is not None
    takeover = running.fallback_for(generation)
    delay = lifecycle.retry_later(
        generation, code, message, at_least=error.retry_after, upstream_request_id=None, **takeover
    )
    return delay is not None


def _remember(generation: Generation, upstream_id: str) -> None:
    """Commit the provider's request id before waiting on it, so a lost worker's successor resumes it."""
    lifecycle.record_upstream_request(generation, upstream_id)
    db.session.commit()


def _report(generation: Generation, done: int, total: int, message: str) -> None:
    lifecycle.record_progress(generation, done, total, message)
    db.session.commit()


def describe_failure(error: Exception) -> tuple[str, str, bool]:
    """An error code, a message a person understands, and whether another attempt may succeed."""
    if isinstance(error, ImageRejected):
        return "invalid_input", f"The source photo could not be used: {error}", False
    if isinstance(error, ProviderError):
        return error.code, error.message, error.retryable
    if isinstance(error, ApiError):
        return error.code, error.message, False
    if (fault := storage_fault(error)) is not None:
        return fault.code, fault.message, False
    if isinstance(error, JobTimeoutException):
        return "timeout", "The job took too long and was stopped.", True
    if database.is_busy(error):
        return "busy", "Stagecraft was too busy to save the result.", True
    if isinstance(error, RedisError):
        # Not retried here: the retry itself would need Redis; the job fails and is refunded with a clear reason.
        return "queue_unavailable", "Stagecraft's queue service restarted while this job ran; please try again.", False
    return "internal_error", "The job failed unexpectedly on our side; it has been logged. Please try again.", False
