"""Uploading and reading images. Every lookup is scoped to a project."""
import hashlib

import sqlalchemy as sa
from flask import current_app

from app.catalog.limits import meta_problem
from app.catalog.rooms import room_from_text
from app.errors import ApiError
from app.extensions import db
from app.images.aliases import ensure_alias_free, set_project_alias, validate_alias
from app.images.models import EXTENSIONS, IMAGE_SOURCES, Image, new_uuid
from app.images.storage import storage
from app.imaging.errors import ImageRejected
from app.imaging.io import NOT_AN_IMAGE, encode_image, load_photo, make_thumbnail
from app.pagination import count_per, paginate
from app.projects.models import Project
from app.projects.service import get_for_user, get_in_project
from app.timeutil import utcnow

MAX_POSITION = 1_000_000  # a place in a listing's order (the column is a 32-bit integer on PostgreSQL)


def _human_mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def checked_photo(data: bytes, filename: str | None):
    """The photo decoded in full (size, emptiness and format checked); 400/413 naming the file otherwise."""
    check_upload_size(filename, len(data))
    if not data:
        raise ApiError(f"{filename or 'The file'} is empty; choose a JPEG, PNG, WebP or HEIC photo.")
    try:
        return load_photo(data, max_pixels=current_app.config["MAX_IMAGE_PIXELS"])
    except ImageRejected as rejected:
        if str(rejected) == NOT_AN_IMAGE:
            message = f"{filename or 'The file'} isn't a photo we can read — upload a JPEG, PNG, WebP or HEIC photo."
            raise ApiError(message, status=400, code="invalid_image") from None
        prefix = f"{filename}: " if filename else ""
        raise ApiError(f"{prefix}{rejected}", status=400, code="invalid_image") from None


def storable(photo, data: bytes) -> tuple[bytes, str]:
    """The bytes and type to store for a checked photo: as sent, except HEIC from a phone, kept as an upright JPEG
    (which every browser and provider reads)."""
    if photo.mime in EXTENSIONS:
        return data, photo.mime
    return encode_image(photo.image, "JPEG", quality=92), "image/jpeg"


def check_upload_size(filename: str, size: int) -> None:
    """413 'File too large' for a file over the per-file limit."""
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    if size > limit:
        raise ApiError(
            f"File too large: {filename or 'the file'} is {_human_mb(size)}; the limit is {_human_mb(limit)}.",
            status=413,
            code="file_too_large",
        )


def display_filename(filename: str | None) -> str | None:
    """The name a file is shown under: its last path part, without control characters (None if nothing is left)."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char for char in name if char.isprintable()).strip()
    return None if name in ("", ".", "..") else name[:255]


def upload_image(
    project: Project,
    data: bytes,
    filename: str | None = None,
    meta: dict | None = None,
    alias: str | None = None,
    flow=None,
    flow_alias: str | None = None,
    position: int | None = None,
) -> Image:
    """Validate a photo by decoding it fully, store the original and a thumbnail, and record it.

    position: its place in the listing as the page chose it (files sent side by side arrive in any order).
    """
    filename = display_filename(filename)
    if problem := meta_problem(meta):
        raise ApiError(problem)
    if alias is not None:
        ensure_alias_free(project, validate_alias(alias))
    if flow_alias is not None:
        validate_alias(flow_alias)
    photo = checked_photo(data, filename)
    data, mime = storable(photo, data)
    image = Image(
        project_id=project.id,
        source="uploaded",
        mime=mime,
        width=photo.width,
        height=photo.height,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        original_filename=filename,
        meta=meta or {},
        alias=alias,
        flow_id=flow.id if flow else None,
        room_type=room_from_text(filename),
        position=position if position and 0 < position <= MAX_POSITION else next_position(project),
    )
    store_image_files(project, image, data, photo.image)
    if flow is not None and flow_alias:
        flow.aliases = {**(flow.aliases or {}), flow_alias: image.id}
        db.session.flush()
    return image


def save_image_files(project: Project, image: Image, data: bytes, pixels) -> None:
    """Write an image's file and thumbnail to storage (before its row is added, so no write lock is held meanwhile)."""
    image.id = image.id or new_uuid()
    image.storage_key = f"projects/{project.id}/images/{image.id}.{image.extension}"
    image.thumbnail_key = f"projects/{project.id}/thumbs/{image.id}.jpg"
    storage().put(image.storage_key, data)
    storage().put(image.thumbnail_key, encode_image(make_thumbnail(pixels), "JPEG", quality=82))


