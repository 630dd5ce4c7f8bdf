"""Flows: chains of generations that share flow-scoped aliases."""
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.images.models import new_uuid
from app.timeutil import utcnow


class Flow(db.Model):
    """A chain of generations sharing flow-scoped aliases (alias → image id)."""

    __tablename__ = "flows"
    __table_args__ = (sa.Index("ix_flows_project_created", "project_id", "created_at"),)

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_uuid)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id", ondelete="CASCADE"))
    aliases: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    meta: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
