"""Photo-description sessions: open one, add photos, start a run (credits reserved), read results, expire.

Every lookup is scoped to the caller's project. A run's jobs are queued only after the
transaction that reserved their credits commits.
"""
import logging
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from redis.exceptions import RedisError

from app.after_commit import after_commit
from app.analysis import events
from app.analysis.models import ACTIVE_STATUSES, Analysis, AnalysisSession, AnalysisStatus, new_analysis_id
from app.analysis.writing import (
    ALT_MAX, CAPTION_MAX, DESCRIPTION_MAX, METADATA_FIELDS, TITLE_MAX, ListingContext, clean, clean_tags, slugify,
)
from app.credits import service as credits
from app.credits.models import LedgerKind
from app.errors import ApiError
from app.extensions import db, redis_queues
from app.images.models import EXTENSIONS
from app.images.service import checked_photo, display_filename, get_image, storable
from app.images.storage import storage
from app.projects.models import Project
from app.timeutil import utcnow

log = logging.getLogger(__name__)
JOB_FUNCTION = "jobs.analysis.analyze_image"
MAX_PHOTOS_PER_SESSION = 100
NOT_FOUND = "Session not found: it may have expired. Open a new session and upload the photos again."


def create_session(project: Project, context: ListingContext, form_key: str | None = None) -> AnalysisSession:
    """A new session; `form_key` (the page form's, unique per project) lets the same form sent again find it."""
    session = AnalysisSession(
        project_id=project.id, context=context.as_dict(), form_key=form_key,
        expires_at=utcnow() + timedelta(seconds=current_app.config["ANALYSIS_SESSION_TTL"]),
    )
    db.session.add(session)
    db.session.flush()
    return session


def session_for_key(project: Project, form_key: str | None) -> AnalysisSession | None:
    """The session the project's "Describe" form with this key already opened, if any."""
    if not form_key:
        return None
    query = sa.select(AnalysisSession).where(AnalysisSession.project_id == project.id,
                                             AnalysisSession.form_key == form_key)
    return db.session.scalar(query)


def get_session(project: Project, session_id: str) -> AnalysisSession:
    """A live session of the project; 404 when unknown, another project's, or expired."""
    session = db.session.scalar(sa.select(AnalysisSession).where(
        AnalysisSession.id == str(session_id)[:40], AnalysisSession.project_id == project.id,
    ))
    if session is None or session.expires_at <= utcnow():
        raise ApiError(NOT_FOUND, status=404, code="not_found")
    return session


def list_sessions(project: Project, limit: int = 10) -> list[AnalysisSession]:
    """The project's live sessions, newest first, with their photos (the list counts them)."""
    return list(db.session.scalars(
        sa.select(AnalysisSession)
        .where(AnalysisSession.project_id == project.id, AnalysisSession.expires_at > utcnow())
        .options(sa.orm.selectinload(AnalysisSession.analyses))
        .order_by(AnalysisSession.created_at.desc()).limit(limit)
    ))


def _check_room(room_hint) -> str | None:
    if room_hint in (None, ""):
        return None
    if not isinstance(room_hint, str):
        raise ApiError("roomType must be text such as \"kitchen\" or \"bedroom\".")
    return clean(room_hint, 40) or None


def _next_position(session: AnalysisSession) -> int:
    count = db.session.scalar(sa.select(sa.func.count()).where(Analysis.session_id == session.id)) or 0
    if count >= MAX_PHOTOS_PER_SESSION:
        raise ApiError(f"A session holds at most {MAX_PHOTOS_PER_SESSION} photos; open another session for more.")
    return count


