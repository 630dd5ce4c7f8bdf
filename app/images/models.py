"""Stored images: uploads and generation outputs."""
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.timeutil import utcnow

IMAGE_SOURCES = ("uploaded", "generated")
# Output format → stored type; the file extension follows the type.
MIME_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


def new_uuid() -> str:
    return str(uuid.uuid4())


class Image(db.Model):
    __tablename__ = "images"
    __table_args__ = (
        sa.UniqueConstraint("project_id", "alias", name="uq_images_project_alias"),
        sa.Index("ix_images_project_created", "project_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_uuid)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(sa.String(16))
    storage_key: Mapped[str] = mapped_column(sa.String(255))
    thumbnail_key: Mapped[str | None] = mapped_column(sa.String(255))
    mime: Mapped[str] = mapped_column(sa.String(32))
    width: Mapped[int]
    height: Mapped[int]
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    alias: Mapped[str | None] = mapped_column(sa.String(64))
    focal_x: Mapped[float | None]
    focal_y: Mapped[float | None]
    meta: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    original_filename: Mapped[str | None] = mapped_column(sa.String(255))
    # The agent's studio: the name the agent gave the photo, its room and its place in the listing's order.
    title: Mapped[str | None] = mapped_column(sa.String(120))
    room_type: Mapped[str | None] = mapped_column(sa.String(32))
    position: Mapped[int | None]
    # The version the agent keeps for an uploaded photo (one of its results, or itself for the original);
    # None means "the newest result, else the original".
    kept_image_id: Mapped[str | None] = mapped_column(sa.ForeignKey("images.id", ondelete="SET NULL"))
    generation_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("generations.id", ondelete="SET NULL"), index=True
    )
    flow_id: Mapped[str | None] = mapped_column(sa.ForeignKey("flows.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]

    @property
    def extension(self) -> str:
        return EXTENSIONS.get(self.mime, "bin")
