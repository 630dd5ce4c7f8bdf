"""Live URL cache: (project, SHA-256 of prompt + parameters) → the image generated for it."""
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.timeutil import utcnow


class LiveEntry(db.Model):
    __tablename__ = "live_entries"
    __table_args__ = (sa.UniqueConstraint("project_id", "cache_key", name="uq_live_entries_project_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id", ondelete="CASCADE"))
    cache_key: Mapped[str] = mapped_column(sa.String(64))
    params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    generation_id: Mapped[str | None] = mapped_column(sa.ForeignKey("generations.id", ondelete="SET NULL"))
    image_id: Mapped[str | None] = mapped_column(sa.ForeignKey("images.id", ondelete="SET NULL"))
    hit_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_hit_at: Mapped[datetime | None]
