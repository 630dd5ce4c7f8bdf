"""The job that runs one generation: ids in, rows loaded, services called, commits here."""
import logging

from rq.timeouts import JobTimeoutException

from app.errors import ApiError
from app.extensions import db
from app.generations import progress, service
from app.generations.models import Generation
from app.imaging.errors import ImageRejected
from app.providers.base import ProviderError

log = logging.getLogger(__name__)


def run_generation(generation_id: str) -> None:
    """Run a queued generation to a terminal state; on failure mark it failed, then re-raise."""
    generation = db.session.get(Generation, generation_id)
    if generation is None or not service.start_generation(generation):
        log.info("generation %s is not queued any more; nothing to do", generation_id)
        return
    db.session.commit()
    _announce(generation)
    try:
        outputs = service.run_provider(generation, report=lambda *step: _report(generation, *step))
        service.complete_generation(generation, outputs)
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        code, message = describe_failure(error)
        log.warning("generation %s failed: %s (%s)", generation_id, message, code)
        service.fail_generation(generation_id, code, message)
        db.session.commit()
        _announce(generation)
        raise
    _announce(generation)


def _report(generation: Generation, done: int, total: int, message: str) -> None:
    service.record_progress(generation, done, total, message)
    db.session.commit()
    progress.publish(generation)


def _announce(generation: Generation) -> None:
    db.session.refresh(generation)
    progress.publish(generation)


def describe_failure(error: Exception) -> tuple[str, str]:
    """An error code and a message a person understands for an exception raised by a job."""
    if isinstance(error, ImageRejected):
        return "invalid_input", f"The source photo could not be used: {error}"
    if isinstance(error, (ProviderError, ApiError)):
        return error.code, error.message
    if isinstance(error, JobTimeoutException):
        return "timeout", "The job took too long and was stopped. Please try again."
    return "internal_error", "The job failed unexpectedly on our side; it has been logged. Please try again."