def store_image_files(project: Project, image: Image, data: bytes, pixels) -> None:
    """Write an image's file and thumbnail to storage and add its row."""
    save_image_files(project, image, data, pixels)
    db.session.add(image)
    db.session.flush()


def get_image(project: Project, image_id: str, include_deleted: bool = False) -> Image:
    """A live image of the project (soft-deleted ones only when asked); 404 'Image not found' otherwise."""
    live = () if include_deleted else (Image.deleted_at.is_(None),)
    return get_in_project(project, Image, str(image_id), *live, not_found="Image not found")


def get_image_for_user(user, image_id: str) -> Image:
    """A live image in one of the user's workspaces; 404 otherwise."""
    return get_for_user(user, Image, str(image_id), Image.deleted_at.is_(None), not_found="Image not found")


def list_images(project: Project, *, flow_id=None, source=None, alias=None, include_deleted=False, limit=20, offset=0):
    """A page of the project's images, newest first, of those matching the filters."""
    query = sa.select(Image).where(Image.project_id == project.id)
    if not include_deleted:
        query = query.where(Image.deleted_at.is_(None))
    if flow_id:
        query = query.where(Image.flow_id == flow_id)
    if source is not None:  # an empty source= is a wrong value too, not "no filter"
        if source not in IMAGE_SOURCES:
            raise ApiError(f"source must be one of: {', '.join(IMAGE_SOURCES)}.")
        query = query.where(Image.source == source)
    if alias:
        query = query.where(Image.alias == alias)
    return paginate(query, (Image.created_at.desc(), Image.id), limit, offset)


def listing_photos(project: Project, limit: int = 500) -> list[Image]:
    """A listing's uploaded photos in the agent's order: by position, then oldest first for those never moved."""
    query = (
        sa.select(Image)
        .where(Image.project_id == project.id, Image.source == "uploaded", Image.deleted_at.is_(None))
        .order_by(Image.position.is_(None), Image.position, Image.created_at, Image.id)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def next_position(project: Project) -> int:
    """The place after the listing's last photo."""
    query = sa.select(sa.func.max(Image.position)).where(
        Image.project_id == project.id, Image.source == "uploaded", Image.deleted_at.is_(None)
    )
    return (db.session.scalar(query) or 0) + 1


def photo_name(image: Image) -> str:
    """The name an agent knows a photo by: the one they gave it, else its file name."""
    return image.title or image.original_filename or "Photo"


def count_by_flow(flow_ids: list[str]) -> dict[str, int]:
    """How many live images each flow holds."""
    return count_per(Image.flow_id, flow_ids, Image.deleted_at.is_(None))


def update_image(project: Project, image: Image, changes: dict) -> Image:
    """Apply alias (None removes), focalPoint {x, y} in 0..1 and meta from a request body."""
    if "alias" in changes:
        set_project_alias(project, image, changes["alias"])
    if "focalPoint" in changes:
        image.focal_x, image.focal_y = _focal_point(changes["focalPoint"])
    if "meta" in changes:
        if problem := meta_problem(changes["meta"]):
            raise ApiError(problem)
        image.meta = changes["meta"]
    db.session.flush()
    return image


def _focal_point(value) -> tuple[float | None, float | None]:
    if value is None:
        return None, None
    try:
        x, y = float(value["x"]), float(value["y"])
    except (TypeError, KeyError, ValueError):
        raise ApiError("focalPoint must be an object {x, y} with numbers from 0 to 1.") from None
    if not (0 <= x <= 1 and 0 <= y <= 1):
        raise ApiError("focalPoint x and y must be between 0 and 1.")
    return x, y


def delete_image(image: Image, hard: bool = False) -> None:
    """Soft-delete an image (its alias is freed); hard also removes its files from storage."""
    image.deleted_at = image.deleted_at or utcnow()
    image.alias = None
    if hard:
        for key in (image.storage_key, image.thumbnail_key):
            if key:
                storage().delete(key)
    db.session.flush()
