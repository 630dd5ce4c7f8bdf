"""The agent's studio: batches of work on a listing's photos, and the workspace's saved prompts."""
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.formkeys import FORM_KEY_LENGTH
from app.images.models import new_uuid
from app.timeutil import utcnow


class Batch(db.Model):
    """One preset or prompt applied to a selection of a listing's photos: one generation per photo."""

    __tablename__ = "batches"
    __table_args__ = (
        sa.Index("ix_batches_project_created", "project_id", "created_at"),
        sa.UniqueConstraint("project_id", "form_key", name="uq_batches_project_form_key"),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_uuid)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id", ondelete="CASCADE"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    preset: Mapped[str | None] = mapped_column(sa.String(64))
    prompt: Mapped[str] = mapped_column(sa.Text, default="")
    photo_count: Mapped[int] = mapped_column(default=0)
    credits: Mapped[int] = mapped_column(default=0)
    # The key of the page's apply form that started it: the same confirm sent again answers this batch.
    form_key: Mapped[str | None] = mapped_column(sa.String(FORM_KEY_LENGTH))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SavedPreset(db.Model):
    """A prompt that worked, saved under a name for everyone in the workspace."""

    __tablename__ = "saved_presets"
    __table_args__ = (sa.UniqueConstraint("workspace_id", "name", name="uq_saved_presets_workspace_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(sa.ForeignKey("workspaces.id", ondelete="CASCADE"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(sa.String(80))
    prompt: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
