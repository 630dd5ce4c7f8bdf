"""Image generation records: prepare a photo's style prompt now, process it (as a generation) when asked."""
import base64
import binascii

import sqlalchemy as sa
from flask import current_app

from app.errors import ApiError
from app.extensions import db
from app.compat.process_image.models import STATUS_WORDS, ImageGenerationRecord
from app.generations import checks
from app.generations.models import Generation, GenerationStatus
from app.generations.service import create_generation
from app.generations.spec import GenerationSpec
from app.images.models import new_uuid
from app.images.service import get_image, upload_image
from app.images.storage import storage
from app.imaging.errors import ImageRejected
from app.imaging.inpaint import mask_is_empty
from app.imaging.io import load_photo
from app.pagination import paginate
from app.projects.models import Project
from app.projects.service import get_for_user
from app.timeutil import utcnow

NOT_FOUND = "Image generation not found. Check the imageId: it is the id of a prepared image generation."


def prepare(project: Project, prompt, *, image_id=None, upload: tuple[bytes, str] | None = None,
            mask: bytes | None = None, user=None, api_key=None) -> ImageGenerationRecord:
    """Record a photo (of the project, or uploaded now) and the style prompt to apply to it; nothing is charged yet."""
    prompt = checks.check_prompt(prompt, None)
    if upload is not None:
        image = upload_image(project, *upload)
    elif image_id:
        image = get_image(project, str(image_id))
    else:
        raise ApiError("Send the photo: an imageId of the project, or the file as `image` in a multipart upload.")
    record = ImageGenerationRecord(
        project_id=project.id, image_id=image.id, prompt=prompt,
        mask_key=_store_mask(project, mask) if mask is not None else None,
        created_by_id=user.id if user else None, api_key_id=api_key.id if api_key else None,
    )
    db.session.add(record)
    db.session.flush()
    return record


def _store_mask(project: Project, data: bytes) -> str:
    """Check a mask decodes and marks something, and store it; its key."""
    try:
        mask = load_photo(data, max_pixels=current_app.config["MAX_IMAGE_PIXELS"]).image
    except ImageRejected as rejected:
        raise ApiError(f"The mask could not be read: {rejected}", code="invalid_image") from None
    if mask_is_empty(mask):
        raise ApiError("The mask is all black: paint the area to change in white.")
    key = f"projects/{project.id}/masks/{new_uuid()}.png"
    storage().put(key, data)
    return key


def process(record: ImageGenerationRecord, *, user=None, api_key=None) -> Generation:
    """The record's generation: the finished or running one, or a new one (credits reserved) when it was
    never processed or its last attempt failed."""
    generation = record.generation
    if generation is not None and generation.status is not GenerationStatus.FAILED and \
            generation.status is not GenerationStatus.CANCELED:
        return generation
    project = db.session.get(Project, record.project_id)
    spec = GenerationSpec(prompt=record.prompt, references=[record.image_id], mask_key=record.mask_key, promises_ai=True)
    generation = create_generation(project, spec, user=user, api_key=api_key)
    # Guarded: of two requests processing the same record at once, only the first attaches (and pays for) its work.
    attached = db.session.execute(
        sa.update(ImageGenerationRecord)
        .where(ImageGenerationRecord.id == record.id, _is(ImageGenerationRecord.generation_id, record.generation_id))
        .values(generation_id=generation.id, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if attached != 1:
        raise ApiError(
            f"This image is already being processed; follow it at GET /api/image-generations/{record.id}.",
            status=409, code="conflict",
        )
    db.session.refresh(record)
    return generation


def _is(column, value):
    return column.is_(None) if value is None else column == value


def get_record(project: Project, record_id) -> ImageGenerationRecord:
    """A record of the project; 404 otherwise."""
    record = db.session.scalar(sa.select(ImageGenerationRecord).where(
        ImageGenerationRecord.id == str(record_id), ImageGenerationRecord.project_id == project.id
    ))
    if record is None:
        raise ApiError(NOT_FOUND, status=404, code="not_found")
    return record


def get_record_for_user(user, record_id) -> ImageGenerationRecord:
    """A record in one of the user's workspaces; 404 otherwise."""
    return get_for_user(user, ImageGenerationRecord, str(record_id), not_found=NOT_FOUND)


def records_for_image(image) -> list[ImageGenerationRecord]:
    """The records prepared on a photo, newest first."""
    query = sa.select(ImageGenerationRecord).where(ImageGenerationRecord.image_id == image.id).options(
        sa.orm.selectinload(ImageGenerationRecord.generation).selectinload(Generation.outputs)  # the list shows them
    )
    return list(db.session.scalars(query.order_by(ImageGenerationRecord.created_at.desc()).limit(50)))


def list_records(project: Project, *, status: str | None = None, limit: int = 20, offset: int = 0):
    """A page of the project's records, newest first, optionally of one status word."""
    query = sa.select(ImageGenerationRecord).where(ImageGenerationRecord.project_id == project.id)
    if status is not None:
        query = query.outerjoin(Generation, Generation.id == ImageGenerationRecord.generation_id)
        if status == "pending":
            query = query.where(ImageGenerationRecord.generation_id.is_(None))
        elif status in set(STATUS_WORDS.values()):
            query = query.where(Generation.status.in_([s for s, word in STATUS_WORDS.items() if word == status]))
        else:
            raise ApiError("status must be one of: pending, processing, completed, failed.")
    return paginate(query, (ImageGenerationRecord.created_at.desc(), ImageGenerationRecord.id), limit, offset)


def completed_count(project_id: int) -> int:
    """How many of the project's records are completed."""
    return db.session.scalar(
        sa.select(sa.func.count(ImageGenerationRecord.id))
        .join(Generation, Generation.id == ImageGenerationRecord.generation_id)
        .where(ImageGenerationRecord.project_id == project_id, Generation.status == GenerationStatus.SUCCEEDED)
    )


def decode_data_url(value, field: str) -> bytes:
    """The bytes of a base64 data: URL (as a drawing canvas exports it); 400 naming the field otherwise."""
    if not isinstance(value, str) or not value.startswith("data:"):
        raise ApiError(f"{field} must be a data: URL (data:image/png;base64,...) or a file in a multipart upload.")
    header, _, payload = value.partition(",")
    if not header.endswith(";base64") or not payload:
        raise ApiError(f"{field} must be base64-encoded (data:image/png;base64,...).")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(f"{field} is not valid base64.") from None
