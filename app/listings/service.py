"""A listing as a whole: renaming it, and deleting it once no work on its photos is still running."""
import sqlalchemy as sa

from app.after_commit import after_commit
from app.analysis.models import ACTIVE_STATUSES, Analysis, AnalysisSession
from app.errors import ApiError
from app.exports.models import Export
from app.extensions import db
from app.generations.models import Generation, GenerationStatus
from app.images.models import Image
from app.images.storage import storage
from app.projects.models import Project

MAX_NAME, MAX_ADDRESS = 120, 255
BUSY = (
    "Photos of this listing are still being worked on. Wait until they are done (or have failed), "
    "then delete the listing; nothing has been deleted."
)


def rename_listing(project: Project, name: str | None, address: str | None) -> Project:
    """Set the listing's name (required, up to 120 characters) and address (optional, up to 255)."""
    name, address = _clean(name), _clean(address)
    if not name:
        raise ApiError("Give the listing a name, e.g. the street address.")
    if len(name) > MAX_NAME:
        raise ApiError(f"A listing name can be at most {MAX_NAME} characters.")
    if address and len(address) > MAX_ADDRESS:
        raise ApiError(f"An address can be at most {MAX_ADDRESS} characters.")
    project.name, project.address = name, address or None
    db.session.flush()
    return project


def _clean(text: str | None) -> str:
    return " ".join("".join(char for char in (text or "") if char.isprintable()).split())


def running_work(project: Project) -> bool:
    """Whether a generation, a photo description or a zip of the listing is still queued or running."""
    active = (GenerationStatus.QUEUED, GenerationStatus.PROCESSING)
    checks = (
        sa.select(Generation.id).where(Generation.project_id == project.id, Generation.status.in_(active)),
        sa.select(Analysis.id)
        .join(AnalysisSession, AnalysisSession.id == Analysis.session_id)
        .where(AnalysisSession.project_id == project.id, Analysis.status.in_(ACTIVE_STATUSES)),
        sa.select(Export.id).where(Export.project_id == project.id, Export.status.in_(("queued", "processing"))),
    )
    return any(db.session.scalar(query.limit(1)) is not None for query in checks)


def delete_listing(project: Project) -> None:
    """Delete the listing with its photos and results; refused (409) while work on it is running."""
    if running_work(project):
        raise ApiError(BUSY, status=409, code="busy")
    photos = sa.select(Image.storage_key, Image.thumbnail_key).where(Image.project_id == project.id)
    zips = sa.select(Export.storage_key).where(Export.project_id == project.id)
    keys = [key for query in (photos, zips) for row in db.session.execute(query) for key in row if key]
    db.session.delete(project)
    db.session.flush()
    # Files go only once the rows are gone for good; a rolled-back delete keeps both.
    after_commit(_FileRemoval(tuple(keys)))


class _FileRemoval:
    """Remove stored files after commit (compared by value, so it is queued once)."""

    def __init__(self, keys: tuple[str, ...]):
        self.keys = keys

    def __eq__(self, other):
        return isinstance(other, _FileRemoval) and other.keys == self.keys

    def __call__(self):
        for key in self.keys:
            storage().delete(key)