def add_upload(session: AnalysisSession, data: bytes, filename: str | None, room_hint=None) -> Analysis:
    """Check a photo by decoding it, keep it under the session, and add it (pending)."""
    filename = display_filename(filename)
    photo = checked_photo(data, filename)
    data, mime = storable(photo, data)
    analysis = Analysis(
        session_id=session.id, position=_next_position(session), original_filename=(filename or "")[:255] or None,
        room_hint=_check_room(room_hint), width=photo.width, height=photo.height,
    )
    extension = EXTENSIONS[mime]
    analysis.id = new_analysis_id()
    analysis.storage_key = f"analysis/{session.id}/{analysis.id}.{extension}"
    analysis.upload_path = f"sessions/{session.id}/uploads/{analysis.id}.{extension}"
    storage().put(analysis.storage_key, data)
    db.session.add(analysis)
    db.session.flush()
    return analysis


def add_project_image(project: Project, session: AnalysisSession, image_id: str, room_hint=None) -> Analysis:
    """Add one of the project's photos by id (its file stays where it is)."""
    image = get_image(project, image_id)
    existing = db.session.scalar(sa.select(Analysis).where(Analysis.session_id == session.id,
                                                           Analysis.image_id == image.id))
    if existing:
        return existing
    analysis = Analysis(
        session_id=session.id, position=_next_position(session), image_id=image.id, storage_key=image.storage_key,
        upload_path=f"images/{image.id}", original_filename=image.original_filename,
        room_hint=_check_room(room_hint) or (image.meta or {}).get("roomType"), width=image.width, height=image.height,
    )
    db.session.add(analysis)
    db.session.flush()
    return analysis


def requested_analyses(session: AnalysisSession, images) -> list[Analysis]:
    """The session's photos a request names, each by id and its uploadPath; 4xx for any other."""
    if images is None:
        return list(session.analyses)
    if not isinstance(images, list) or not images:
        raise ApiError("images must be a non-empty list of {id, uploadPath, originalFilename} from your uploads.")
    if len(images) > MAX_PHOTOS_PER_SESSION:
        raise ApiError(f"Send at most {MAX_PHOTOS_PER_SESSION} images per request.")
    by_id = {analysis.id: analysis for analysis in session.analyses}
    chosen = []
    for index, item in enumerate(images):
        if not isinstance(item, dict):
            raise ApiError(f"images[{index}] must be an object with id and uploadPath.")
        analysis = by_id.get(str(item.get("id") or ""))
        path = item.get("uploadPath")
        if analysis is None:
            raise ApiError(f"images[{index}]: no photo with id {str(item.get('id'))[:60]!r} in this session; "
                           "upload it to the session first.", status=404, code="not_found")
        if path is not None and path != analysis.upload_path:
            raise ApiError(f"images[{index}]: uploadPath must be the one the upload returned "
                           f"({analysis.upload_path}); paths outside this session are refused.",
                           status=403, code="forbidden_path")
        if "roomType" in item:
            analysis.room_hint = _check_room(item["roomType"])
        if analysis not in chosen:
            chosen.append(analysis)
    return chosen


def start_run(session: AnalysisSession, analyses: list[Analysis], context: ListingContext | None, actor=None) -> int:
    """Reserve one credit per photo, queue each photo (jobs start after commit); returns the run number."""
    busy = [a for a in session.analyses if a.status in ACTIVE_STATUSES]
    if busy:
        raise ApiError("These photos are still being described; follow the running analysis or wait for it to "
                       "finish.", status=409, code="already_running")
    if context is not None:
        session.context = context.as_dict()
    project = db.session.get(Project, session.project_id)
    credits.record(project.workspace_id, LedgerKind.RESERVE, -len(analyses), actor=actor, generation_id=session.id,
                   reason=f"Reserved for describing {len(analyses)} photo{'s' if len(analyses) != 1 else ''}",
                   require_funds=True)
    session.run += 1
    session.run_total = len(analyses)
    session.run_cursor = events.latest_id(session.id)
    for analysis in analyses:
        analysis.status, analysis.run = AnalysisStatus.QUEUED, session.run
        analysis.result, analysis.error, analysis.finished_at = None, None, None
        analysis.queued_at = utcnow()
        _enqueue_after_commit(analysis.id, session.run)
    db.session.flush()
    return session.run


