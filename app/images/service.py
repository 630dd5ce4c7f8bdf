"""Uploading and reading images. Every lookup is scoped to a project."""
import hashlib

import sqlalchemy as sa
from flask import current_app

from app.errors import ApiError
from app.extensions import db
from app.images.models import Image, new_uuid
from app.images.storage import storage
from app.imaging.errors import ImageRejected
from app.imaging.io import encode_image, load_photo, make_thumbnail
from app.projects.models import Project
from app.projects.service import user_workspace_ids


def _human_mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def check_upload_size(filename: str, size: int) -> None:
    """413 'File too large' for a file over the per-file limit."""
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    if size > limit:
        raise ApiError(
            f"File too large: {filename or 'the file'} is {_human_mb(size)}; the limit is {_human_mb(limit)}.",
            status=413,
            code="file_too_large",
        )


def upload_image(project: Project, data: bytes, filename: str | None = None, meta: dict | None = None) -> Image:
    """Validate a photo by decoding it fully, store the original and a thumbnail, and record it."""
    check_upload_size(filename, len(data))
    if not data:
        raise ApiError(f"{filename or 'The file'} is empty; choose a JPEG, PNG or WebP photo.")
    try:
        photo = load_photo(data, max_pixels=current_app.config["MAX_IMAGE_PIXELS"])
    except ImageRejected as rejected:
        prefix = f"{filename}: " if filename else ""
        raise ApiError(f"{prefix}{rejected}", status=400, code="invalid_image") from None
    image = Image(
        project_id=project.id,
        source="uploaded",
        mime=photo.mime,
        width=photo.width,
        height=photo.height,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        original_filename=(filename or "")[:255] or None,
        meta=meta or {},
    )
    store_image_files(project, image, data, photo.image)
    return image


def store_image_files(project: Project, image: Image, data: bytes, pixels) -> None:
    """Write an image's file and thumbnail to storage and add its row."""
    image.id = image.id or new_uuid()
    image.storage_key = f"projects/{project.id}/images/{image.id}.{image.extension}"
    image.thumbnail_key = f"projects/{project.id}/thumbs/{image.id}.jpg"
    storage().put(image.storage_key, data)
    storage().put(image.thumbnail_key, encode_image(make_thumbnail(pixels), "JPEG", quality=82))
    db.session.add(image)
    db.session.flush()


def get_image(project: Project, image_id: str) -> Image:
    """A live image of the project; 404 'Image not found' otherwise."""
    image = db.session.scalar(
        sa.select(Image).where(Image.id == str(image_id), Image.project_id == project.id, Image.deleted_at.is_(None))
    )
    if image is None:
        raise ApiError("Image not found", status=404, code="not_found")
    return image


def project_images(project: Project, source: str | None = None, limit: int = 200) -> list[Image]:
    """The project's live images, newest first."""
    query = sa.select(Image).where(Image.project_id == project.id, Image.deleted_at.is_(None))
    if source:
        query = query.where(Image.source == source)
    return list(db.session.scalars(query.order_by(Image.created_at.desc()).limit(limit)))


def get_image_for_user(user, image_id: str) -> Image:
    """A live image in one of the user's workspaces; 404 otherwise."""
    image = db.session.scalar(
        sa.select(Image)
        .join(Project, Project.id == Image.project_id)
        .where(
            Image.id == str(image_id),
            Image.deleted_at.is_(None),
            Project.workspace_id.in_(user_workspace_ids(user)),
        )
    )
    if image is None:
        raise ApiError("Image not found", status=404, code="not_found")
    return image
