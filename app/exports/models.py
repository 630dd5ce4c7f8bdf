"""Zip downloads of a listing's photos, built by a job."""
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.images.models import new_uuid
from app.timeutil import utcnow

EXPORT_STATUSES = ("queued", "processing", "succeeded", "failed")


class Export(db.Model):
    __tablename__ = "exports"
    __table_args__ = (sa.Index("ix_exports_project_created", "project_id", "created_at"),)

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_uuid)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id", ondelete="CASCADE"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    # The uploaded photos to include, in the listing's order; empty means the whole listing.
    image_ids: Mapped[list] = mapped_column(sa.JSON, default=list)
    include_originals: Mapped[bool] = mapped_column(default=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="queued")
    progress_done: Mapped[int] = mapped_column(default=0)
    progress_total: Mapped[int] = mapped_column(default=0)
    storage_key: Mapped[str | None] = mapped_column(sa.String(255))
    size_bytes: Mapped[int | None]
    error_message: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
