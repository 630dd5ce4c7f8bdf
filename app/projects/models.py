"""Workspaces, their members and their projects."""
import base64
import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.timeutil import utcnow

PROJECT_KINDS = ("listing", "api")


def new_webhook_secret() -> str:
    """A Standard Webhooks signing secret: whsec_ and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class Workspace(db.Model):
    __tablename__ = "workspaces"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    # Kept equal to the sum of the workspace's ledger rows; a guarded UPDATE on it makes reservations atomic.
    credit_balance: Mapped[int] = mapped_column(default=0)
    # Account settings: the label drawn on results, and the AI service and model tried first.
    watermark_text: Mapped[str | None] = mapped_column(sa.String(80))
    default_provider: Mapped[str | None] = mapped_column(sa.String(32))
    default_model: Mapped[str | None] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # Loaded only where a page shows them, in its query: a template that reached for them would query per row.
    memberships: Mapped[list["Membership"]] = relationship(back_populates="workspace", lazy="raise")
    projects: Mapped[list["Project"]] = relationship(back_populates="workspace", lazy="raise")


class Membership(db.Model):
    __tablename__ = "memberships"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        sa.ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(sa.String(16), default="owner")

    user: Mapped["User"] = relationship(back_populates="memberships", lazy="raise")  # noqa: F821
    workspace: Mapped[Workspace] = relationship(back_populates="memberships", lazy="raise")


class Project(db.Model):
    """A listing (photos of one property) or an API project; owns images, generations and keys."""

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(sa.ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    kind: Mapped[str] = mapped_column(sa.String(16), default="listing")
    address: Mapped[str | None] = mapped_column(sa.String(255))
    room_count: Mapped[int | None]
    default_provider: Mapped[str | None] = mapped_column(sa.String(32))
    # Live URLs: signed with this secret, optionally limited to these origins, with a budget of misses per hour.
    live_secret: Mapped[str] = mapped_column(sa.String(64), default=lambda: secrets.token_hex(32))
    allowed_origins: Mapped[list] = mapped_column(sa.JSON, default=list)
    live_miss_budget: Mapped[int] = mapped_column(default=100)
    # Outgoing callbacks are signed with this secret; after a rotation the previous one signs too for a while.
    webhook_secret: Mapped[str | None] = mapped_column(sa.String(80), default=new_webhook_secret)
    previous_webhook_secret: Mapped[str | None] = mapped_column(sa.String(80))
    webhook_secret_rotated_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    workspace: Mapped[Workspace] = relationship(back_populates="projects")
