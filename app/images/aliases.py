"""Aliases: names for images, resolved technical (@last, @first, @upload) → flow → project."""
import re

import sqlalchemy as sa

from app.errors import ApiError
from app.extensions import db
from app.images.models import Image
from app.projects.models import Project

ALIAS_PATTERN = re.compile(r"^@[a-z0-9][a-z0-9._-]{0,62}$")
TECHNICAL_ALIASES = ("@last", "@first", "@upload")


def validate_alias(alias) -> str:
    """A well-formed, non-reserved alias such as '@hero-shot'; 400 saying the rule otherwise."""
    if not isinstance(alias, str) or not ALIAS_PATTERN.match(alias):
        raise ApiError(
            "Invalid alias: use '@' then 1-63 lowercase letters, digits, '.', '_' or '-', e.g. @front-exterior."
        )
    if alias in TECHNICAL_ALIASES:
        raise ApiError(f"{alias} is reserved; choose another alias.")
    return alias


def _live_images(project: Project) -> sa.Select:
    return sa.select(Image).where(Image.project_id == project.id, Image.deleted_at.is_(None))


def _technical(project: Project, alias: str, flow) -> Image | None:
    query = _live_images(project)
    if flow is not None:
        query = query.where(Image.flow_id == flow.id)
    # The spec: @upload is the newest upload; @last and @first are the newest and oldest *generated* images.
    query = query.where(Image.source == ("uploaded" if alias == "@upload" else "generated"))
    order = Image.created_at.asc() if alias == "@first" else Image.created_at.desc()
    return db.session.scalar(query.order_by(order, Image.id).limit(1))


def resolve_alias(project: Project, alias: str, flow=None) -> tuple[Image, str]:
    """The image an alias names and the scope it resolved in ('technical', 'flow' or 'project'); 404 otherwise.

    `flow` is the caller's flow of the project (anything with `id` and `aliases`), or None: then
    technical aliases look across the whole project and named ones only at project aliases.
    """
    if alias in TECHNICAL_ALIASES:
        image, scope = _technical(project, alias, flow), "technical"
    else:
        image, scope = None, "flow"
        image_id = (flow.aliases or {}).get(alias) if flow is not None else None
        if image_id:
            image = db.session.scalar(_live_images(project).where(Image.id == image_id))
        if image is None:
            image, scope = db.session.scalar(_live_images(project).where(Image.alias == alias)), "project"
    if image is None:
        raise ApiError("Image not found", status=404, code="not_found")
    return image, scope


def resolve_reference(project: Project, reference: str, flow=None) -> Image:
    """An image id or an alias (resolved in `flow`, see resolve_alias), as a live image of the project."""
    if isinstance(reference, str) and reference.startswith("@"):
        return resolve_alias(project, reference, flow)[0]
    image = db.session.scalar(_live_images(project).where(Image.id == str(reference)))
    if image is None:
        raise ApiError("Image not found", status=404, code="not_found")
    return image


def ensure_alias_free(project: Project, alias: str, except_image_id: str | None = None) -> None:
    """409 'Alias already exists' when another live image of the project holds the alias."""
    query = _live_images(project).where(Image.alias == alias)
    if except_image_id:
        query = query.where(Image.id != except_image_id)
    if db.session.scalar(query.limit(1)) is not None:
        raise ApiError("Alias already exists", status=409, code="conflict")


def set_project_alias(project: Project, image: Image, alias: str | None) -> Image:
    """Give an image a project alias (None removes it)."""
    if alias is not None:
        ensure_alias_free(project, validate_alias(alias), except_image_id=image.id)
    image.alias = alias
    db.session.flush()
    return image
