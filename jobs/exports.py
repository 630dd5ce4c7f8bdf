"""The job that builds a listing's zip: id in, photos written one by one with progress, the file stored."""
import logging

from app.exports import archive
from app.exports import service as exports
from app.exports.models import Export
from app.extensions import db
from app.images.storage import storage

log = logging.getLogger(__name__)
FAILED = "The zip could not be made: {why}. Try again; if it keeps failing, download the photos one by one."


def build_export(export_id: str) -> None:
    """queued → processing (progress per photo) → succeeded with the zip stored, or failed saying why."""
    export = db.session.get(Export, export_id)
    if export is None or export.status != "queued":
        log.info("export %s is not queued any more; nothing to do", export_id)
        return
    photos = exports.export_photos(export)
    exports.mark(export, "processing", progress_done=0, progress_total=len(photos))
    db.session.commit()
    try:
        if not photos:
            raise LookupError("the photos were deleted from the listing")
        key = exports.storage_key(export)
        with storage().writing(key) as file:
            archive.write_zip(export, photos, report=lambda done: _report(export, done), into=file)
            size = file.tell()
        exports.mark(export, "succeeded", storage_key=key, size_bytes=size)
        db.session.commit()
    except Exception as error:
        log.exception("export %s failed", export_id)
        db.session.rollback()
        export = db.session.get(Export, export_id)
        why = str(error) if isinstance(error, LookupError) else "a photo could not be read from storage"
        exports.mark(export, "failed", error_message=FAILED.format(why=why))
        db.session.commit()
        raise


def _report(export: Export, done: int) -> None:
    export.progress_done = done
    db.session.commit()


def sweep_exports() -> dict:
    """Periodic: fail lost exports, delete old zips (EXPORT_TTL)."""
    swept = exports.sweep()
    db.session.commit()
    return swept
