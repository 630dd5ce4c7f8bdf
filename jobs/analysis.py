"""RQ job: describe one photo of an analysis run, announce it on the session's event stream, settle its credit."""
import logging
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from app.analysis import events
from app.analysis.models import Analysis, AnalysisSession, AnalysisStatus
from app.analysis.pipeline import PhotoFailed, describe_photo
from app.analysis.serializers import public_metadata
from app.analysis.service import delete_expired, refund_failed, retry_after_commit, run_summary
from app.analysis.writing import context_from_dict
from app.catalog.rooms import ROOM_WORDS
from app.extensions import db
from app.images.models import Image
from app.timeutil import utcnow

log = logging.getLogger(__name__)
# A photo waits at most this long for a busy AI service before its next attempt (its stream stays open meanwhile).
MAX_RETRY_WAIT = 60
UNEXPECTED = "Something went wrong while describing this photo; its credit was refunded. Please try again."


def analyze_image(analysis_id: str, run: int, attempt: int = 1) -> str:
    """queued → processing → succeeded | failed (refunded); the last photo of the run announces completion.

    When the AI service is busy or down, the photo waits and is tried again, up to MAX_ATTEMPTS in all.
    """
    if not _move(analysis_id, run, AnalysisStatus.QUEUED, AnalysisStatus.PROCESSING):
        return "skipped"
    db.session.commit()
    analysis = db.session.get(Analysis, analysis_id)
    session = db.session.get(AnalysisSession, analysis.session_id)
    if attempt == 1:
        started = events.count(session.id, run, "started")
        events.publish(session.id, run, "progress", {"imageId": analysis.id, "status": "processing",
                                                     "current": started, "total": session.run_total})
    try:
        stored_meta = db.session.get(Image, analysis.image_id).meta if analysis.image_id else None
        metadata = describe_photo(analysis, context_from_dict(session.context), stored_meta)
    except PhotoFailed as failure:
        if failure.retryable and attempt < current_app.config["MAX_ATTEMPTS"]:
            retry_later(analysis_id, run, attempt, failure)
            return "retrying"
        fail_analysis(analysis_id, run, str(failure))
        return "failed"
    except Exception:
        log.exception("describing photo %s failed", analysis_id)
        fail_analysis(analysis_id, run, UNEXPECTED)
        raise
    db.session.execute(
        sa.update(Analysis).where(Analysis.id == analysis_id, Analysis.run == run,
                                  Analysis.status == AnalysisStatus.PROCESSING)
        .values(status=AnalysisStatus.SUCCEEDED, result=metadata, analyzer=metadata["analyzer"],
                finished_at=utcnow())
    )
    if analysis.image_id and metadata.get("roomType") in ROOM_WORDS:
        # The analyzer's room is a suggestion for a listing photo the agent has not sorted yet.
        db.session.execute(sa.update(Image).where(Image.id == analysis.image_id, Image.room_type.is_(None))
                           .values(room_type=metadata["roomType"]))
    db.session.commit()
    events.publish(session.id, run, "result", {"imageId": analysis_id, "metadata": public_metadata(metadata)})
    _finish_one(session.id, run)
    return "succeeded"


def fail_analysis(analysis_id: str, run: int, message: str) -> bool:
    """Mark a queued or processing photo failed and refund its credit, once; then announce it."""
    db.session.rollback()
    analysis = db.session.get(Analysis, analysis_id)
    moved = db.session.execute(
        sa.update(Analysis).where(Analysis.id == analysis_id, Analysis.run == run,
                                  Analysis.status.in_((AnalysisStatus.QUEUED, AnalysisStatus.PROCESSING)))
        .values(status=AnalysisStatus.FAILED, error=message[:500], finished_at=utcnow())
    ).rowcount
    if not moved:
        db.session.rollback()
        return False
    session = db.session.get(AnalysisSession, analysis.session_id)
    refund_failed(session, f"Photo description failed: {message}")
    db.session.commit()
    events.publish(session.id, run, "error", {"imageId": analysis_id, "error": message})
    _finish_one(session.id, run)
    return True


def retry_later(analysis_id: str, run: int, attempt: int, failure: PhotoFailed) -> None:
    """Queue the photo again after the service's advice (at most MAX_RETRY_WAIT) or RETRY_BACKOFF, doubling per
    attempt; its credit stays reserved, and its stream says it waits and why."""
    config = current_app.config
    delay = min(failure.retry_after or config["RETRY_BACKOFF"] * 2 ** (attempt - 1), MAX_RETRY_WAIT)
    analysis = db.session.get(Analysis, analysis_id)
    moved = db.session.execute(
        sa.update(Analysis).where(Analysis.id == analysis_id, Analysis.run == run,
                                  Analysis.status == AnalysisStatus.PROCESSING)
        .values(status=AnalysisStatus.QUEUED, queued_at=utcnow() + timedelta(seconds=delay))  # the sweeper's clock
    ).rowcount
    if not moved:
        db.session.rollback()
        return
    retry_after_commit(analysis_id, run, attempt + 1, delay)
    db.session.commit()
    events.publish(analysis.session_id, run, "progress", {
        "imageId": analysis_id, "status": "queued", "retryInSeconds": round(delay),
        "message": f"{failure} Trying again in {round(delay)} s.",
    })


def _move(analysis_id: str, run: int, source: AnalysisStatus, target: AnalysisStatus) -> bool:
    return bool(db.session.execute(
        sa.update(Analysis).where(Analysis.id == analysis_id, Analysis.run == run, Analysis.status == source)
        .values(status=target)
    ).rowcount)


def _finish_one(session_id: str, run: int) -> None:
    """Count a settled photo; the one that settles the run's last photo announces `complete`."""
    session = db.session.get(AnalysisSession, session_id)
    if events.count(session_id, run, "finished") < session.run_total:
        return
    summary = run_summary(session)
    events.publish(session_id, run, "complete", {key: summary[key] for key in ("status", "processed", "failed")}
                   | {"total": session.run_total})
    db.session.rollback()


def sweep_analyses() -> dict:
    """Fail and refund photos stuck past the job timeout; delete expired sessions and their uploads."""
    config = current_app.config
    deadline = utcnow() - timedelta(seconds=config["JOB_TIMEOUT"] + config["ABANDON_GRACE"])
    stuck = db.session.execute(
        sa.select(Analysis.id, Analysis.run)
        .where(Analysis.status.in_((AnalysisStatus.QUEUED, AnalysisStatus.PROCESSING)), Analysis.queued_at < deadline)
    ).all()
    lost = "The worker describing this photo stopped; its credit was refunded. Please try again."
    failed = [analysis_id for analysis_id, run in stuck if fail_analysis(analysis_id, run, lost)]
    deleted = delete_expired()
    db.session.commit()
    if failed or deleted:
        log.warning("analysis sweeper: %d photos failed, %d sessions deleted", len(failed), len(deleted))
    return {"failed": failed, "deleted": deleted}
