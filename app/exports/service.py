"""Zip downloads of a listing: asked for on the page, queued after commit, built by jobs/exports.py."""
import logging
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from redis.exceptions import RedisError

from app.after_commit import after_commit
from app.errors import ApiError
from app.exports.models import Export
from app.extensions import db, redis_queues
from app.images.models import Image
from app.images.service import listing_photos
from app.images.storage import storage
from app.projects.models import Project
from app.projects.service import get_for_user
from app.timeutil import utcnow
from app.versions.service import slug

log = logging.getLogger(__name__)

JOB_FUNCTION = "jobs.exports.build_export"
LOST = "The zip was not finished in time. Start the download again."
MAX_SELECTION = 500


@dataclass(frozen=True)
class EnqueueExport:
    """The RQ job that builds one export, queued once the export's row is committed."""

    export_id: str

    def __call__(self) -> None:
        try:
            redis_queues.queue("default").enqueue(
                JOB_FUNCTION, self.export_id, job_id=f"export-{self.export_id}",
                job_timeout=current_app.config["JOB_TIMEOUT"], result_ttl=3600, failure_ttl=7 * 24 * 3600,
                description=f"zip export {self.export_id}",
            )
        except RedisError:
            log.warning("could not enqueue export %s", self.export_id, exc_info=True)


def start_export(project: Project, image_ids: list[str] | None, user=None) -> Export:
    """Record a zip of the chosen photos (None: the whole listing) and queue its job after commit."""
    photos = listing_photos(project)
    if image_ids is not None:
        wanted = {str(image_id) for image_id in image_ids if str(image_id).strip()}
        if not wanted:
            raise ApiError("Select photos first: tick the photos to download, or choose Download all.")
        if len(wanted) > MAX_SELECTION:
            raise ApiError(f"Download at most {MAX_SELECTION} photos at a time.")
        known = {photo.id for photo in photos}
        if wanted - known:
            raise ApiError("Some of the selected photos are no longer in this listing; reload the page and select again.",
                           status=404, code="not_found")
        photos = [photo for photo in photos if photo.id in wanted]
    if not photos:
        raise ApiError("This listing has no photos yet; upload some first.")
    export = Export(
        project_id=project.id,
        created_by_id=user.id if user else None,
        image_ids=[photo.id for photo in photos] if image_ids is not None else [],
        progress_total=len(photos),
    )
    db.session.add(export)
    db.session.flush()
    after_commit(EnqueueExport(export.id))
    return export


def get_export_for_user(user, export_id: str) -> Export:
    """An export of a listing in one of the user's workspaces; 404 otherwise."""
    return get_for_user(user, Export, str(export_id), not_found="That download was not found; start a new one.")


def export_photos(export: Export) -> list[tuple[int, Image]]:
    """The export's photos with their 1-based place in the listing's order (photos deleted since are left out)."""
    project = db.session.get(Project, export.project_id)
    chosen = set(export.image_ids or [])
    ordered = enumerate(listing_photos(project), start=1)
    return [(order, photo) for order, photo in ordered if not chosen or photo.id in chosen]


def download_name(export: Export) -> str:
    """The zip's file name: the listing's name (12-oak-lane-photos.zip)."""
    project = db.session.get(Project, export.project_id)
    return f"{slug(project.name, 60)}-photos.zip"


def storage_key(export: Export) -> str:
    return f"projects/{export.project_id}/exports/{export.id}.zip"


def sweep(now=None) -> dict:
    """Fail exports whose job was lost (they would poll forever) and delete old ones with their zips."""
    now, config = now or utcnow(), current_app.config
    lost_before = now - timedelta(seconds=config["JOB_TIMEOUT"] + config["ABANDON_GRACE"])
    lost = db.session.scalars(sa.select(Export).where(
        Export.status.in_(("queued", "processing")), Export.created_at < lost_before))
    failed = 0
    for export in lost:
        mark(export, "failed", error_message=LOST)
        failed += 1
    old = list(db.session.scalars(sa.select(Export).where(Export.created_at < now - timedelta(seconds=config["EXPORT_TTL"]))))
    for export in old:
        if export.storage_key:
            storage().delete(export.storage_key)
        db.session.delete(export)
    db.session.flush()
    return {"failed": failed, "deleted": len(old)}


def mark(export: Export, status: str, **changes) -> None:
    """Move an export to a status (with its progress or error), stamping when it finished."""
    export.status = status
    for name, value in changes.items():
        setattr(export, name, value)
    if status in ("succeeded", "failed"):
        export.finished_at = utcnow()
    db.session.flush()