def _enqueue_after_commit(analysis_id: str, run: int) -> None:
    after_commit(_Enqueue(analysis_id, run))


def retry_after_commit(analysis_id: str, run: int, attempt: int, delay: float) -> None:
    """Queue attempt number `attempt` of a photo's description `delay` seconds after the commit."""
    after_commit(_Enqueue(analysis_id, run, attempt, delay))


@dataclass(frozen=True)
class _Enqueue:
    """Queue one photo's job once the reserving (or retry-recording) transaction has committed."""

    analysis_id: str
    run: int
    attempt: int = 1
    delay: float = 0

    def __call__(self) -> None:
        job_id = f"analysis-{self.analysis_id}-{self.run}" + (f"-{self.attempt}" if self.attempt > 1 else "")
        options = dict(job_id=job_id, job_timeout=current_app.config["JOB_TIMEOUT"], result_ttl=600,
                       failure_ttl=24 * 3600, description=f"describe photo {self.analysis_id}")
        queue = redis_queues.queue("default")
        try:
            if self.delay:
                queue.enqueue_in(timedelta(seconds=self.delay), JOB_FUNCTION, self.analysis_id, self.run, self.attempt,
                                 **options)
            else:
                queue.enqueue(JOB_FUNCTION, self.analysis_id, self.run, **options)
        except RedisError:
            # The row stays queued; the sweeper fails and refunds it once it is overdue.
            log.warning("could not queue photo %s for description", self.analysis_id, exc_info=True)


def update_fields(analysis: Analysis, changes: dict) -> Analysis:
    """A person's edit of the written fields (the measurements stay as measured)."""
    if analysis.result is None:
        raise ApiError("This photo has not been described yet.", status=409, code="not_ready")
    limits = {"title": TITLE_MAX, "alt": ALT_MAX, "caption": CAPTION_MAX, "description": DESCRIPTION_MAX}
    result = dict(analysis.result)
    for name, value in changes.items():
        if name not in METADATA_FIELDS:
            continue
        if name == "seoTags":
            result[name] = clean_tags(value if isinstance(value, list) else str(value).split(","))
        elif name == "filename":
            result[name] = slugify(str(value))
        else:
            text = clean(str(value), limits[name])
            if not text:
                raise ApiError(f"{name} cannot be empty.")
            result[name] = text
    analysis.result = result
    db.session.flush()
    return analysis


def run_summary(session: AnalysisSession) -> dict:
    """The latest run as the `complete` event tells it: status, processed, failed, total."""
    statuses = [a.status for a in session.analyses if a.run == session.run and session.run]
    succeeded = sum(status is AnalysisStatus.SUCCEEDED for status in statuses)
    failed = sum(status is AnalysisStatus.FAILED for status in statuses)
    running = len(statuses) - succeeded - failed
    status = "running" if running else "completed" if not failed else "failed" if not succeeded else "partial"
    return {"status": status, "processed": succeeded, "failed": failed, "total": len(statuses)}


def get_analysis(session: AnalysisSession, analysis_id: str) -> Analysis:
    analysis = db.session.scalar(sa.select(Analysis).where(Analysis.id == str(analysis_id)[:40],
                                                           Analysis.session_id == session.id))
    if analysis is None:
        raise ApiError("Photo not found in this session.", status=404, code="not_found")
    return analysis


def refund_failed(session: AnalysisSession, reason: str) -> None:
    project = db.session.get(Project, session.project_id)
    credits.refund(project.workspace_id, session.id, 1, reason[:255])


def delete_expired(now=None) -> list[str]:
    """Delete sessions past their expiry with their uploads; returns their ids."""
    expired = list(db.session.scalars(
        sa.select(AnalysisSession).where(AnalysisSession.expires_at <= (now or utcnow())).limit(200)
    ))
    for session in expired:
        for analysis in session.analyses:
            if analysis.image_id is None:
                storage().delete(analysis.storage_key)
        events.forget(session.id)
        db.session.delete(session)
    db.session.flush()
    return [session.id for session in expired]

